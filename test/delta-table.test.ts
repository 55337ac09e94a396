import { cp, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnSchema, Engine, EngineSession, SqlValue, WrittenFile } from '../src/core/engine.js';
import { WeirError } from '../src/core/errors.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { parseSchemaString, writeCastSql } from '../src/lake/delta/schema.js';
import type { Snapshot, SnapshotAt } from '../src/lake/delta/snapshot.js';
import { DeltaTable, type DeltaTableOptions } from '../src/lake/delta/table.js';
import { LocalObjectStore } from '../src/lake/local-object-store.js';

let engine: Engine;
let session: EngineSession;
let root: string;
let store: LocalObjectStore;

beforeAll(async () => {
  engine = await createDuckDbEngine({ threads: 2 });
  session = await engine.session();
});

afterAll(async () => {
  session?.close();
  await engine?.close();
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'weir-delta-'));
  store = new LocalObjectStore(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const open = (path = 'marts/orders', options: DeltaTableOptions = {}) =>
  DeltaTable.open(store, path, session, options);

/** Writes a query's rows into the table folder the way a materialization does: cast, then Parquet. */
async function write(
  table: DeltaTable,
  sql: string,
  partitionBy?: string[],
  s: EngineSession = session,
): Promise<{ files: WrittenFile[]; columns: ColumnSchema[] }> {
  const columns = await s.describe(sql);
  const cast = `SELECT ${writeCastSql(columns)} FROM (${sql}) AS w`;
  const files = await s.writeParquet(cast, {
    dir: table.location(),
    prefix: 'part-',
    ...(partitionBy ? { partitionBy } : {}),
  });
  return { files, columns };
}

async function rows(
  table: DeltaTable,
  select = '*',
  orderBy?: string,
  at?: SnapshotAt,
): Promise<Record<string, SqlValue>[]> {
  const sql = `SELECT ${select} FROM (${table.scanSql(await table.snapshot(at))}) AS t${orderBy ? ` ORDER BY ${orderBy}` : ''}`;
  return [...(await session.query(sql)).rows];
}

async function ids(table: DeltaTable, at?: SnapshotAt): Promise<SqlValue[]> {
  return (await rows(table, 'id', 'id', at)).map((r) => r['id'] ?? null);
}

async function failure(p: Promise<unknown>): Promise<WeirError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WeirError)) throw new Error(`expected a WeirError, got ${String(err)}`);
  return err;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_v, i) => from + i);
const rangeSql = (from: number, to: number) =>
  `SELECT range::INTEGER AS id, 'v' || range AS name FROM range(${from}, ${to})`;

