import { ingestError } from '../../errors.js';
import { compareCursor, cursorBounds } from '../../landing/cursor.js';
import type { Redactor } from '../../redact.js';
import type {
  Chunk,
  DiscoveredStream,
  ReadRequest,
  RejectedRecord,
  SourceConnector,
  SourceRecord,
  StreamRead,
  StreamSpec,
} from '../../types.js';
import { HttpClient } from './http-client.js';
import { makePaginator, selectRecords } from './paginators.js';
import {
  parseEndpoint,
  parseRestConnection,
  type EndpointConfig,
  type RestConnection,
} from './rest-config.js';

/** Values a placeholder can name: `{incremental.start_value}`, `{parent.id}`. */
export interface PlaceholderScope {
  readonly incremental?: {
    readonly start_value?: string | number;
    readonly end_value?: string | number;
    readonly last_value?: string | number;
  };
  readonly parent?: Readonly<Record<string, unknown>>;
}

const PLACEHOLDER = /\{(incremental|parent)\.([A-Za-z0-9_.]+)\}/g;

function lookup(scope: PlaceholderScope, root: string, path: string): unknown {
  let v: unknown = root === 'incremental' ? scope.incremental : scope.parent;
  for (const p of path.split('.'))
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

/**
 * Fills `{incremental.start_value}`, `{incremental.end_value}`, `{incremental.last_value}` and
 * `{parent.<field>}` in a string; undefined when a placeholder has no value (the param is left out).
 */
export function fillPlaceholders(text: string, scope: PlaceholderScope, encode = false): string | undefined {
  let missing = false;
  const out = text.replace(PLACEHOLDER, (_m, root: string, path: string) => {
    const v = lookup(scope, root, path);
    if (v === undefined || v === null) {
      missing = true;
      return '';
    }
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return encode ? encodeURIComponent(s) : s;
  });
  return missing ? undefined : out;
}

/** The placeholder fields of `{parent.x}` an endpoint uses (copied into child records as `_parent_x`). */
function parentFields(ep: EndpointConfig): string[] {
  const texts = [ep.path, ...Object.values(ep.params ?? {}).map(String), JSON.stringify(ep.json ?? null)];
  const out = new Set<string>();
  for (const t of texts)
    for (const m of t.matchAll(PLACEHOLDER)) if (m[1] === 'parent' && m[2]) out.add(m[2]);
  return [...out];
}

interface Page {
  readonly records: unknown[];
  readonly where: string;
}

/**
 * REST APIs: declarative endpoints (path, params with placeholders, JSONPath data selector,
 * paginator, parent endpoint). Records go to the landing as JSON; the landing infers, evolves,
 * dead-letters and tracks the cursor field.
 */
export class RestSource implements SourceConnector {
  private readonly conn: RestConnection;
  private readonly http: HttpClient;

  constructor(
    connection: Readonly<Record<string, unknown>>,
    private readonly redactor: Redactor,
    private readonly spec: Pick<StreamSpec, 'sourceName' | 'at'>,
  ) {
    this.conn = parseRestConnection(connection, spec.sourceName, spec.at);
    this.http = new HttpClient(this.conn, redactor, `source ${spec.sourceName}`);
  }

  /** Requests made so far (rate-limit and retry tests read it). */
  get requests(): number {
    return this.http.requests;
  }

  /** The records of every page of an endpoint, page by page. */
  async *pages(ep: EndpointConfig, scope: PlaceholderScope, signal?: AbortSignal): AsyncGenerator<Page> {
    const path = fillPlaceholders(ep.path, scope, true);
    if (path === undefined)
      throw ingestError(
        'invalidConfig',
        `source ${this.spec.sourceName}: endpoint path '${ep.path}' has a placeholder without a value`,
        {
          at: this.spec.at,
          hint: 'a {parent.<field>} placeholder needs the field in every parent record; {incremental.*} needs `incremental:` on the stream',
        },
      );
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(ep.params ?? {})) {
      const filled = typeof v === 'string' ? fillPlaceholders(v, scope) : String(v);
      if (filled !== undefined) params[k] = filled;
    }
    const body = ep.json === undefined ? undefined : fillJson(ep.json, scope);
    const paginator = makePaginator(ep.paginator);
    let url = this.http.url(path, { ...params, ...paginator.first() });
    for (let pageNo = 1; ; pageNo++) {
      signal?.throwIfAborted();
      const res = await this.http.request({
        url,
        method: ep.method ?? 'GET',
        ...(body !== undefined ? { body } : {}),
      });
      const records = selectRecords(res.body, ep.data_selector);
      yield { records, where: `page ${pageNo} (${this.redactor.text(shortUrl(url))})` };
      const next = paginator.next({
        url: res.url,
        headers: res.headers,
        body: res.body,
        count: records.length,
      });
      if (next === null) return;
      url = 'url' in next ? next.url : this.http.url(path, { ...params, ...next.params });
    }
  }

  async discover(): Promise<DiscoveredStream[]> {
    return [];
  }

  async read(request: ReadRequest): Promise<StreamRead> {
    const { spec } = request;
    const ep = parseEndpoint(spec);
    const inc = spec.incremental;
    const bounds = inc
      ? cursorBounds(inc, request.cursor, `${spec.sourceName}.${spec.streamName}`)
      : undefined;
    const incremental: PlaceholderScope['incremental'] = inc
      ? {
          ...(bounds?.lower !== undefined ? { start_value: bounds.lower } : {}),
          ...(bounds?.upper !== undefined ? { end_value: bounds.upper } : {}),
          ...(request.cursor?.value !== undefined && request.cursor.value !== null
            ? { last_value: request.cursor.value }
            : {}),
        }
      : undefined;
    const scope: PlaceholderScope = incremental ? { incremental } : {};
    const pages = this.pages.bind(this);
    const inWindow = (value: Readonly<Record<string, unknown>>): boolean => {
      if (!inc || !bounds) return true;
      const v = value[inc.cursorField];
      if (typeof v !== 'string' && typeof v !== 'number') return true;
      // The API may ignore the filter params: the window is applied here too.
      if (bounds.lower !== undefined && compareCursor(v, bounds.lower) < 0) return false;
      if (bounds.upper !== undefined && compareCursor(v, bounds.upper) > 0) return false;
      return true;
    };

    async function* records(): AsyncGenerator<{ rec?: SourceRecord; bad?: RejectedRecord }> {
      const emit = function* (page: Page, extra: Readonly<Record<string, unknown>>) {
        let i = 0;
        for (const r of page.records) {
          i++;
          const at = `${page.where} item ${i}`;
          if (r === null || typeof r !== 'object' || Array.isArray(r)) {
            yield {
              bad: {
                reason: `the data selector matched a ${r === null ? 'null' : Array.isArray(r) ? 'array' : typeof r}, not an object`,
                payload: JSON.stringify(r) ?? String(r),
                at,
              },
            };
            continue;
          }
          const value = { ...extra, ...(r as Record<string, unknown>) };
          if (inWindow(value)) yield { rec: { value, at } };
        }
      };
      if (!ep.parent) {
        for await (const page of pages(ep, scope, request.signal)) yield* emit(page, {});
        return;
      }
      const fields = parentFields(ep);
      const { parent, ...child } = ep;
      for await (const parentPage of pages(parent, scope, request.signal)) {
        for (const p of parentPage.records) {
          if (p === null || typeof p !== 'object' || Array.isArray(p)) continue;
          const rec = p as Record<string, unknown>;
          const extra: Record<string, unknown> = {};
          for (const f of fields)
            extra[`_parent_${f.replace(/\./g, '_')}`] = lookup({ parent: rec }, 'parent', f);
          for await (const page of pages(child, { ...scope, parent: rec }, request.signal))
            yield* emit(page, extra);
        }
      }
    }

    async function* chunks(): AsyncGenerator<Chunk> {
      let recs: SourceRecord[] = [];
      let bad: RejectedRecord[] = [];
      for await (const r of records()) {
        if (r.rec) recs.push(r.rec);
        if (r.bad) bad.push(r.bad);
        if (recs.length + bad.length >= request.chunkRows) {
          yield { kind: 'records', records: recs, rejected: bad };
          recs = [];
          bad = [];
        }
      }
      if (recs.length + bad.length > 0) yield { kind: 'records', records: recs, rejected: bad };
    }
    return { chunks: chunks(), cursorPatch: () => ({}) };
  }

  async close(): Promise<void> {}
}

function fillJson(value: unknown, scope: PlaceholderScope): unknown {
  if (typeof value === 'string') return fillPlaceholders(value, scope) ?? null;
  if (Array.isArray(value)) return value.map((v) => fillJson(v, scope));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fillJson(v, scope);
    return out;
  }
  return value;
}

function shortUrl(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}
