import { errorMessage } from '../../../core/errors.js';
import { ingestError } from '../../errors.js';
import type { Redactor } from '../../redact.js';
import type { RestConnection } from './rest-config.js';

export interface HttpRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: unknown;
}

export interface HttpResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** Statuses worth another try: the server is overloaded or briefly broken. */
function retryable(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** `Retry-After` in seconds or as an HTTP-date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Full-jitter exponential backoff (AWS architecture blog): random in [0, min(cap, base * 2^n)). */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** (attempt - 1)));
}

const SNIPPET = 120;

/**
 * Fetch with the source's policy: auth, a requests-per-second limit shared by every request of
 * the source, a per-request timeout, and retries with jittered backoff on 5xx, 429, 408,
 * timeouts and network errors (honouring Retry-After). 401/403 fail at once.
 */
export class HttpClient {
  private nextSlot = 0;
  requests = 0;

  constructor(
    private readonly conn: RestConnection,
    private readonly redactor: Redactor,
    private readonly where: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    const a = conn.auth;
    if (a?.type === 'bearer') redactor.add(a.token);
    if (a?.type === 'basic') {
      redactor.add(a.password);
      redactor.add(Buffer.from(`${a.username}:${a.password}`).toString('base64'));
    }
    if (a?.type === 'api_key') redactor.add(a.value);
  }

  /** Resolves a path (or absolute URL) against the base URL and adds query-string auth. */
  url(pathOrUrl: string, params: Readonly<Record<string, string>> = {}): string {
    const base = this.conn.baseUrl.endsWith('/') ? this.conn.baseUrl : `${this.conn.baseUrl}/`;
    const u = new URL(/^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : pathOrUrl.replace(/^\//, ''), base);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  }

  private withAuth(url: string): { url: string; headers: Record<string, string> } {
    const headers: Record<string, string> = { accept: 'application/json', ...this.conn.headers };
    const a = this.conn.auth;
    if (a?.type === 'bearer') headers['authorization'] = `Bearer ${a.token}`;
    else if (a?.type === 'basic')
      headers['authorization'] = `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    else if (a?.type === 'api_key') {
      if (a.in === 'query') {
        const u = new URL(url);
        u.searchParams.set(a.name, a.value);
        return { url: u.toString(), headers };
      }
      headers[a.name] = a.value;
    }
    return { url, headers };
  }

  private async throttle(): Promise<void> {
    if (!this.conn.rateLimit) return;
    const gap = 1000 / this.conn.rateLimit;
    const now = Date.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + gap;
    if (at > now) await this.sleep(at - now);
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const { url, headers } = this.withAuth(req.url);
    const shown = this.redactor.text(req.url);
    let last = '';
    for (let attempt = 1; attempt <= this.conn.attempts; attempt++) {
      await this.throttle();
      this.requests++;
      let res: Response;
      try {
        res = await fetch(url, {
          method: req.method,
          headers: req.body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
          signal: AbortSignal.timeout(this.conn.timeoutMs),
          redirect: 'follow',
        });
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        last = timedOut
          ? `no answer within ${this.conn.timeoutMs} ms`
          : this.redactor.text(errorMessage((err as { cause?: unknown }).cause ?? err));
        if (attempt < this.conn.attempts)
          await this.sleep(backoffDelay(attempt, this.conn.backoffMs, this.conn.maxBackoffMs));
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw ingestError(
          'authFailed',
          `${this.where}: ${req.method} ${shown} was refused with HTTP ${res.status} (${res.statusText || 'unauthorized'}); not retried`,
          {
            hint: 'check the credentials in the source connection `auth:` (token, user/password or API key)',
          },
        );
      }
      if (retryable(res.status)) {
        const text = await res.text().catch(() => '');
        last = `HTTP ${res.status}${text ? `: ${snippet(this.redactor.text(text))}` : ''}`;
        if (attempt < this.conn.attempts) {
          const wait = parseRetryAfter(res.headers.get('retry-after'));
          await this.sleep(
            wait !== undefined
              ? Math.min(wait, this.conn.maxBackoffMs)
              : backoffDelay(attempt, this.conn.backoffMs, this.conn.maxBackoffMs),
          );
        }
        continue;
      }
      const text = await res.text();
      if (res.status >= 400) {
        throw ingestError(
          'httpFailed',
          `${this.where}: ${req.method} ${shown} answered HTTP ${res.status}: ${snippet(this.redactor.text(text))}`,
          { hint: 'check the endpoint path and params of the stream (client errors are not retried)' },
        );
      }
      return {
        url: res.url || url,
        status: res.status,
        headers: res.headers,
        body: this.parse(text, shown, res),
      };
    }
    throw ingestError(
      last.startsWith('HTTP') || last.startsWith('no answer') ? 'httpFailed' : 'unreachable',
      `${this.where}: ${req.method} ${shown} failed after ${this.conn.attempts} attempts: ${last}`,
      {
        hint:
          last.startsWith('HTTP') || last.startsWith('no answer')
            ? 'the API keeps failing or is too slow: retry later, or raise `timeout:` / `retries.attempts:` in the connection'
            : 'check base_url and that the API is reachable from this machine',
      },
    );
  }

  private parse(text: string, shown: string, res: Response): unknown {
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      const type = res.headers.get('content-type') ?? 'no content type';
      throw ingestError(
        'badResponse',
        `${this.where}: ${shown} did not answer JSON (HTTP ${res.status}, ${type}); it begins with: ${JSON.stringify(snippet(this.redactor.text(text)))}`,
        {
          hint: 'check base_url and the endpoint path: an HTML answer is often a login page, a proxy or a wrong URL',
        },
      );
    }
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > SNIPPET ? `${flat.slice(0, SNIPPET)}...` : flat;
}
