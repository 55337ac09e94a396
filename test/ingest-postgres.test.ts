import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession } from '../src/core/engine.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { parseStreamSettings } from '../src/ingest/config.js';
import { ConversionEngines, conversionOptions } from '../src/ingest/landing/conversion.js';
import { landStream, type LandingOptions } from '../src/ingest/landing/land.js';
import { Redactor } from '../src/ingest/redact.js';
import { PostgresSource } from '../src/ingest/sources/postgres/postgres-source.js';
import type { StreamSpec } from '../src/ingest/types.js';
import { DeltaTable } from '../src/lake/delta/table.js';
import { LocalObjectStore } from '../src/lake/local-object-store.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

let pgs: TestPostgres;
let engine: Engine;
let session: EngineSession;

beforeAll(async () => {
  pgs = await startPostgres();
  engine = await createDuckDbEngine();
  session = await engine.session();
}, 60_000);
afterAll(async () => {
  session?.close();
  await engine?.close();
  await pgs?.stop();
});

function spec(table: Record<string, unknown>): StreamSpec {
  return parseStreamSettings({
    sourceName: 'pg',
    streamName: 'orders',
    source: { type: 'postgres', connection: { url: pgs.url } },
    table,
    at: { file: 'sources/pg.yml', line: 4 },
  });
}

async function scan(dir: string, path: string, order: string): Promise<Record<string, unknown>[]> {
  const t = await DeltaTable.open(new LocalObjectStore(dir), path, session);
  return (await session.query(`SELECT * FROM (${t.scanSql(await t.snapshot())}) ORDER BY ${order}`))
    .rows as Record<string, unknown>[];
}

