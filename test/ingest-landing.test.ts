import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession } from '../src/core/engine.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { parseStreamSettings } from '../src/ingest/config.js';
import { landStream, type LandingOptions } from '../src/ingest/landing/land.js';
import type { Chunk, CursorState, SourceConnector, SourceRecord, StreamSpec } from '../src/ingest/types.js';
import { DeltaTable } from '../src/lake/delta/table.js';
import { LocalObjectStore } from '../src/lake/local-object-store.js';

/** A connector over in-memory pages, honouring an integer cursor on `id`-like fields. */
function pages(
  batches: Record<string, unknown>[][],
  opts: { cursorField?: string; rejected?: number } = {},
): SourceConnector & { seen: (CursorState | undefined)[] } {
  const seen: (CursorState | undefined)[] = [];
  return {
    seen,
    async discover() {
      return [];
    },
    async read(req) {
      seen.push(req.cursor);
      const lower = req.cursor?.value;
      async function* chunks(): AsyncGenerator<Chunk> {
        let page = 0;
        for (const batch of batches) {
          page++;
          const records: SourceRecord[] = batch
            .filter(
              (r) =>
                !opts.cursorField ||
                lower === undefined ||
                lower === null ||
                Number(r[opts.cursorField]) >= Number(lower),
            )
            .map((value, i) => ({ value, at: `page ${page} item ${i + 1}` }));
          const rejected =
            page === 1 && opts.rejected
              ? Array.from({ length: opts.rejected }, (_, i) => ({
                  reason: 'malformed JSON',
                  payload: `{bad ${i}`,
                  at: `page 1 line ${i + 1}`,
                }))
              : [];
          yield { kind: 'records', records, rejected };
        }
      }
      return { chunks: chunks(), cursorPatch: () => ({}) };
    },
    async close() {},
  };
}

function spec(table: Record<string, unknown>, source: Record<string, unknown> = {}): StreamSpec {
  return parseStreamSettings({
    sourceName: 'api',
    streamName: 'orders',
    source: { type: 'postgres', ...source },
    table,
    at: { file: 'sources/api.yml', line: 3 },
  });
}

let engine: Engine;
let session: EngineSession;
let dir: string;
let opts: LandingOptions;

beforeAll(async () => {
  engine = await createDuckDbEngine();
  session = await engine.session();
});
afterAll(async () => {
  session.close();
  await engine.close();
});

async function fresh(): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = await mkdtemp(join(tmpdir(), 'weir-landing-'));
  opts = { lake: new LocalObjectStore(dir), session, chunkRows: 1000 };
}

async function rows(path: string, order = '1'): Promise<Record<string, unknown>[]> {
  const t = await DeltaTable.open(new LocalObjectStore(dir), path, session);
  const res = await session.query(`SELECT * FROM (${t.scanSql(await t.snapshot())}) ORDER BY ${order}`);
  return res.rows as Record<string, unknown>[];
}