describe('DeltaTable: create, append, overwrite, replaceFiles', () => {
  it('creates a table, then refuses to create it again', async () => {
    const table = await open();
    expect(await table.exists()).toBe(false);
    const { files, columns } = await write(table, rangeSql(0, 5));
    expect(await table.create(files, columns)).toEqual({ version: 0, committed: true });
    expect(await table.exists()).toBe(true);
    const s = await table.snapshot();
    expect(s.version).toBe(0);
    expect(s.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(s.schema.fields.map((f) => [f.name, f.type])).toEqual([
      ['id', 'integer'],
      ['name', 'string'],
    ]);
    expect(s.numRecords).toBe(5);
    expect(await rows(table, '*', 'id')).toEqual(range(0, 5).map((id) => ({ id, name: `v${id}` })));
    const again = await failure(table.create(files, columns));
    expect(again.code).toBe('WEIR-L012');
    expect(again.hint).toMatch(/overwrite|append/);
  });

  it("builds a new table's snapshot from its first commit, equal to one replayed from the log", async () => {
    const table = await open();
    expect(await table.exists()).toBe(false);
    const { files, columns } = await write(table, rangeSql(0, 5));
    await table.create(files, columns);
    // Nothing is read back: the log's files can go and the handle still knows the table.
    const logDir = join(table.location(), '_delta_log');
    const saved = join(root, 'saved-log');
    await cp(logDir, saved, { recursive: true });
    await rm(logDir, { recursive: true });
    const fromCommit = await table.snapshot();
    await cp(saved, logDir, { recursive: true });
    const fromLog = await (await open()).snapshot();
    expect(fromCommit.version).toBe(0);
    expect(fromCommit.timestamp).toBe(fromLog.timestamp);
    expect(fromCommit.protocol).toEqual(fromLog.protocol);
    expect(fromCommit.metadata).toEqual(fromLog.metadata);
    expect(fromCommit.files).toEqual(fromLog.files);
    expect(fromCommit.schema).toEqual(fromLog.schema);
    expect(fromCommit.numRecords).toBe(5);
  });

  it('appends, overwrites and keeps every version readable', async () => {
    const table = await open();
    const a = await write(table, rangeSql(0, 3));
    await table.create(a.files, a.columns);
    const b = await write(table, rangeSql(3, 6));
    expect((await table.append(b.files, b.columns)).version).toBe(1);
    expect(await ids(table)).toEqual(range(0, 6));
    const c = await write(table, `SELECT range::BIGINT AS id, range * 1.5 AS score FROM range(100, 102)`);
    expect((await table.overwrite(c.files, c.columns)).version).toBe(2);
    const s = await table.snapshot();
    // the overwrite changed the schema, so it wrote new metadata; the old files are tombstones now
    expect(s.schema.fields.map((f) => `${f.name}:${JSON.stringify(f.type)}`)).toEqual([
      'id:"long"',
      'score:"decimal(21,1)"',
    ]);
    expect(s.files).toHaveLength(c.files.length);
    expect(s.tombstones).toHaveLength(a.files.length + b.files.length);
    expect(await rows(table, 'id, score::VARCHAR AS score', 'id')).toEqual([
      { id: 100, score: '150.0' },
      { id: 101, score: '151.5' },
    ]);
    // time travel keeps the old schema and rows
    expect(await rows(table, '*', 'id', { version: 1 })).toEqual(
      range(0, 6).map((id) => ({ id, name: `v${id}` })),
    );
    const history = await table.history();
    expect(history.map((h) => [h.version, h.operation])).toEqual([
      [2, 'WRITE'],
      [1, 'WRITE'],
      [0, 'CREATE TABLE'],
    ]);
    expect(history[0]?.operationParameters['mode']).toBe('Overwrite');
    expect(history[0]?.readVersion).toBe(1);
    expect(history[1]?.isBlindAppend).toBe(true);
    expect(history[0]?.operationMetrics['numOutputRows']).toBe('2');
    expect((await table.history(1)).map((h) => h.version)).toEqual([2]);
  });

  it('overwrite with the same schema writes no new metadata', async () => {
    const table = await open();
    const a = await write(table, rangeSql(0, 3));
    await table.create(a.files, a.columns);
    const b = await write(table, rangeSql(10, 12));
    await table.overwrite(b.files, b.columns);
    const commit = await store.get('marts/orders/_delta_log/00000000000000000001.json');
    const kinds = new TextDecoder()
      .decode(commit)
      .trim()
      .split('\n')
      .map((l) => Object.keys(JSON.parse(l) as object)[0]);
    expect(kinds.filter((k) => k === 'metaData')).toHaveLength(0);
    expect(kinds.filter((k) => k === 'remove')).toHaveLength(a.files.length);
    expect(await ids(table)).toEqual([10, 11]);
  });

  it('replaceFiles swaps files in one commit and refuses files that are not live', async () => {
    const table = await open();
    const a = await write(table, rangeSql(0, 3));
    const b = await write(table, rangeSql(3, 6));
    await table.create([...a.files, ...b.files], a.columns);
    const snapshot = await table.snapshot();
    const target = snapshot.files.find((f) => f.path === a.files[0]?.path.split('/').pop());
    expect(target).toBeDefined();
    const c = await write(table, `SELECT id * 10 AS id, name FROM (${rangeSql(0, 3)})`);
    // absolute paths (as the engine sees files) are accepted as well as log paths
    const result = await table.replaceFiles([a.files[0]?.path ?? ''], c.files, c.columns, {
      operation: 'MERGE',
    });
    expect(result).toEqual({ version: 1, committed: true });
    expect(await ids(table)).toEqual([0, 3, 4, 5, 10, 20]);
    expect((await table.history(1))[0]?.operation).toBe('MERGE');
    const err = await failure(
      table.replaceFiles([target?.path ?? ''], [], undefined, { operation: 'DELETE' }),
    );
    expect(err.code).toBe('WEIR-L015');
    expect(err.message).toContain(target?.path ?? '?');
  });

  it('refuses data files outside the table folder and files without their partition values', async () => {
    const table = await open();
    const { files, columns } = await write(table, rangeSql(0, 2));
    const outside = { ...files[0], path: join(root, 'elsewhere.parquet') } as WrittenFile;
    expect((await failure(table.create([outside], columns))).code).toBe('WEIR-L016');
    const err = await failure(table.create(files, columns, { partitionColumns: ['name'] }));
    expect(err.code).toBe('WEIR-L014');
    expect(err.hint).toContain('partitionBy');
    expect((await failure(table.create(files, columns, { partitionColumns: ['nope'] }))).code).toBe(
      'WEIR-L014',
    );
  });
});

describe('DeltaTable: schema evolution', () => {
  it('new columns read as NULL for old files, and a column no file has is a typed NULL', async () => {
    const table = await open();
    const a = await write(table, rangeSql(0, 2));
    await table.create(a.files, a.columns);
    const b = await write(table, `SELECT 5 AS id, 'v5' AS name, DATE '2024-01-02' AS day`);
    await table.append(b.files, b.columns);
    expect(await rows(table, 'id, name, day', 'id')).toEqual([
      { id: 0, name: 'v0', day: null },
      { id: 1, name: 'v1', day: null },
      { id: 5, name: 'v5', day: '2024-01-02' },
    ]);
    // a schema-only append: no file holds "note"
    await table.append([], [...b.columns, { name: 'note', type: 'VARCHAR' }]);
    const s = await table.snapshot();
    expect(s.schema.fields.map((f) => f.name)).toEqual(['id', 'name', 'day', 'note']);
    const scan = table.scanSql(s);
    expect((await session.describe(scan)).map((c) => `${c.name}:${c.type}`)).toEqual([
      'id:INTEGER',
      'name:VARCHAR',
      'day:DATE',
      'note:VARCHAR',
    ]);
    expect((await rows(table, 'count(*) AS n, count(note) AS notes'))[0]).toEqual({ n: 3, notes: 0 });
  });

  it('scans without the placeholder union only when file stats show every column holding values', async () => {
    const table = await open();
    const a = await write(table, `SELECT 1 AS id, 'a' AS name, CAST(NULL AS DATE) AS day`);
    await table.create(a.files, a.columns);
    // "day" is null throughout: nothing shows a file has it, so the placeholder stays
    let scan = table.scanSql(await table.snapshot());
    expect(scan).toContain('UNION ALL BY NAME');
    expect(scan).not.toContain('union_by_name');
    expect(await rows(table)).toEqual([{ id: 1, name: 'a', day: null }]);

    await table.overwrite(
      (await write(table, `SELECT 2 AS id, 'b' AS name, DATE '2024-01-02' AS day`)).files,
      a.columns,
    );
    scan = table.scanSql(await table.snapshot());
    expect(scan).not.toContain('UNION ALL BY NAME');
    expect(await rows(table)).toEqual([{ id: 2, name: 'b', day: '2024-01-02' }]);

    // two files, "day" held by one of them only: matched by name, no placeholder needed
    await table.append((await write(table, `SELECT 3 AS id, 'c' AS name`)).files, a.columns);
    scan = table.scanSql(await table.snapshot());
    expect(scan).toContain('union_by_name = true');
    expect(scan).not.toContain('UNION ALL BY NAME');
    expect(await rows(table, '*', 'id')).toEqual([
      { id: 2, name: 'b', day: '2024-01-02' },
      { id: 3, name: 'c', day: null },
    ]);

    // a file without stats proves nothing
    const s = await table.snapshot();
    const bare = Object.create(s, {
      files: { value: s.files.map(({ stats: _stats, ...f }) => f) },
    }) as typeof s;
    expect(table.scanSql(bare)).toContain('UNION ALL BY NAME');
  });

  it('an empty table scans as a typed empty result', async () => {
    const table = await open();
    await table.create(
      [],
      [
        { name: 'id', type: 'BIGINT' },
        { name: 'at', type: 'TIMESTAMP WITH TIME ZONE' },
        { name: 'tags', type: 'VARCHAR[]' },
      ],
    );
    const scan = table.scanSql(await table.snapshot());
    expect((await session.describe(scan)).map((c) => c.type)).toEqual([
      'BIGINT',
      'TIMESTAMP WITH TIME ZONE',
      'VARCHAR[]',
    ]);
    expect((await session.query(scan)).rows).toEqual([]);
  });

  it('refuses an append that changes a column type, accepts a widening one', async () => {
    const table = await open();
    const a = await write(table, `SELECT 1::BIGINT AS id, 'x' AS name`);
    await table.create(a.files, a.columns);
    const narrower = await write(table, `SELECT 2::INTEGER AS id, 'y' AS name`);
    expect((await table.append(narrower.files, narrower.columns)).committed).toBe(true);
    const wrong = await write(table, `SELECT 'three' AS id, 'z' AS name`);
    const err = await failure(table.append(wrong.files, wrong.columns));
    expect(err.code).toBe('WEIR-L013');
    expect(err.message).toContain('"id"');
    expect(err.hint).toContain('Cast');
    expect(await rows(table, 'id', 'id')).toEqual([{ id: 1 }, { id: 2 }]);
  });
});

describe('DeltaTable: partitions', () => {
  it('writes partition values in Delta form and reads them back typed, nulls included', async () => {
    const table = await open('raw/events');
    const sql = `SELECT * FROM (VALUES
      (1, DATE '2024-01-01', TIMESTAMPTZ '2024-01-01 10:30:00.123456+02', 'a b/c'),
      (2, DATE '2024-01-02', NULL, NULL),
      (3, NULL, TIMESTAMPTZ '2024-01-01 10:30:00.123456+02', 'a b/c')) AS v(id, day, "at", label)`;
    const { files, columns } = await write(table, sql, ['day', 'at', 'label']);
    await table.create(files, columns, { partitionColumns: ['day', 'at', 'label'] });
    const s = await table.snapshot();
    expect(s.partitionColumns).toEqual(['day', 'at', 'label']);
    const values = s.files
      .map((f) => f.partitionValues)
      .sort((x, y) => String(x['day']).localeCompare(String(y['day'])));
    expect(values).toContainEqual({ day: '2024-01-01', at: '2024-01-01T08:30:00.123456Z', label: 'a b/c' });
    expect(values).toContainEqual({ day: '2024-01-02', at: null, label: null });
    // paths are relative and URI-encoded
    expect(s.files.every((f) => !f.path.startsWith('/') && !f.path.includes(' '))).toBe(true);
    expect(await rows(table, 'id, day, epoch_us("at") AS "at", label', 'id')).toEqual([
      { id: 1, day: '2024-01-01', at: Date.parse('2024-01-01T08:30:00.123Z') * 1000 + 456, label: 'a b/c' },
      { id: 2, day: '2024-01-02', at: null, label: null },
      { id: 3, day: null, at: Date.parse('2024-01-01T08:30:00.123Z') * 1000 + 456, label: 'a b/c' },
    ]);
  });
});

describe('DeltaTable: transactions and concurrency', () => {
  it('skips a txn already committed (idempotent re-run)', async () => {
    const table = await open();
    const a = await write(table, rangeSql(0, 2));
    await table.create(a.files, a.columns);
    const b = await write(table, rangeSql(2, 4));
    expect(await table.append(b.files, b.columns, { txn: { appId: 'stream-1', version: 7 } })).toEqual({
      version: 1,
      committed: true,
    });
    // a crash-and-retry re-runs the same batch: nothing is written twice
    const again = await write(table, rangeSql(2, 4));
    expect(
      await table.append(again.files, again.columns, { txn: { appId: 'stream-1', version: 7 } }),
    ).toEqual({
      version: 1,
      committed: false,
    });
    expect(
      await table.append(again.files, again.columns, { txn: { appId: 'stream-1', version: 6 } }),
    ).toMatchObject({ committed: false });
    const fresh = await open();
    expect((await fresh.snapshot()).txnVersion('stream-1')).toBe(7);
    expect(await ids(fresh)).toEqual(range(0, 4));
    const c = await write(table, rangeSql(4, 5));
    expect(await table.append(c.files, c.columns, { txn: { appId: 'stream-1', version: 8 } })).toEqual({
      version: 2,
      committed: true,
    });
    expect((await fresh.snapshot()).txnVersion('stream-1')).toBe(8);
  });

  it('lands concurrent appends from two table handles', async () => {
    const first = await open();
    const a = await write(first, rangeSql(0, 1));
    await first.create(a.files, a.columns);
    const second = await open();
    await second.snapshot();
    const s1 = await engine.session();
    const s2 = await engine.session();
    try {
      const [b, c] = await Promise.all([
        write(first, rangeSql(10, 12), undefined, s1),
        write(second, rangeSql(20, 22), undefined, s2),
      ]);
      // both read version 0; one of them loses the race for version 1 and retries at 2
      const results = await Promise.all([
        first.append(b.files, b.columns, { readVersion: 0 }),
        second.append(c.files, c.columns, { readVersion: 0 }),
      ]);
      expect(results.map((r) => r.version).sort()).toEqual([1, 2]);
      expect(results.every((r) => r.committed)).toBe(true);
    } finally {
      s1.close();
      s2.close();
    }
    expect(await ids(await open())).toEqual([0, 10, 11, 20, 21]);
    expect(await ids(first)).toEqual([0, 10, 11, 20, 21]);
  });

  it('fails an overwrite that raced an append (WEIR-L010), leaving the winner intact', async () => {
    const writer = await open();
    const a = await write(writer, rangeSql(0, 3));
    await writer.create(a.files, a.columns);
    const appender = await open();
    const b = await write(appender, rangeSql(3, 4));
    await appender.append(b.files, b.columns);
    const c = await write(writer, rangeSql(100, 101));
    const err = await failure(writer.overwrite(c.files, c.columns, { readVersion: 0 }));
    expect(err.code).toBe('WEIR-L010');
    expect(err.message).toContain('version 1');
    expect(err.hint).toMatch(/Re-run/);
    expect(await ids(await open())).toEqual([0, 1, 2, 3]);
  });

  it('fails when two rewrites remove the same file, or the metadata changed concurrently', async () => {
    const table = await open();
    const a = await write(table, rangeSql(0, 3));
    await table.create(a.files, a.columns);
    const victim = (await table.snapshot()).files[0]?.path ?? '';
    const other = await open();
    await other.replaceFiles([victim], [], undefined, { operation: 'DELETE' });
    const err = await failure(
      table.replaceFiles([victim], [], undefined, { operation: 'DELETE', readVersion: 0 }),
    );
    expect(err.code).toBe('WEIR-L010');
    expect(err.message).toContain('removed the file');

    const evolve = await write(other, `SELECT 9 AS id, 'v9' AS name, 1.5::DOUBLE AS extra`);
    await other.append(evolve.files, evolve.columns);
    const late = await write(table, rangeSql(50, 51));
    const metaErr = await failure(table.append(late.files, late.columns, { readVersion: 1 }));
    expect(metaErr.code).toBe('WEIR-L010');
    expect(metaErr.message).toContain('metadata');
  });

  it('keeps files without a log entry invisible (a commit that never happened)', async () => {
    const table = await open();
    const a = await write(table, rangeSql(0, 3));
    await table.create(a.files, a.columns);
    // a writer wrote its files, then died before committing
    await write(table, rangeSql(1000, 1100));
    await writeFile(join(table.location(), '_delta_log', '.weir-tmp-crashed'), '{"add":{"path":"x"');
    expect(await ids(await open())).toEqual([0, 1, 2]);
    expect((await (await open()).snapshot()).version).toBe(0);
  });
});

describe('DeltaTable: checkpoints', () => {
  it('writes a checkpoint every N commits that replays to the same snapshot', async () => {
    const table = await open('marts/cp', { checkpointInterval: 3 });
    const a = await write(
      table,
      `SELECT 0 AS id, 'p' AS part, TIMESTAMPTZ '2024-05-01 00:00:00+00' AS "at"`,
      ['part'],
    );
    await table.create(a.files, a.columns, {
      partitionColumns: ['part'],
      configuration: { 'weir.owner': 'tests' },
    });
    for (let i = 1; i <= 7; i++) {
      const b = await write(
        table,
        `SELECT ${i} AS id, ${i % 2 === 0 ? 'NULL::VARCHAR' : `'p${i}'`} AS part, NULL::TIMESTAMPTZ AS "at"`,
        ['part'],
      );
      await table.append(b.files, b.columns, { txn: { appId: `app-${i % 2}`, version: i } });
    }
    const victim = (await table.snapshot()).files[0]?.path ?? '';
    await table.replaceFiles([victim], [], undefined, { operation: 'DELETE' }); // version 8: a tombstone
    const log = (await readdir(join(table.location(), '_delta_log'))).filter((n) => n.includes('checkpoint'));
    expect(log.sort()).toEqual([
      '00000000000000000003.checkpoint.parquet',
      '00000000000000000006.checkpoint.parquet',
      '_last_checkpoint',
    ]);
    const hint = JSON.parse(
      new TextDecoder().decode(await store.get('marts/cp/_delta_log/_last_checkpoint')),
    ) as Record<string, number>;
    expect(hint['version']).toBe(6);
    expect(hint['numOfAddFiles']).toBe(7);

    const fromCheckpoint = await (await open('marts/cp')).snapshot();
    expect(fromCheckpoint.checkpointVersion).toBe(6);
    expect(fromCheckpoint.version).toBe(8);

    // the same table with its checkpoints deleted replays from JSON alone
    await cp(table.location(), join(root, 'copy'), { recursive: true });
    for (const name of log) await rm(join(root, 'copy', '_delta_log', name));
    const fromJson = await (await open('copy')).snapshot();
    expect(fromJson.checkpointVersion).toBeUndefined();
    expect(summary(fromCheckpoint)).toEqual(summary(fromJson));

    // and a checkpoint at a version before a tombstone keeps tombstones
    const v6 = await (await open('marts/cp')).snapshot({ version: 6 });
    expect(v6.checkpointVersion).toBe(6);
    const readBack = await table.checkpoint();
    expect(readBack.version).toBe(8);
    const at8 = await (await open('marts/cp')).snapshot();
    expect(at8.checkpointVersion).toBe(8);
    expect(summary(at8)).toEqual(summary(fromJson));
    expect(await rows(await open('marts/cp'), 'id', 'id')).toEqual(
      await rows(await open('copy'), 'id', 'id'),
    );

    // the checkpoint is plain Parquet with the Delta checkpoint schema
    const cols = await session.describe(
      `SELECT * FROM read_parquet('${join(table.location(), '_delta_log', '00000000000000000008.checkpoint.parquet')}')`,
    );
    expect(cols.map((c) => c.name)).toEqual([
      'txn',
      'add',
      'remove',
      'metaData',
      'protocol',
      'domainMetadata',
    ]);
    expect(cols.find((c) => c.name === 'add')?.type).toContain('"partitionValues" MAP(VARCHAR, VARCHAR)');
  });

  it('falls back to JSON replay when the checkpoint is unreadable', async () => {
    const table = await open('marts/broken', { checkpointInterval: 2 });
    const a = await write(table, rangeSql(0, 1));
    await table.create(a.files, a.columns);
    for (let i = 1; i <= 2; i++) {
      const b = await write(table, rangeSql(i, i + 1));
      await table.append(b.files, b.columns);
    }
    await store.put('marts/broken/_delta_log/00000000000000000002.checkpoint.parquet', 'not parquet');
    const s = await (await open('marts/broken')).snapshot();
    expect(s.checkpointVersion).toBeUndefined();
    expect(await ids(await open('marts/broken'))).toEqual([0, 1, 2]);
  });
});

function summary(s: Snapshot) {
  const files = s.files
    .map((f) => ({ path: f.path, size: f.size, pv: f.partitionValues, stats: f.stats }))
    .sort((x, y) => x.path.localeCompare(y.path));
  const tombstones = s.tombstones.map((r) => r.path).sort();
  return {
    version: s.version,
    protocol: s.protocol,
    metadata: s.metadata,
    files,
    tombstones,
    txns: [...s.txns.values()].map((t) => [t.appId, t.version]).sort(),
  };
}

describe('DeltaTable: time travel', () => {
  it('reads by version and by commit timestamp; before the first commit is WEIR-L007', async () => {
    let now = Date.parse('2024-06-01T00:00:00Z');
    const table = await open('t', { now: () => now });
    const a = await write(table, rangeSql(0, 1));
    await table.create(a.files, a.columns);
    for (let v = 1; v <= 3; v++) {
      now += 60_000;
      const b = await write(table, rangeSql(v, v + 1));
      await table.append(b.files, b.columns);
    }
    expect(await ids(table, { version: 2 })).toEqual([0, 1, 2]);
    const at = (iso: string) => table.snapshot({ timestamp: new Date(iso) });
    expect((await at('2024-06-01T00:00:00Z')).version).toBe(0);
    expect((await at('2024-06-01T00:01:59Z')).version).toBe(1);
    expect((await at('2024-06-01T00:02:00Z')).version).toBe(2);
    expect((await at('2025-01-01T00:00:00Z')).version).toBe(3);
    expect((await at('2024-06-01T00:02:00Z')).timestamp).toBe(Date.parse('2024-06-01T00:02:00Z'));
    expect(await ids(table, { timestamp: new Date('2024-06-01T00:01:30Z') })).toEqual([0, 1]);
    const err = await failure(at('2024-05-31T23:59:59Z'));
    expect(err.code).toBe('WEIR-L007');
    expect(err.message).toContain('2024-06-01T00:00:00.000Z');
    expect((await failure(table.snapshot({ version: 9 }))).code).toBe('WEIR-L006');
    // the cached latest snapshot is untouched by time travel
    expect((await table.snapshot()).version).toBe(3);
  });
});

describe('DeltaTable: vacuum', () => {
  it('deletes unreferenced files older than the retention, keeps live, recent and hidden ones', async () => {
    let now = Date.now();
    const table = await open('v', { now: () => now });
    const a = await write(table, rangeSql(0, 3));
    await table.create(a.files, a.columns);
    const b = await write(table, rangeSql(10, 12));
    await table.overwrite(b.files, b.columns);
    await write(table, rangeSql(500, 501)); // an orphan: written, never committed
    await writeFile(join(table.location(), '.hidden-file'), 'x');
    await writeFile(join(table.location(), '_staging'), 'x');

    expect((await table.vacuum()).files).toEqual([]); // everything is recent
    now += 8 * 24 * 3600 * 1000; // eight days later
    const dry = await table.vacuum({ dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.files).toHaveLength(a.files.length + 1);
    for (const f of a.files) await stat(f.path); // still there after a dry run
    const done = await table.vacuum();
    expect([...done.files].sort()).toEqual([...dry.files].sort());
    for (const f of a.files) await expect(stat(f.path)).rejects.toThrow();
    for (const f of b.files) await stat(f.path);
    await stat(join(table.location(), '.hidden-file'));
    await stat(join(table.location(), '_staging'));
    expect(await ids(table)).toEqual([10, 11]);
    expect((await failure(table.vacuum({ retentionHours: -1 }))).code).toBe('WEIR-L021');
  });
});

describe('DeltaTable: types', () => {
  it('round-trips timestamps as UTC instants whatever the session time zone', async () => {
    const s = await engine.session();
    try {
      await s.exec("SET TimeZone = 'America/New_York'");
      const table = await DeltaTable.open(store, 'ts', s);
      const sql = `SELECT 1 AS id, TIMESTAMP '2024-03-10 12:34:56.789012' AS naive, TIMESTAMPTZ '2024-03-10 12:34:56.789012+05:30' AS zoned,
        TIMESTAMP_NS '2024-03-10 01:02:03.123456789' AS ns, TIMESTAMP_MS '2024-03-10 01:02:03.123' AS ms, [TIMESTAMP '2024-01-01 00:00:00'] AS list`;
      const { files, columns } = await write(table, sql, undefined, s);
      await table.create(files, columns);
      const schema = (await table.snapshot()).schema.fields.map((f) => [f.name, f.type]);
      expect(schema).toEqual([
        ['id', 'integer'],
        ['naive', 'timestamp'],
        ['zoned', 'timestamp'],
        ['ns', 'timestamp'],
        ['ms', 'timestamp'],
        ['list', { type: 'array', elementType: 'timestamp', containsNull: true }],
      ]);
      const [row] = (
        await s.query(
          `SELECT epoch_us(naive) AS naive, epoch_us(zoned) AS zoned, epoch_us(ns) AS ns, epoch_us(ms) AS ms, epoch_us(list[1]) AS l FROM (${table.scanSql(await table.snapshot())})`,
        )
      ).rows;
      expect(row).toEqual({
        naive: Date.parse('2024-03-10T12:34:56.789Z') * 1000 + 12,
        zoned: Date.parse('2024-03-10T07:04:56.789Z') * 1000 + 12,
        ns: Date.parse('2024-03-10T01:02:03.123Z') * 1000 + 456,
        ms: Date.parse('2024-03-10T01:02:03.123Z') * 1000,
        l: Date.parse('2024-01-01T00:00:00Z') * 1000,
      });
    } finally {
      s.close();
    }
  });

  it('casts unsigned, HUGEINT, INTERVAL, UUID and friends to types Delta stores', async () => {
    const table = await open('types');
    await session.exec("CREATE TYPE IF NOT EXISTS weir_mood AS ENUM ('sad', 'ok')");
    const sql = `SELECT 255::UTINYINT AS ut, 65535::USMALLINT AS us, 4294967295::UINTEGER AS ui,
      18446744073709551615::UBIGINT AS ub, -12345678901234567890123456789012345678::HUGEINT AS hi,
      99999999999999999999999999999999999999::UHUGEINT AS uh, INTERVAL 1 DAY + INTERVAL 2 HOUR AS iv,
      '3fa85f64-5717-4562-b3fc-2c963f66afa6'::UUID AS id, TIME '10:11:12' AS t, 'ok'::weir_mood AS mood,
      '{"a": 1}'::JSON AS j, {'k': 7::UBIGINT, 'when': TIMESTAMP '2024-01-01 00:00:00'} AS st,
      MAP {'x': 1::HUGEINT} AS m, [1::UTINYINT, 2] AS l`;
    const { files, columns } = await write(table, sql);
    await table.create(files, columns);
    const s = await table.snapshot();
    const types = Object.fromEntries(s.schema.fields.map((f) => [f.name, f.type]));
    expect(types).toEqual({
      ut: 'short',
      us: 'integer',
      ui: 'long',
      ub: 'decimal(20,0)',
      hi: 'decimal(38,0)',
      uh: 'decimal(38,0)',
      iv: 'string',
      id: 'string',
      t: 'string',
      mood: 'string',
      j: 'string',
      st: {
        type: 'struct',
        fields: [
          { name: 'k', type: 'decimal(20,0)', nullable: true, metadata: {} },
          { name: 'when', type: 'timestamp', nullable: true, metadata: {} },
        ],
      },
      m: { type: 'map', keyType: 'string', valueType: 'decimal(38,0)', valueContainsNull: true },
      l: { type: 'array', elementType: 'short', containsNull: true },
    });
    // the schemaString round-trips through the parser
    expect(parseSchemaString(s.metadata.schemaString, 'test').fields).toHaveLength(14);
    const [row] = await rows(
      table,
      `ut, us, ui, ub::VARCHAR AS ub, hi::VARCHAR AS hi, uh::VARCHAR AS uh, iv, id, t, mood, j, st.k::VARCHAR AS k,
       epoch_us(st."when") AS w, map_values(m)[1]::VARCHAR AS mv, l`,
    );
    expect(row).toEqual({
      ut: 255,
      us: 65535,
      ui: 4294967295,
      ub: '18446744073709551615',
      hi: '-12345678901234567890123456789012345678',
      uh: '99999999999999999999999999999999999999',
      iv: '1 day 02:00:00',
      id: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
      t: '10:11:12',
      mood: 'ok',
      j: '{"a": 1}',
      k: '7',
      w: Date.parse('2024-01-01T00:00:00Z') * 1000,
      mv: '1',
      l: [1, 2],
    });
  });

  it('fails the write, not silently, for a 128-bit integer beyond DECIMAL(38,0)', async () => {
    const table = await open('huge');
    await expect(
      write(table, 'SELECT 170141183460469231731687303715884105727::HUGEINT AS hi'),
    ).rejects.toThrow(/out of range|Could not cast|overflow/i);
  });

  it('refuses a type with no Delta equivalent with WEIR-L020', async () => {
    const table = await open('bad');
    const err = await failure(
      (async () => {
        await table.create([], [{ name: 'g', type: 'GEOMETRY' }]);
      })(),
    );
    expect(err.code).toBe('WEIR-L020');
    expect(err.message).toContain('"g"');
  });
});

describe('DeltaTable: refusing what it cannot do', () => {
  it('reports a folder without a Delta log (WEIR-L002) and a corrupt commit line (WEIR-L003)', async () => {
    await store.put('plain/data.parquet', 'x');
    const missing = await failure((await open('plain')).snapshot());
    expect(missing.code).toBe('WEIR-L002');
    expect(missing.message).toContain('plain');

    const table = await open();
    const a = await write(table, rangeSql(0, 1));
    await table.create(a.files, a.columns);
    await store.put(
      'marts/orders/_delta_log/00000000000000000001.json',
      '{"commitInfo":{}}\n{"add": {"path": "x", \n',
    );
    const corrupt = await failure((await open()).snapshot());
    expect(corrupt.code).toBe('WEIR-L003');
    expect(corrupt.message).toContain('marts/orders/_delta_log/00000000000000000001.json:2');
    expect(corrupt.at).toEqual({ file: 'marts/orders/_delta_log/00000000000000000001.json', line: 2 });
  });

  it('refuses reader features it does not implement and writes to tables with unknown writer features', async () => {
    const schemaString = JSON.stringify({
      type: 'struct',
      fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }],
    });
    const metaData = {
      id: 'x',
      format: { provider: 'parquet', options: {} },
      schemaString,
      partitionColumns: [],
      configuration: {},
    };
    await store.put(
      'dv/_delta_log/00000000000000000000.json',
      [
        {
          protocol: {
            minReaderVersion: 3,
            minWriterVersion: 7,
            readerFeatures: ['deletionVectors'],
            writerFeatures: ['deletionVectors'],
          },
        },
        { metaData },
      ]
        .map((a) => JSON.stringify(a))
        .join('\n'),
    );
    const read = await failure((await open('dv')).snapshot());
    expect(read.code).toBe('WEIR-L001');
    expect(read.message).toContain('dv');
    expect(read.message).toContain('deletionVectors');

    await store.put(
      'cc/_delta_log/00000000000000000000.json',
      [
        { protocol: { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['checkConstraints'] } },
        { metaData },
      ]
        .map((a) => JSON.stringify(a))
        .join('\n'),
    );
    const cc = await open('cc');
    expect((await cc.snapshot()).version).toBe(0); // readable
    const err = await failure(cc.append([], [{ name: 'id', type: 'BIGINT' }]));
    expect(err.code).toBe('WEIR-L011');
    expect(err.message).toContain('checkConstraints');
  });

  it('honours delta.appendOnly', async () => {
    const table = await open();
    const a = await write(table, rangeSql(0, 2));
    await table.create(a.files, a.columns, { configuration: { 'delta.appendOnly': 'true' } });
    const b = await write(table, rangeSql(2, 3));
    expect((await table.append(b.files, b.columns)).committed).toBe(true);
    const err = await failure(table.overwrite(b.files, b.columns));
    expect(err.code).toBe('WEIR-L011');
    expect(err.message).toContain('append-only');
  });
});
