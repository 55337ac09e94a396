import { WeirError, isWeirError } from '../core/errors.js';

const MASK = '***';
/** Secrets shorter than this are not masked: masking "a" would shred every message. */
const MIN_SECRET_LENGTH = 4;

/**
 * Remembers the secrets a source was configured with (rendered env vars, passwords, tokens, the
 * credential part of URLs) and masks them in any text, error or structured value before it leaves
 * the ingest layer: logs, events, node results and errors all pass through one Redactor.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined | null): void {
    if (!secret || secret.length < MIN_SECRET_LENGTH) return;
    this.secrets.add(secret);
    // Drivers and URLs often show a secret percent-encoded or decoded.
    try {
      const decoded = decodeURIComponent(secret);
      if (decoded.length >= MIN_SECRET_LENGTH) this.secrets.add(decoded);
    } catch {
      /* not percent-encoded */
    }
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) this.secrets.add(encoded);
  }

  /** Adds a URL's password (and the whole URL when it carries credentials). */
  addUrl(url: string | undefined): void {
    if (!url) return;
    try {
      const u = new URL(url);
      if (u.password) {
        this.add(u.password);
        this.add(url);
      }
    } catch {
      /* not a URL */
    }
  }

  get size(): number {
    return this.secrets.size;
  }

  text(value: string): string {
    let out = redactUrlCredentials(value);
    // Longest first, so a secret that contains another is masked whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(MASK);
    return out;
  }

  value<T>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.value(v)) as T;
    if (value && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value))
        out[k] = SECRET_KEY.test(k) && typeof v === 'string' ? MASK : this.value(v);
      return out as T;
    }
    return value;
  }

  /** A WeirError whose message, hint and data carry no secret (the cause chain is dropped). */
  error(err: unknown): WeirError {
    if (isWeirError(err)) {
      return new WeirError(err.code, this.text(err.message), {
        ...(err.hint ? { hint: this.text(err.hint) } : {}),
        ...(err.at ? { at: err.at } : {}),
        ...(err.node ? { node: err.node } : {}),
        ...(err.data ? { data: this.value(err.data) } : {}),
      });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new WeirError('WEIR-I016', this.text(message), {
      hint: 'this is unexpected; rerun with --debug and report it',
    });
  }
}

const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|authorization/i;

/** `scheme://user:password@host` -> `scheme://user:***@host`, wherever it appears in a text. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, `$1:${MASK}@`);
}