describe('landing', () => {
  it('infers a schema, adds metadata columns, partitions by _ingest_date and dead-letters rejects', async () => {
    await fresh();
    const c = pages(
      [
        [
          { id: 1, name: 'a', at: '2024-01-01T00:00:00Z', addr: { city: 'X', geo: { lat: 1 } } },
          { id: 2, name: 'b', at: '2024-01-02T00:00:00Z' },
        ],
      ],
      { rejected: 2 },
    );
    const r = await landStream(opts, { spec: spec({}), connector: c, runId: 'run1' });
    expect(r).toMatchObject({
      status: 'loaded',
      rowsRead: 4,
      rowsLoaded: 2,
      rowsDeadLettered: 2,
      loadSeq: 1,
    });
    const data = await rows('raw/api__orders', 'id');
    expect(
      data.map((d) => [d['id'], d['name'], d['addr__city'], d['addr__geo'], d['_source'], d['_load_id']]),
    ).toEqual([
      [1, 'a', 'X', '{"lat":1}', 'api', r.loadId],
      [2, 'b', null, null, 'api', r.loadId],
    ]);
    const t = await DeltaTable.open(new LocalObjectStore(dir), 'raw/api__orders', session);
    const snap = await t.snapshot();
    expect(snap.partitionColumns).toEqual(['_ingest_date']);
    expect(t.columns(snap).find((col) => col.name === 'at')?.type).toBe('TIMESTAMP WITH TIME ZONE');
    expect((await t.dataFiles(snap))[0]?.path).toMatch(/_ingest_date=\d{4}-\d{2}-\d{2}/);
    const dlq = await rows('dlq/api__orders', 'location');
    expect(dlq.map((d) => [d['reason'], d['location'], d['_load_id']])).toEqual([
      ['malformed JSON', 'page 1 line 1', r.loadId],
      ['malformed JSON', 'page 1 line 2', r.loadId],
    ]);
  });

  it('evolves: new columns and int -> double widening; refuses an incompatible change', async () => {
    await fresh();
    await landStream(opts, { spec: spec({}), connector: pages([[{ id: 1, amount: 5 }]]), runId: 'r1' });
    await landStream(opts, {
      spec: spec({}),
      connector: pages([[{ id: 2, amount: 2.5, note: 'n' }]]),
      runId: 'r2',
    });
    const data = await rows('raw/api__orders', 'id');
    expect(data.map((d) => [d['id'], d['amount'], d['note']])).toEqual([
      [1, 5, null],
      [2, 2.5, 'n'],
    ]);
    const t = await DeltaTable.open(new LocalObjectStore(dir), 'raw/api__orders', session);
    expect(t.columns(await t.snapshot()).find((c) => c.name === 'amount')?.type).toBe('DOUBLE');
    await expect(
      landStream(opts, { spec: spec({}), connector: pages([[{ id: 3, amount: 'lots' }]]), runId: 'r3' }),
    ).rejects.toMatchObject({
      code: 'WEIR-I005',
      message: expect.stringContaining("column 'amount' is DOUBLE"),
    });
    expect((await rows('raw/api__orders')).length).toBe(2);
  });

  it('contract modes: freeze fails, discard_row dead-letters, discard_value nulls', async () => {
    for (const mode of ['freeze', 'discard_row', 'discard_value'] as const) {
      await fresh();
      await landStream(opts, {
        spec: spec({ schema_contract: mode }),
        connector: pages([[{ id: 1, qty: 1 }]]),
        runId: 'r1',
      });
      const second = landStream(opts, {
        spec: spec({ schema_contract: mode }),
        connector: pages([
          [
            { id: 2, qty: 'x' },
            { id: 3, qty: 3, extra: true },
            { id: 4, qty: 4 },
          ],
        ]),
        runId: 'r2',
      });
      if (mode === 'freeze') {
        await expect(second).rejects.toMatchObject({ code: 'WEIR-I004' });
        continue;
      }
      const r = await second;
      const data = await rows('raw/api__orders', 'id');
      if (mode === 'discard_row') {
        expect(r).toMatchObject({ rowsRead: 3, rowsLoaded: 1, rowsDeadLettered: 2 });
        expect(data.map((d) => d['id'])).toEqual([1, 4]);
        const dlq = await rows('dlq/api__orders', 'location');
        expect(dlq.map((d) => d['reason'])).toEqual([
          expect.stringContaining("column 'qty' is BIGINT"),
          expect.stringContaining("new column 'extra'"),
        ]);
        expect(JSON.parse(String(dlq[0]?.['payload']))).toEqual({ id: 2, qty: 'x' });
      } else {
        expect(r).toMatchObject({ rowsRead: 3, rowsLoaded: 3, rowsDeadLettered: 0 });
        expect(data.map((d) => [d['id'], d['qty'], 'extra' in d])).toEqual([
          [1, 1, false],
          [2, null, false],
          [3, 3, false],
          [4, 4, false],
        ]);
      }
    }
  });

  it('commits the cursor with the data; a re-run reads from it; merge keeps the latest version per key', async () => {
    await fresh();
    const s = spec({ primary_key: 'id', incremental: { cursor_field: 'v' } });
    const first = pages(
      [
        [
          { id: 1, v: 1, s: 'a' },
          { id: 2, v: 2, s: 'b' },
        ],
      ],
      { cursorField: 'v' },
    );
    const r1 = await landStream(opts, { spec: s, connector: first, runId: 'r1' });
    expect(r1.cursor).toEqual({ value: 2 });
    // Boundary row 2 is re-read (inclusive) and dropped as already landed; 1 is updated (v=3).
    const second = pages(
      [
        [
          { id: 2, v: 2, s: 'b' },
          { id: 1, v: 3, s: 'a2' },
          { id: 3, v: 3, s: 'c', del: false },
        ],
      ],
      { cursorField: 'v' },
    );
    const r2 = await landStream(opts, { spec: s, connector: second, runId: 'r2' });
    expect(second.seen).toEqual([{ value: 2 }]);
    expect(r2).toMatchObject({
      rowsRead: 3,
      rowsLoaded: 2,
      rowsAlreadyLanded: 1,
      rowsDeadLettered: 0,
      cursor: { value: 3 },
    });
    const staged = await rows('staging/api__orders', 'id');
    expect(staged.map((d) => [d['id'], d['s']])).toEqual([
      [1, 'a2'],
      [2, 'b'],
      [3, 'c'],
    ]);
    // Nothing new: no commit at all.
    const r3 = await landStream(opts, { spec: s, connector: pages([[]], { cursorField: 'v' }), runId: 'r3' });
    expect(r3.status).toBe('up_to_date');
    expect((await rows('raw/api__orders')).length).toBe(4);
  });

  it('hard-deletes keys from staging and replaces on replace', async () => {
    await fresh();
    const s = spec({ primary_key: 'id', hard_delete: 'deleted' });
    await landStream(opts, {
      spec: s,
      connector: pages([
        [
          { id: 1, deleted: false },
          { id: 2, deleted: false },
        ],
      ]),
      runId: 'r1',
    });
    await landStream(opts, { spec: s, connector: pages([[{ id: 1, deleted: true }]]), runId: 'r2' });
    expect((await rows('staging/api__orders', 'id')).map((d) => d['id'])).toEqual([2]);

    await fresh();
    const rs = spec({ write_disposition: 'replace' });
    await landStream(opts, { spec: rs, connector: pages([[{ id: 1 }, { id: 2 }]]), runId: 'r1' });
    await landStream(opts, { spec: rs, connector: pages([[{ id: 3 }]]), runId: 'r2' });
    expect((await rows('staging/api__orders', 'id')).map((d) => d['id'])).toEqual([3]);
    expect((await rows('raw/api__orders', 'id')).map((d) => d['id'])).toEqual([1, 2, 3]);
  });

  it('lands arrays as child tables keyed to the parent', async () => {
    await fresh();
    const s = spec({ primary_key: 'id', nested: { arrays: 'child_table' } });
    await landStream(opts, {
      spec: s,
      connector: pages([
        [
          {
            id: 7,
            items: [
              { sku: 'a', n: 1 },
              { sku: 'b', n: 2 },
            ],
          },
        ],
      ]),
      runId: 'r1',
    });
    const items = await rows('raw/api__orders__items', '_index');
    expect(items.map((d) => [d['_parent_key'], d['_index'], d['sku'], d['n']])).toEqual([
      ['7', 0, 'a', 1],
      ['7', 1, 'b', 2],
    ]);
    expect('items' in ((await rows('raw/api__orders'))[0] ?? {})).toBe(false);
  });
});
