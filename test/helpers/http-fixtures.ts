import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureRecord {
  id: number;
  name: string;
  updated_at: string;
  address: { city: string };
}

/** A fault the server answers instead of the page, on the first request(s) of a URL. */
export type Fault =
  { kind: 'status'; status: 500 | 502 | 503 } | { kind: '429'; retryAfter: string } | { kind: 'hang' };

export interface FixtureOptions {
  /** Records served by every listing endpoint. */
  records: FixtureRecord[];
  /** Page size of the paginated endpoints. */
  pageSize?: number;
  /** Faults by request number (1-based, since the log was last cleared), e.g. every third request. */
  faultAt?: (requestNo: number, url: string) => Fault | undefined;
  bearer?: string;
  basic?: { user: string; password: string };
  apiKey?: { name: string; value: string };
  /** Every route (not only /secure) answers 401 without valid credentials. */
  protectAll?: boolean;
}

export interface HttpFixture {
  readonly url: string;
  /** Every request's URL, in order (for asserting retries, params and rate limits). */
  readonly log: { url: string; at: number; status: number }[];
  options: FixtureOptions;
  close(): Promise<void>;
}

export function makeRecords(n: number, from = 1, updatedAt = '2024-01-01T00:00:00Z'): FixtureRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: from + i,
    name: `item ${from + i}`,
    updated_at: new Date(Date.parse(updatedAt) + (from + i) * 60_000).toISOString(),
    address: { city: `city ${(from + i) % 7}` },
  }));
}

/**
 * A JSON API on node:http serving the same records under every paginator style (offset, page
 * number, cursor, json link, Link header, single page), parent->child items, auth-protected and
 * broken endpoints (HTML, timeouts), with scripted 500 / 429 + Retry-After faults.
 */
export async function startHttpFixture(options: FixtureOptions): Promise<HttpFixture> {
  const log: HttpFixture['log'] = [];
  const fixture: HttpFixture = {
    url: '',
    log,
    options,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const entry = { url: `${url.pathname}${url.search}`, at: Date.now(), status: 200 };
    log.push(entry);
    // Numbered within the log, so a test that clears the log counts its own requests.
    const requestNo = log.length;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const fault = fixture.options.faultAt?.(requestNo, entry.url);
    if (fault?.kind === 'hang') return; // never answers: the client's timeout must fire
    if (fault?.kind === 'status') return send(fault.status, { error: 'temporarily broken' });
    if (fault?.kind === '429') return send(429, { error: 'slow down' }, { 'retry-after': fault.retryAfter });
    route(fixture.options, url, req, res, send);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  (fixture as { url: string }).url = `http://127.0.0.1:${port}`;
  return fixture;
}

function route(
  o: FixtureOptions,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  send: (status: number, body: unknown, headers?: Record<string, string>) => void,
): void {
  const size = o.pageSize ?? 10;
  const since = url.searchParams.get('since');
  const all = since ? o.records.filter((r) => r.updated_at >= since) : o.records;
  const q = (k: string, d: number): number => Number(url.searchParams.get(k) ?? d);
  const path = url.pathname;
  const auth = req.headers['authorization'] ?? '';
  const authorized =
    (o.bearer !== undefined && auth === `Bearer ${o.bearer}`) ||
    (o.basic !== undefined &&
      auth === `Basic ${Buffer.from(`${o.basic.user}:${o.basic.password}`).toString('base64')}`) ||
    (o.apiKey !== undefined &&
      (req.headers[o.apiKey.name.toLowerCase()] === o.apiKey.value ||
        url.searchParams.get(o.apiKey.name) === o.apiKey.value));
  if (o.protectAll && !authorized) return send(401, { error: 'bad credentials' });
  if (path === '/offset') {
    const offset = q('offset', 0);
    const limit = q('limit', size);
    return send(200, { data: all.slice(offset, offset + limit), total: all.length });
  }
  if (path === '/pages') {
    const page = q('page', 1);
    return send(200, {
      results: all.slice((page - 1) * size, page * size),
      total_pages: Math.ceil(all.length / size),
    });
  }
  if (path === '/cursor') {
    const start = q('cursor', 0);
    const next = start + size < all.length ? String(start + size) : null;
    return send(200, { items: all.slice(start, start + size), meta: { next_cursor: next } });
  }
  if (path === '/json-link') {
    const p = q('p', 0);
    const next =
      (p + 1) * size < all.length ? `/json-link?p=${p + 1}${since ? `&since=${since}` : ''}` : null;
    return send(200, { data: all.slice(p * size, (p + 1) * size), links: { next } });
  }
  if (path === '/header-link') {
    const p = q('p', 0);
    const headers: Record<string, string> = {};
    if ((p + 1) * size < all.length)
      headers['link'] =
        `<${url.origin}/header-link?p=0>; rel="first", <${url.origin}/header-link?p=${p + 1}>; rel="next"`;
    return send(200, all.slice(p * size, (p + 1) * size), headers);
  }
  if (path === '/single') return send(200, { data: all });
  const items = /^\/orders\/(\d+)\/items$/.exec(path);
  if (items) {
    const id = Number(items[1]);
    if (!o.records.some((r) => r.id === id)) return send(404, { error: 'no such order' });
    return send(
      200,
      Array.from({ length: id % 3 }, (_, i) => ({ sku: `sku-${id}-${i}`, qty: i + 1 })),
    );
  }
  if (path === '/secure') {
    return authorized ? send(200, { data: all.slice(0, 3) }) : send(401, { error: 'bad credentials' });
  }
  if (path === '/html') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please log in</body></html>');
    return;
  }
  send(404, { error: `no route ${path}` });
}