describe('postgres source', () => {
  it('maps types faithfully', async () => {
    await pgs.query(`CREATE TYPE mood AS ENUM ('happy', 'sad');
      CREATE TABLE types (id int PRIMARY KEY, n numeric(20,6), big numeric, ts timestamptz, naive timestamp, d date,
        j jsonb, arr int[], tags text[], u uuid, b bytea, m mood, f float8, ok boolean, t text)`);
    await pgs.query(`INSERT INTO types VALUES
      (1, 12345678901234.123456, 123456789012345678901234567890.5, '2024-03-01 12:00:00.123456+02', '2024-03-01 08:00:00', '2024-02-29',
       '{"a": [1, {"b": null}]}', '{1,2,3}', '{"x,y","q\\"uote"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10', 'sad', 1.5e300, true, 'line1
line2, "quoted"'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '')`);
    const dir = await mkdtemp(join(tmpdir(), 'weir-pgt-'));
    const src = new PostgresSource({ url: pgs.url }, new Redactor(), 'pg');
    try {
      const s = parseStreamSettings({
        sourceName: 'pg',
        streamName: 'types',
        source: { type: 'postgres' },
        // One record per COPY chunk: the quoted multi-line text must not be cut in two.
        table: { chunk_rows: 1 },
        at: { file: 'x.yml' },
      });
      const r = await landStream(
        { lake: new LocalObjectStore(dir), session },
        { spec: s, connector: src, runId: 'r' },
      );
      expect(r).toMatchObject({ rowsRead: 2, rowsLoaded: 2 });
      const t = await DeltaTable.open(new LocalObjectStore(dir), 'raw/pg__types', session);
      const types = Object.fromEntries(t.columns(await t.snapshot()).map((c) => [c.name, c.type]));
      expect(types).toMatchObject({
        n: 'DECIMAL(20,6)',
        big: 'VARCHAR',
        ts: 'TIMESTAMP WITH TIME ZONE',
        d: 'DATE',
        arr: 'INTEGER[]',
        tags: 'VARCHAR[]',
        b: 'BLOB',
        m: 'VARCHAR',
        u: 'VARCHAR',
      });
      const res = await session.query(
        `SELECT n::VARCHAR n, big, strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') ts, strftime(naive AT TIME ZONE 'UTC', '%H:%M') naive, d::VARCHAR d, j, arr, tags, u, hex(b) b, m, f, ok, t
           FROM (${t.scanSql(await t.snapshot())}) ORDER BY id`,
      );
      expect(res.rows[0]).toEqual({
        n: '12345678901234.123456',
        big: '123456789012345678901234567890.5',
        ts: '2024-03-01 10:00:00.123456',
        naive: '08:00',
        d: '2024-02-29',
        j: '{"a": [1, {"b": null}]}',
        arr: [1, 2, 3],
        tags: ['x,y', 'q"uote'],
        u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        b: '00FF10',
        m: 'sad',
        f: 1.5e300,
        ok: true,
        t: 'line1\nline2, "quoted"',
      });
      expect(res.rows[1]).toMatchObject({ n: null, ts: null, arr: null, b: null, t: '' });
      const found = await src.discover();
      expect(found.find((d) => d.name === 'types')).toMatchObject({ primaryKey: ['id'] });
    } finally {
      await src.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('incremental with lookback: inserts, updates and late commits all land exactly once after merge', async () => {
    await pgs.query(
      `CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL, amount numeric(12,2), updated_at timestamptz NOT NULL)`,
    );
    await pgs.query(
      `INSERT INTO orders SELECT g, 'new', g * 1.25, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 100) g`,
    );
    const dir = await mkdtemp(join(tmpdir(), 'weir-pgi-'));
    const opts: LandingOptions = { lake: new LocalObjectStore(dir), session };
    const s = spec({
      primary_key: 'id',
      incremental: { cursor_field: 'updated_at', lookback: '1 hour', initial_value: '2023-12-31T00:00:00Z' },
      // Many COPY chunks: the cursor and the re-read de-duplication work across them.
      chunk_rows: 7,
    });
    const run = async (id: string) => {
      const src = new PostgresSource({ url: pgs.url }, new Redactor(), 'pg');
      try {
        return await landStream(opts, { spec: s, connector: src, runId: id });
      } finally {
        await src.close();
      }
    };
    try {
      const r1 = await run('r1');
      expect(r1).toMatchObject({
        rowsRead: 100,
        rowsLoaded: 100,
        cursor: { value: '2024-01-01T01:40:00.000000Z' },
      });
      // Between the runs: updates (newer cursor), inserts, a row committed late with an older
      // cursor inside the lookback, and a late row exactly at the boundary value.
      await pgs.query(
        `UPDATE orders SET status = 'paid', updated_at = timestamptz '2024-01-01 02:00:00+00' WHERE id IN (5, 50)`,
      );
      await pgs.query(
        `INSERT INTO orders SELECT g, 'new', g, timestamptz '2024-01-01 02:00:00+00' + g * interval '1 second' FROM generate_series(101, 110) g`,
      );
      await pgs.query(
        `INSERT INTO orders VALUES (200, 'late', 1, timestamptz '2024-01-01 01:10:00+00'), (201, 'boundary', 1, timestamptz '2024-01-01 01:40:00+00')`,
      );
      const r2 = await run('r2');
      // Re-read: the lookback hour (rows 41..100 minus the updated 50, plus 200, 201) and the new ones.
      expect(r2.rowsLoaded).toBe(2 + 10 + 2);
      expect(r2.rowsRead).toBe(r2.rowsLoaded + r2.rowsAlreadyLanded);
      const r3 = await run('r3');
      expect(r3.status).toBe('up_to_date');
      const staged = await scan(dir, 'staging/pg__orders', 'id');
      const source = (await pgs.query(`SELECT id, status, amount::text AS amount FROM orders ORDER BY id`))
        .rows;
      expect(staged.map((r) => ({ id: r['id'], status: r['status'], amount: Number(r['amount']) }))).toEqual(
        source.map((r) => ({ id: r['id'], status: r['status'], amount: Number(r['amount']) })),
      );
      const raw = await scan(dir, 'raw/pg__orders', 'id');
      const keys = raw.map((r) => `${String(r['id'])}@${String(r['updated_at'])}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(raw.length).toBe(100 + 2 + 10 + 2);
      // Bounded backfill: end_value stops the read.
      const bounded = await mkdtemp(join(tmpdir(), 'weir-pgb-'));
      const src = new PostgresSource({ url: pgs.url }, new Redactor(), 'pg');
      const rb = await landStream(
        { lake: new LocalObjectStore(bounded), session },
        {
          spec: spec({
            primary_key: 'id',
            incremental: { cursor_field: 'updated_at', end_value: '2024-01-01T00:10:00Z' },
          }),
          connector: src,
          runId: 'b',
        },
      );
      await src.close();
      expect(rb.rowsLoaded).toBe(9); // ids 1..10 but 5, updated past the end value
      await rm(bounded, { recursive: true, force: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('converts on the bounded conversion engine: dead letters keep their source row numbers', async () => {
    // ~20 MB of rows in one COPY chunk: several 8 MB CSV buffers, read by both DuckDB threads with
    // insertion order off, yet `row N` must still be the row's place in the COPY output.
    await pgs.query(`CREATE TABLE wide_v1 (id int PRIMARY KEY, qty int, pad text)`);
    await pgs.query(`INSERT INTO wide_v1 VALUES (0, 0, 'x')`);
    await pgs.query(`CREATE TABLE wide_v2 (id int PRIMARY KEY, qty text, pad text)`);
    await pgs.query(
      `INSERT INTO wide_v2 SELECT g, CASE WHEN g % 5000 = 0 THEN 'n/a' ELSE g::text END, repeat(md5(g::text), 32)
         FROM generate_series(1, 20000) g`,
    );
    const dir = await mkdtemp(join(tmpdir(), 'weir-pgc-'));
    const engines = new ConversionEngines((o) => createDuckDbEngine(o), conversionOptions({ threads: 2 }));
    const lease = await engines.session();
    const opts: LandingOptions = { lake: new LocalObjectStore(dir), session, convertSession: lease.session };
    const load = async (table: string) => {
      const src = new PostgresSource({ url: pgs.url }, new Redactor(), 'pg');
      try {
        const s = parseStreamSettings({
          sourceName: 'pg',
          streamName: 'wide',
          source: { type: 'postgres' },
          table: { table, schema_contract: 'discard_row' },
          at: { file: 'x.yml' },
        });
        return await landStream(opts, { spec: s, connector: src, runId: table });
      } finally {
        await src.close();
      }
    };
    try {
      expect(await load('wide_v1')).toMatchObject({ rowsRead: 1, rowsLoaded: 1 });
      const r = await load('wide_v2');
      expect(r).toMatchObject({ rowsRead: 20000, rowsLoaded: 19996, rowsDeadLettered: 4 });
      const dead = await scan(dir, 'dlq/pg__wide', 'location');
      const rows = dead.map((d) => [d['location'], (JSON.parse(String(d['payload'])) as { id: number }).id]);
      expect(rows.sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual(
        [5000, 10000, 15000, 20000].map((id) => [`pg.wide row ${id}`, id]),
      );
      const raw = await scan(dir, 'raw/pg__wide', 'id');
      expect(raw.length).toBe(19997);
      expect(raw.every((x) => x['qty'] === x['id'])).toBe(true);
    } finally {
      await lease.release();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('wrong credentials fail without retry and without the secret; unreachable fails after retries', async () => {
    await pgs.query(`CREATE ROLE app LOGIN PASSWORD 'Sup3rS3cret!'`);
    await pgs.query(`ALTER SYSTEM SET password_encryption = 'scram-sha-256'`);
    const wrongUrl = `postgres://app:Wr0ngPassw0rd@127.0.0.1:${pgs.port}/postgres`;
    const redactor = new Redactor();
    // trust auth accepts any password; require one for `app` with a fresh pg_hba line is overkill:
    // a missing database is refused the same way (no retry), and the message must not hold the URL.
    const src = new PostgresSource({ url: `${wrongUrl.replace('/postgres', '/nope')}` }, redactor, 'pg');
    const t0 = Date.now();
    const err = await src.discover().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WEIR-I003' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(String((err as Error).message)).not.toContain('Wr0ngPassw0rd');
    const down = new PostgresSource(
      { url: 'postgres://app:Wr0ngPassw0rd@127.0.0.1:1/postgres' },
      new Redactor(),
      'pg',
    );
    const e2 = await down.discover().catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: 'WEIR-I002' });
    expect(String((e2 as Error).message)).not.toContain('Wr0ngPassw0rd');
  });
});
