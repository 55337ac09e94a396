import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession } from '../src/core/engine.js';
import { isWeirError, type WeirError } from '../src/core/errors.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { parseStreamSettings } from '../src/ingest/config.js';
import { openConnector } from '../src/ingest/connectors.js';
import { landStream, type LoadReport } from '../src/ingest/landing/land.js';
import { Redactor } from '../src/ingest/redact.js';
import { DeltaTable } from '../src/lake/delta/table.js';
import { LocalObjectStore } from '../src/lake/local-object-store.js';
import { makeRecords, startHttpFixture, type Fault, type HttpFixture } from './helpers/http-fixtures.js';

let engine: Engine;
let session: EngineSession;
let server: HttpFixture;
const dirs: string[] = [];

beforeAll(async () => {
  engine = await createDuckDbEngine();
  session = await engine.session();
  server = await startHttpFixture({ records: makeRecords(47), pageSize: 10 });
});
afterAll(async () => {
  session?.close();
  await engine?.close();
  await server?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
afterEach(() => {
  server.options = { records: makeRecords(47), pageSize: 10 };
  server.log.length = 0;
});

const FAST = { retries: { attempts: 4, backoff: '5 ms', max_backoff: '2 seconds' } };

async function land(
  dir: string,
  stream: string,
  table: Record<string, unknown>,
  connection: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<LoadReport> {
  const spec = parseStreamSettings({
    sourceName: 'api',
    streamName: stream,
    source: { type: 'rest', connection: { base_url: server.url, ...FAST, ...connection } },
    table,
    at: { file: 'sources/api.yml', line: 3 },
  });
  const redactor = new Redactor();
  const connector = openConnector(spec, { env, redactor, projectRoot: dir });
  try {
    return await landStream({ lake: new LocalObjectStore(dir), session }, { spec, connector, runId: 'run' });
  } catch (err) {
    throw redactor.error(err);
  } finally {
    await connector.close();
  }
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'weir-rest-'));
  dirs.push(d);
  return d;
}

async function scan(dir: string, path: string, order = 'id'): Promise<Record<string, unknown>[]> {
  const t = await DeltaTable.open(new LocalObjectStore(dir), path, session);
  return (await session.query(`SELECT * FROM (${t.scanSql(await t.snapshot())}) ORDER BY ${order}`))
    .rows as Record<string, unknown>[];
}

async function failure(p: Promise<unknown>): Promise<WeirError> {
  try {
    await p;
  } catch (err) {
    if (isWeirError(err)) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

const STYLES: [string, Record<string, unknown>][] = [
  ['offset', { path: '/offset', paginator: { type: 'offset', limit: 10, total_path: '$.total' } }],
  [
    'page_number',
    {
      path: '/pages',
      data_selector: '$.results',
      paginator: { type: 'page_number', total_path: '$.total_pages' },
    },
  ],
  [
    'cursor',
    {
      path: '/cursor',
      data_selector: '$.items[*]',
      paginator: { type: 'cursor', cursor_path: '$.meta.next_cursor', cursor_param: 'cursor' },
    },
  ],
  ['json_link', { path: '/json-link', paginator: { type: 'json_link', next_url_path: '$.links.next' } }],
  ['header_link', { path: '/header-link', paginator: { type: 'header_link' } }],
  ['single_page', { path: '/single', data_selector: '$.data[*]' }],
];

describe('rest source', () => {
  it('lands every record exactly once in each pagination style, through 500s and 429s', async () => {
    // Every third request fails once: alternately a 500 and a 429 with Retry-After 0.
    const failed = new Set<string>();
    let n = 0;
    server.options.faultAt = (no, url): Fault | undefined => {
      if (no % 3 !== 0 || failed.has(url)) return undefined;
      failed.add(url);
      return ++n % 2 === 0 ? { kind: 'status', status: 500 } : { kind: '429', retryAfter: '0' };
    };
    for (const [style, endpoint] of STYLES) {
      const dir = await tempDir();
      const r = await land(dir, style, { primary_key: 'id', write_disposition: 'append', endpoint });
      expect(r, style).toMatchObject({ status: 'loaded', rowsRead: 47, rowsLoaded: 47, rowsDeadLettered: 0 });
      const rows = await scan(dir, `raw/api__${style}`);
      expect(
        rows.map((x) => x['id']),
        style,
      ).toEqual(Array.from({ length: 47 }, (_, i) => i + 1));
      expect(rows[0]).toMatchObject({ name: 'item 1', address__city: 'city 1' });
    }
    const faults = server.log.filter((l) => l.status >= 429);
    expect(faults.some((l) => l.status === 500)).toBe(true);
    expect(faults.some((l) => l.status === 429)).toBe(true);
  });

  it('loads incrementally: the start value fills the params, re-runs land only new and updated records', async () => {
    const dir = await tempDir();
    const table = {
      primary_key: 'id',
      incremental: { cursor_field: 'updated_at', initial_value: '2024-01-01T00:00:00Z' },
      endpoint: {
        path: '/offset',
        params: { since: '{incremental.start_value}' },
        paginator: { type: 'offset', limit: 10 },
      },
    };
    const first = await land(dir, 'orders', table);
    expect(first).toMatchObject({ rowsLoaded: 47 });
    expect(server.log[0]?.url).toContain('since=2024-01-01T00%3A00%3A00.000000Z');
    // Two records change, three are new.
    const changed = makeRecords(47);
    for (const id of [5, 9]) {
      const rec = changed[id - 1];
      if (rec) {
        rec.name = `changed ${id}`;
        rec.updated_at = '2024-02-01T00:00:00.000Z';
      }
    }
    server.options.records = [...changed, ...makeRecords(3, 48, '2024-01-20T00:00:00Z')];
    server.log.length = 0;
    const second = await land(dir, 'orders', table);
    // The inclusive boundary re-reads the last record: already landed, not duplicated.
    expect(second).toMatchObject({ rowsRead: 6, rowsLoaded: 5, rowsAlreadyLanded: 1 });
    expect(server.log[0]?.url).toContain(`since=${encodeURIComponent(String(first.cursor?.value))}`);
    const staged = await scan(dir, 'staging/api__orders');
    expect(staged).toHaveLength(50);
    expect(staged.filter((s) => String(s['name']).startsWith('changed')).map((s) => s['id'])).toEqual([5, 9]);
    expect(await scan(dir, 'raw/api__orders')).toHaveLength(52);
    const third = await land(dir, 'orders', table);
    expect(third).toMatchObject({ status: 'up_to_date', rowsRead: 2, rowsLoaded: 0, rowsAlreadyLanded: 2 });
  });

  it('waits as Retry-After says (seconds and HTTP-date) and keeps to the requests-per-second limit', async () => {
    let served = 0;
    server.options.faultAt = (no) => {
      if (no === 1) return { kind: '429', retryAfter: '1' };
      if (no === 2) {
        served = Date.now();
        return { kind: '429', retryAfter: new Date(Date.now() + 2000).toUTCString() };
      }
      return undefined;
    };
    const dir = await tempDir();
    const t0 = Date.now();
    await land(dir, 'single', { endpoint: { path: '/single' } });
    const times = server.log.map((l) => l.at);
    expect(times).toHaveLength(3);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(950);
    // An HTTP-date has whole seconds: the wait is between 1 and 2 seconds.
    expect((times[2] ?? 0) - served).toBeGreaterThanOrEqual(900);
    expect(Date.now() - t0).toBeLessThan(6000);

    server.options.faultAt = undefined;
    server.log.length = 0;
    await land(await tempDir(), 'paged', { endpoint: STYLES[0]?.[1] }, { rate_limit: 20 });
    const at = server.log.map((l) => l.at);
    expect(at).toHaveLength(5);
    // 5 requests at 20/s: at least 4 gaps of 50 ms.
    expect((at[4] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(190);
  });

  it('authenticates with a bearer token, basic auth and an API key in a header or the query', async () => {
    server.options = {
      ...server.options,
      bearer: 'tok-secret-1',
      basic: { user: 'ann', password: 'pw-secret-2' },
      apiKey: { name: 'X-Api-Key', value: 'key-secret-3' },
    };
    const auths = [
      { type: 'bearer', token: "{{ env_var('API_TOKEN') }}" },
      { type: 'basic', username: 'ann', password: 'pw-secret-2' },
      { type: 'api_key', name: 'X-Api-Key', value: 'key-secret-3' },
      { type: 'api_key', name: 'X-Api-Key', value: 'key-secret-3', in: 'query' },
    ];
    for (const auth of auths) {
      const r = await land(
        await tempDir(),
        'secure',
        { endpoint: '/secure' },
        { auth },
        { API_TOKEN: 'tok-secret-1' },
      );
      expect(r.rowsLoaded, auth.type).toBe(3);
    }
    // Wrong credentials: WEIR-I003 at once (one request, no retry), no secret in the message.
    for (const auth of [
      { type: 'bearer', token: 'wrong-token-value' },
      { type: 'basic', username: 'ann', password: 'wrong-password' },
      { type: 'api_key', name: 'X-Api-Key', value: 'wrong-key-value', in: 'query' },
    ]) {
      server.log.length = 0;
      const err = await failure(land(await tempDir(), 'secure', { endpoint: '/secure' }, { auth }));
      expect(err.code).toBe('WEIR-I003');
      expect(err.message).toContain('HTTP 401');
      expect(server.log).toHaveLength(1);
      const text = `${err.message} ${err.hint ?? ''}`;
      for (const secret of ['wrong-token-value', 'wrong-password', 'wrong-key-value'])
        expect(text).not.toContain(secret);
    }
  });

  it('reports an HTML answer quoting its first bytes, a timeout after the retries, and an unreachable host', async () => {
    const html = await failure(land(await tempDir(), 'html', { endpoint: '/html' }));
    expect(html.code).toBe('WEIR-I008');
    expect(html.message).toContain('<!DOCTYPE html><html><head><title>Sign in');
    expect(html.message).toContain('text/html');

    server.options.faultAt = () => ({ kind: 'hang' });
    server.log.length = 0;
    const t0 = Date.now();
    const slow = await failure(
      land(
        await tempDir(),
        'slow',
        { endpoint: '/single' },
        { timeout: '150 ms', retries: { attempts: 2, backoff: '5 ms' } },
      ),
    );
    expect(slow.code).toBe('WEIR-I009');
    expect(slow.message).toMatch(/failed after 2 attempts: no answer within 150 ms/);
    expect(server.log).toHaveLength(2);
    expect(Date.now() - t0).toBeLessThan(3000);

    server.options.faultAt = undefined;
    const closed = await startHttpFixture({ records: [] });
    const deadUrl = closed.url;
    await closed.close();
    const down = await failure(
      land(
        await tempDir(),
        'down',
        { endpoint: '/x' },
        { base_url: deadUrl, retries: { attempts: 2, backoff: '5 ms' } },
      ),
    );
    expect(down.code).toBe('WEIR-I002');
    expect(down.hint).toContain('base_url');

    const notFound = await failure(land(await tempDir(), 'nf', { endpoint: '/nope' }));
    expect(notFound.code).toBe('WEIR-I009');
    expect(notFound.message).toContain('HTTP 404');
  });

  it('reads child endpoints for each parent record and dead-letters non-object records with their page', async () => {
    server.options.records = makeRecords(12);
    const dir = await tempDir();
    const r = await land(dir, 'order_items', {
      endpoint: {
        path: '/orders/{parent.id}/items',
        parent: { path: '/offset', paginator: { type: 'offset', limit: 5 } },
      },
    });
    // Order n has n % 3 items.
    const expected = makeRecords(12).flatMap((o) =>
      Array.from({ length: o.id % 3 }, (_, i) => `sku-${o.id}-${i}`),
    );
    expect(r.rowsLoaded).toBe(expected.length);
    const rows = await scan(dir, 'raw/api__order_items', 'sku');
    expect(rows.map((x) => x['sku'])).toEqual([...expected].sort());
    expect(rows.find((x) => x['sku'] === 'sku-4-0')).toMatchObject({ _parent_id: 4, qty: 1 });

    const bad = await tempDir();
    const r2 = await land(bad, 'names', { endpoint: { path: '/single', data_selector: '$.data[*].name' } });
    expect(r2).toMatchObject({ rowsRead: 12, rowsLoaded: 0, rowsDeadLettered: 12 });
    const dlq = await scan(bad, 'dlq/api__names', 'location');
    expect(dlq[0]?.['reason']).toBe('the data selector matched a string, not an object');
    expect(dlq[0]?.['location']).toBe('page 1 (/single) item 1');
  });

  it('rejects invalid endpoint and connection settings with WEIR-I001', async () => {
    const e1 = await failure(
      land(await tempDir(), 'x', { endpoint: { path: '/a', paginator: { type: 'offset' } } }),
    );
    expect(e1.code).toBe('WEIR-I001');
    expect(e1.message).toContain("'paginator");
    const e2 = await failure(land(await tempDir(), 'x', { endpoint: '/a' }, { base_url: 'not a url' }));
    expect(e2.code).toBe('WEIR-I001');
    expect(e2.message).toContain("'base_url'");
  });
});
