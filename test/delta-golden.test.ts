import { existsSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession, SqlValue } from '../src/core/engine.js';
import { WeirError } from '../src/core/errors.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { DeltaTable } from '../src/lake/delta/table.js';
import { snapshotFileLocations } from '../src/lake/delta/scan.js';
import type { Snapshot, SnapshotAt } from '../src/lake/delta/snapshot.js';
import { LocalObjectStore } from '../src/lake/local-object-store.js';

/*
 * The delta-io golden tables (connectors/golden-tables), read in place. Expected contents come from
 * GoldenTables.scala (how each table was generated) and the Delta kernel's reader tests.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GOLDEN = resolve(repoRoot, '../shared/fixtures/delta-golden');

let engine: Engine;
let session: EngineSession;
let store: LocalObjectStore;

beforeAll(async () => {
  if (!existsSync(GOLDEN)) throw new Error(`Golden Delta tables not found at ${GOLDEN}`);
  engine = await createDuckDbEngine({ threads: 2 });
  session = await engine.session();
  store = new LocalObjectStore(GOLDEN);
});

afterAll(async () => {
  session?.close();
  await engine?.close();
});

const open = (name: string) => DeltaTable.open(store, name, session);

async function snap(name: string, at?: SnapshotAt): Promise<Snapshot> {
  return (await open(name)).snapshot(at);
}

/** Rows of `SELECT <select> FROM <scan of the table> t [ORDER BY ...]`. */
async function read(
  name: string,
  select = '*',
  orderBy?: string,
  at?: SnapshotAt,
): Promise<Record<string, SqlValue>[]> {
  const table = await open(name);
  const sql = `SELECT ${select} FROM (${table.scanSql(await table.snapshot(at))}) AS t${orderBy ? ` ORDER BY ${orderBy}` : ''}`;
  return [...(await session.query(sql)).rows];
}

async function refusal(name: string): Promise<WeirError> {
  const err = await snap(name).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WeirError))
    throw new Error(`expected a WeirError reading ${name}, got ${String(err)}`);
  return err;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_v, i) => from + i);
const hex2 = (i: number) => i.toString(16).toUpperCase().padStart(2, '0');
const utcMicros = (iso: string) => Date.parse(iso) * 1000;
const basename = (p: string) => p.split('/').pop();

describe('golden: data readers', () => {
  it('data-reader-primitives: every primitive type, plus an all-null row', async () => {
    const rows = await read(
      'data-reader-primitives',
      'as_int, as_long, as_byte, as_short, as_boolean, as_float, as_double, as_string, hex(as_binary) AS bin, as_big_decimal::VARCHAR AS dec',
      'as_int NULLS LAST',
    );
    expect(rows).toHaveLength(11);
    for (const i of range(0, 10)) {
      expect(rows[i]).toEqual({
        as_int: i,
        as_long: i,
        as_byte: i,
        as_short: i,
        as_boolean: i % 2 === 0,
        as_float: i,
        as_double: i,
        as_string: String(i),
        bin: hex2(i) + hex2(i),
        dec: String(i),
      });
    }
    expect(Object.values(rows[10] ?? {}).every((v) => v === null)).toBe(true);
  });

  it('data-reader-partition-values: partition columns of every type, including null partitions', async () => {
    const table = await open('data-reader-partition-values');
    const s = await table.snapshot();
    expect(s.partitionColumns).toHaveLength(12);
    const rows = await read(
      'data-reader-partition-values',
      `as_int, as_long, as_byte, as_short, as_boolean, as_float, as_double, as_string, as_string_lit_null, as_date,
       epoch_us(as_timestamp) AS ts, as_big_decimal::VARCHAR AS dec, to_json(as_list_of_records)::VARCHAR AS lr,
       to_json(as_nested_struct)::VARCHAR AS ns, value`,
      'value',
    );
    expect(rows).toHaveLength(3);
    for (const i of [0, 1]) {
      expect(rows[i]).toEqual({
        as_int: i,
        as_long: i,
        as_byte: i,
        as_short: i,
        as_boolean: i % 2 === 0,
        as_float: i,
        as_double: i,
        as_string: String(i),
        as_string_lit_null: 'null',
        as_date: '2021-09-08',
        // written without a zone; read as UTC, as the Delta kernel does
        ts: utcMicros('2021-09-08T11:11:11Z'),
        dec: String(i),
        lr: JSON.stringify([{ val: i }, { val: i }, { val: i }]),
        ns: JSON.stringify({ aa: String(i), ab: String(i), ac: { aca: i, acb: i } }),
        value: String(i),
      });
    }
    expect(rows[2]).toEqual({
      as_int: null,
      as_long: null,
      as_byte: null,
      as_short: null,
      as_boolean: null,
      as_float: null,
      as_double: null,
      as_string: null,
      as_string_lit_null: null,
      as_date: null,
      ts: null,
      dec: null,
      lr: JSON.stringify([{ val: 2 }, { val: 2 }, { val: 2 }]),
      ns: JSON.stringify({ aa: '2', ab: '2', ac: { aca: 2, acb: 2 } }),
      value: '2',
    });
  });

  it('data-reader-array-primitives: arrays of every primitive', async () => {
    const rows = await read(
      'data-reader-array-primitives',
      `as_array_int, as_array_long, as_array_byte, as_array_short, as_array_boolean, as_array_float, as_array_double,
       as_array_string, list_transform(as_array_binary, lambda b: hex(b)) AS bin,
       list_transform(as_array_big_decimal, lambda d: d::VARCHAR) AS dec`,
      'as_array_int[1]',
    );
    expect(rows).toHaveLength(10);
    rows.forEach((row, i) => {
      expect(row).toEqual({
        as_array_int: [i],
        as_array_long: [i],
        as_array_byte: [i],
        as_array_short: [i],
        as_array_boolean: [i % 2 === 0],
        as_array_float: [i],
        as_array_double: [i],
        as_array_string: [String(i)],
        bin: [hex2(i) + hex2(i)],
        dec: [String(i)],
      });
    });
  });

  it('data-reader-array-complex-objects: nested lists, lists of maps and of structs', async () => {
    const rows = await read(
      'data-reader-array-complex-objects',
      `i, "3d_int_list" AS l3, "4d_int_list" AS l4, to_json(list_of_maps)::VARCHAR AS maps, to_json(list_of_records)::VARCHAR AS recs`,
      'i',
    );
    expect(rows).toHaveLength(10);
    rows.forEach((row, i) => {
      const l3 = [
        [
          [i, i, i],
          [i, i, i],
        ],
        [
          [i, i, i],
          [i, i, i],
        ],
      ];
      expect(row).toEqual({
        i,
        l3,
        l4: [l3, l3],
        maps: JSON.stringify([{ [String(i)]: i }, { [String(i)]: i }]),
        recs: JSON.stringify([{ val: i }, { val: i }, { val: i }]),
      });
    });
  });

  it('data-reader-nested-struct: structs inside structs', async () => {
    const rows = await read('data-reader-nested-struct', 'to_json(a)::VARCHAR AS a, b', 'b');
    expect(rows).toEqual(
      range(0, 10).map((i) => ({
        a: JSON.stringify({ aa: String(i), ab: String(i), ac: { aca: i, acb: i } }),
        b: i,
      })),
    );
  });

  it('data-reader-map: maps with primitive, decimal and nested values', async () => {
    const rows = await read(
      'data-reader-map',
      `i, map_keys(a) AS ak, map_values(a) AS av, map_keys(b) AS bk, map_values(b) AS bv, map_keys(c) AS ck,
       map_values(c) AS cv, map_keys(d) AS dk, map_values(d) AS dv, map_keys(e) AS ek,
       list_transform(map_values(e), lambda x: x::VARCHAR) AS ev, map_keys(f) AS fk, to_json(map_values(f))::VARCHAR AS fv`,
      'i',
    );
    expect(rows).toHaveLength(10);
    rows.forEach((row, i) => {
      expect(row).toEqual({
        i,
        ak: [i],
        av: [i],
        bk: [i],
        bv: [i],
        ck: [i],
        cv: [i % 2 === 0],
        dk: [i],
        dv: [i],
        ek: [String(i)],
        ev: [String(i)],
        fk: [i],
        fv: JSON.stringify([[{ val: i }, { val: i }, { val: i }]]),
      });
    });
  });

  it('data-reader-nullable-field-invalid-schema-key: an array of nulls', async () => {
    expect(await read('data-reader-nullable-field-invalid-schema-key')).toEqual([
      { array_can_contain_null: [null, null, null] },
    ]);
  });

  // Timestamp("2020-01-01 08:09:10") written in each JVM time zone: the instant differs, the date does not.
  const dateTypeTables: ReadonlyArray<readonly [string, string]> = [
    ['data-reader-date-types-UTC', '2020-01-01T08:09:10Z'],
    ['data-reader-date-types-Iceland', '2020-01-01T08:09:10Z'],
    ['data-reader-date-types-PST', '2020-01-01T16:09:10Z'],
    ['data-reader-date-types-America/Los_Angeles', '2020-01-01T16:09:10Z'],
    ['data-reader-date-types-Etc/GMT+9', '2020-01-01T17:09:10Z'],
    ['data-reader-date-types-Asia/Beirut', '2020-01-01T06:09:10Z'],
    ['data-reader-date-types-JST', '2019-12-31T23:09:10Z'],
  ];
  for (const [name, instant] of dateTypeTables) {
    it(`${name}: timestamp as an instant, date as a calendar day`, async () => {
      expect(await read(name, 'epoch_us("timestamp") AS ts, "date"')).toEqual([
        { ts: utcMicros(instant), date: '2020-01-01' },
      ]);
    });
  }

  it('data-reader-escaped-chars: partition values with escaped characters in the path', async () => {
    expect(await read('data-reader-escaped-chars', '*', '_1')).toEqual([
      { _1: 'foo1', _2: 'bar+%21' },
      { _1: 'foo2', _2: 'bar+%22' },
      { _1: 'foo3', _2: 'bar+%23' },
    ]);
  });

  it('125-iterator-bug: many small appends, some empty', async () => {
    const s = await snap('125-iterator-bug');
    expect(s.version).toBe(11);
    expect(s.checkpointVersion).toBe(10);
    expect((await read('125-iterator-bug', 'col1', 'col1')).map((r) => r['col1'])).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('golden: decimals', () => {
  for (const name of ['basic-decimal-table', 'basic-decimal-table-legacy']) {
    it(`${name}: INT32, INT64 and fixed-length decimals, and a decimal partition`, async () => {
      const rows = await read(
        name,
        'part::VARCHAR AS p, col1::VARCHAR AS c1, col2::VARCHAR AS c2, col3::VARCHAR AS c3',
        'part',
      );
      expect(rows.map((r) => [r['p'], r['c1'], r['c2'], r['c3']])).toEqual([
        ['-2342342.23423', '-999.99', '-99999.99999', '-9999999999.9999999999'],
        ['0.00004', '0.00', '0.00000', '0.0000000000'],
        ['234.00000', '1.00', '2.00000', '3.0000000000'],
        ['2342222.23454', '111.11', '22222.22222', '3333333333.3333333333'],
      ]);
    });
  }

  it('124-decimal-decode-bug: DECIMAL(10,0)', async () => {
    expect(await read('124-decimal-decode-bug', 'large_decimal::VARCHAR AS d')).toEqual([{ d: '1000000' }]);
  });

  it('parquet-decimal-type: 99,998 rows of three decimal encodings', async () => {
    const scaled = (n: bigint, scale: number) => {
      const neg = n < 0n;
      const digits = (neg ? -n : n).toString().padStart(scale + 1, '0');
      return `${neg ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
    };
    const expand = (n: bigint) => n * 100000n + n;
    const expected = (i: number) => {
      if (i % 85 === 0)
        return {
          id: i,
          c1: scaled(BigInt(i), 1),
          c2: scaled(BigInt(i) * 100000n, 5),
          c3: scaled(BigInt(i) * 100000n, 5),
        };
      const n = BigInt(i * (i % 33 === 0 ? -1 : 1));
      return { id: i, c1: scaled(n, 1), c2: scaled(expand(n), 5), c3: scaled(expand(expand(expand(n))), 5) };
    };
    const [count] = await read('parquet-decimal-type', 'count(*) AS n');
    expect(count?.['n']).toBe(99998);
    const ids = [0, 1, 2, 33, 66, 85, 170, 4242, 99997];
    const rows = await read(
      'parquet-decimal-type',
      'id, col1::VARCHAR AS c1, col2::VARCHAR AS c2, col3::VARCHAR AS c3',
      'id',
    ).then((all) => all.filter((r) => ids.includes(Number(r['id']))));
    expect(rows).toEqual(ids.map(expected));
  });

  for (const name of ['parquet-decimal-dictionaries', 'parquet-decimal-dictionaries-v2']) {
    it(`${name}: dictionary-encoded decimals over a million rows`, async () => {
      const [agg] = await read(
        name,
        'count(*) AS n, sum(col1)::VARCHAR AS s1, sum(col2)::VARCHAR AS s2, sum(col3)::VARCHAR AS s3, count(DISTINCT col3) AS d3',
      );
      // sum of i % 5, i % 6 and i % 2 for i < 1,000,000
      expect(agg).toEqual({ n: 1_000_000, s1: '2000000', s2: '2499996', s3: '500000', d3: 2 });
    });
  }

  it('decimal-various-scale-precision: every precision up to 38 reads as the files hold it', async () => {
    const table = await open('decimal-various-scale-precision');
    const s = await table.snapshot();
    const types = table.columns(s).map((c) => c.type);
    expect(types).toContain('DECIMAL(38,36)');
    expect(types).toContain('DECIMAL(4,0)');
    const file = (await table.dataFiles(s))[0]?.path ?? '';
    const viaScan = await read(
      'decimal-various-scale-precision',
      'decimal_38_36::VARCHAR AS a, decimal_4_0::VARCHAR AS b',
      'a NULLS FIRST',
    );
    const direct = await session.query(
      `SELECT decimal_38_36::VARCHAR AS a, decimal_4_0::VARCHAR AS b FROM read_parquet('${file}') ORDER BY a NULLS FIRST`,
    );
    expect(viaScan).toEqual(direct.rows);
    expect(viaScan.map((r) => r['b'])).toEqual([null, '-13', '4']);
  });
});

describe('golden: log replay', () => {
  it('basic-with-inserts-deletes-checkpoint: appends and deletes across a checkpoint', async () => {
    const s = await snap('basic-with-inserts-deletes-checkpoint');
    expect(s.version).toBe(13);
    expect(s.checkpointVersion).toBe(10);
    const ids = (await read('basic-with-inserts-deletes-checkpoint', 'id', 'id')).map((r) => r['id']);
    expect(ids).toEqual([
      ...range(0, 5),
      ...range(10, 15),
      ...range(20, 25),
      ...range(30, 35),
      ...range(40, 45),
      ...range(50, 66),
    ]);
  });

  it('basic-with-inserts-updates: UPDATE rewrote half the rows', async () => {
    const rows = await read('basic-with-inserts-updates', 'id, str', 'id');
    expect(rows).toEqual(range(0, 100).map((id) => ({ id, str: id < 50 ? 'N/A' : `val=${id}` })));
  });

  it('basic-with-inserts-merge: MERGE updated, inserted and deleted', async () => {
    const rows = await read('basic-with-inserts-merge', 'id, str', 'id');
    expect(rows).toEqual(
      range(10, 150).map((id) => ({ id, str: id < 50 ? `val=${id}` : id < 100 ? 'N/A' : 'EXT' })),
    );
  });

  it('basic-with-inserts-overwrite-restore: RESTORE brings old files back', async () => {
    const s = await snap('basic-with-inserts-overwrite-restore');
    expect(s.version).toBe(3);
    expect((await read('basic-with-inserts-overwrite-restore', 'id', 'id')).map((r) => r['id'])).toEqual(
      range(0, 200),
    );
  });

  it('basic-with-vacuum-protocol-check-feature: reader feature vacuumProtocolCheck is readable', async () => {
    const s = await snap('basic-with-vacuum-protocol-check-feature');
    expect(s.protocol.readerFeatures).toEqual(['vacuumProtocolCheck']);
    const rows = await read('basic-with-vacuum-protocol-check-feature', 'id, str', 'id');
    expect(rows).toEqual(range(0, 100).map((id) => ({ id, str: `val=${id}` })));
  });

  it('snapshot-data0..3, data2-deleted, repartitioned, vacuumed: append, overwrite, delete, rewrite', async () => {
    const byGen = async (name: string) => {
      const rows = await session.query(
        `SELECT split_part(col2, '-', 2) AS gen, count(*) AS n, sum(col1)::BIGINT AS s FROM (${(await open(name)).scanSql(await snap(name))}) GROUP BY 1 ORDER BY 1`,
      );
      return rows.rows.map((r) => [r['gen'], r['n'], r['s']]);
    };
    expect((await snap('snapshot-data0')).version).toBe(0);
    expect(await byGen('snapshot-data0')).toEqual([['0', 10, 45]]);
    expect((await snap('snapshot-data1')).version).toBe(1);
    expect(await byGen('snapshot-data1')).toEqual([
      ['0', 10, 45],
      ['1', 10, 45],
    ]);
    const data1Files = new Set((await snap('snapshot-data1')).files.map((f) => f.path));
    const data2 = await snap('snapshot-data2');
    expect(data2.version).toBe(2);
    expect(data2.files.some((f) => data1Files.has(f.path))).toBe(false);
    expect(await byGen('snapshot-data2')).toEqual([['2', 10, 45]]);
    expect((await snap('snapshot-data3')).version).toBe(3);
    expect(await byGen('snapshot-data3')).toEqual([
      ['2', 10, 45],
      ['3', 20, 190],
    ]);
    expect((await snap('snapshot-data2-deleted')).version).toBe(4);
    expect(await byGen('snapshot-data2-deleted')).toEqual([['3', 20, 190]]);
    const repartitioned = await snap('snapshot-repartitioned');
    expect([repartitioned.version, repartitioned.files.length]).toEqual([5, 2]);
    expect(await byGen('snapshot-repartitioned')).toEqual([['3', 20, 190]]);
    // vacuum left exactly the live files on disk
    const vacuumed = await snap('snapshot-vacuumed');
    expect(vacuumed.version).toBe(5);
    const onDisk = readdirSync(resolve(GOLDEN, 'snapshot-vacuumed')).filter((f) => f.endsWith('.parquet'));
    expect(vacuumed.files.map((f) => f.path).sort()).toEqual(onDisk.sort());
    expect(await byGen('snapshot-vacuumed')).toEqual([['3', 20, 190]]);
  });

  it('checkpoint: 15 commits, each replacing the previous file, checkpoint at 10', async () => {
    const latest = await snap('checkpoint');
    expect(latest.version).toBe(14);
    expect(latest.checkpointVersion).toBe(10);
    expect(latest.files.map((f) => f.path)).toEqual(['15']);
    expect(latest.tombstones.map((r) => r.path).sort()).toEqual(range(1, 15).map(String).sort());
    // an older version replays JSON only (the checkpoint is newer than it)
    const v5 = await snap('checkpoint', { version: 5 });
    expect(v5.checkpointVersion).toBeUndefined();
    expect(v5.files.map((f) => f.path)).toEqual(['6']);
  });

  it('multi-part-checkpoint: a checkpoint in two parts', async () => {
    const s = await snap('multi-part-checkpoint');
    expect([s.version, s.checkpointVersion, s.files.length]).toEqual([1, 1, 10]);
    expect(s.configuration['delta.checkpointInterval']).toBe('1');
    expect((await read('multi-part-checkpoint', 'id', 'id')).map((r) => r['id'])).toEqual(
      [0, ...range(0, 30)].sort((a, b) => a - b),
    );
  });

  it('only-checkpoint-files: reads from the newest checkpoint', async () => {
    const s = await snap('only-checkpoint-files');
    expect([s.version, s.checkpointVersion]).toEqual([2, 2]);
    const ids = (await read('only-checkpoint-files', 'id', 'id')).map((r) => r['id']);
    expect(ids).toEqual([...range(5, 10), ...range(0, 20)].sort((a, b) => a - b));
  });

  it('corrupted-last-checkpoint: reads through the checkpoint the hint points at', async () => {
    const s = await snap('corrupted-last-checkpoint');
    expect([s.version, s.checkpointVersion]).toEqual([10, 10]);
    expect(s.files.map((f) => f.path).sort()).toEqual(range(0, 11).map(String).sort());
  });

  it('corrupted-last-checkpoint-kernel: an empty _last_checkpoint falls back to listing', async () => {
    const s = await snap('corrupted-last-checkpoint-kernel');
    expect([s.version, s.checkpointVersion]).toEqual([11, 10]);
    const [agg] = await read(
      'corrupted-last-checkpoint-kernel',
      'count(*) AS n, sum(id)::BIGINT AS s, min(id) AS lo, max(id) AS hi',
    );
    expect(agg).toEqual({ n: 100, s: 4950, lo: 0, hi: 99 });
  });

  it('update-deleted-directory: a checkpoint at version 0', async () => {
    const s = await snap('update-deleted-directory');
    expect([s.version, s.checkpointVersion]).toEqual([0, 0]);
    expect(s.files.map((f) => f.path).sort()).toEqual(range(1, 11).map(String).sort());
  });

  it('log-replay-latest-metadata-protocol: the newest protocol and metadata win', async () => {
    const s = await snap('log-replay-latest-metadata-protocol');
    expect([s.protocol.minReaderVersion, s.protocol.minWriterVersion]).toEqual([3, 7]);
    expect(s.schema.fields.map((f) => f.name)).toEqual(['col1', 'col2']);
    // files written before col2 existed read it as NULL
    const [agg] = await read(
      'log-replay-latest-metadata-protocol',
      'count(*) AS n, count(col2) AS with_col2',
    );
    expect(agg).toEqual({ n: 40, with_col2: 20 });
  });

  it('log-replay-special-characters-a/-b: URL-encoded paths in adds and removes', async () => {
    expect((await snap('log-replay-special-characters-a')).files).toEqual([]);
    expect((await snap('log-replay-special-characters')).files).toEqual([]);
    const b = await snap('log-replay-special-characters-b');
    expect(b.files).toHaveLength(1);
    // the file itself does not exist: only where the reader would look for it is checked
    const [location] = snapshotFileLocations(store, b);
    expect(basename(location ?? '')).toBe('special p@#h');
  });

  it('delete-re-add-same-file-different-transactions: a re-added path is live again', async () => {
    const s = await snap('delete-re-add-same-file-different-transactions');
    expect(s.files.map((f) => f.path).sort()).toEqual(['bar', 'foo']);
    expect(s.files.find((f) => f.path === 'foo')?.modificationTime).toBe(1700000000000);
  });

  for (const name of [
    'canonicalized-paths-normal-a',
    'canonicalized-paths-normal-b',
    'canonicalized-paths-special-a',
    'canonicalized-paths-special-b',
  ]) {
    it(`${name}: a remove written as file: URI cancels the add of the bare path`, async () => {
      const s = await snap(name);
      expect(s.version).toBe(1);
      expect(s.files).toEqual([]);
    });
  }

  it('deltalog-getChanges: txn versions per application', async () => {
    const s = await snap('deltalog-getChanges');
    expect(s.txnVersion('fakeAppId')).toBe(3);
    expect(s.txnVersion('nonExistentAppId')).toBeUndefined();
    expect(s.files).toEqual([]);
  });

  it('deltalog-commit-info: history exposes the commitInfo', async () => {
    const [entry] = await (await open('deltalog-commit-info')).history();
    expect(entry?.version).toBe(0);
    expect(entry?.timestamp).toBe(1540415658000);
    expect(entry?.operation).toBe('WRITE');
    expect(entry?.commitInfo?.['userName']).toBe('username_0');
    expect(entry?.operationParameters).toEqual({ test: 'test' });
  });

  it('commit-info-containing-arbitrary-operationParams-types: reads and lists history', async () => {
    expect(await read('commit-info-containing-arbitrary-operationParams-types', 'id, month', 'id')).toEqual([
      { id: 1, month: 1 },
      { id: 2, month: 2 },
    ]);
    const history = await (await open('commit-info-containing-arbitrary-operationParams-types')).history();
    expect(history.map((h) => h.version)).toEqual([2, 1, 0]);
  });
});

describe('golden: time travel', () => {
  it('time-travel-start-start20-start40: by version', async () => {
    for (const version of [0, 1, 2]) {
      const ids = (await read('time-travel-start-start20-start40', 'id', 'id', { version })).map(
        (r) => r['id'],
      );
      expect(ids).toEqual(range(0, 10 * (version + 1)));
    }
  });

  it('time-travel-start-start20-start40: by commit timestamp', async () => {
    const table = await open('time-travel-start-start20-start40');
    const at = async (ms: number) => (await table.snapshot({ timestamp: new Date(ms) })).version;
    expect(await at(1603724019870)).toBe(0);
    expect(await at(1603724021189)).toBe(0);
    expect(await at(1603724021190)).toBe(1);
    expect(await at(1603724022561)).toBe(2);
    expect(await at(Date.parse('2030-01-01'))).toBe(2);
    const err = await table.snapshot({ timestamp: new Date(1603724019869) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WEIR-L007' });
    expect(String((err as Error).message)).toContain('2020-10-26T14:53:39.870Z');
  });

  it('time-travel-start, -start20, -schema-changes-a, -partition-changes-a: each generation of the copies', async () => {
    expect((await snap('time-travel-start')).version).toBe(0);
    expect(await read('time-travel-start', 'id', 'id')).toEqual(range(0, 10).map((id) => ({ id })));
    expect((await snap('time-travel-start-start20')).version).toBe(1);
    expect((await read('time-travel-start-start20', 'id', 'id')).map((r) => r['id'])).toEqual(range(0, 20));
    expect((await read('time-travel-schema-changes-a', 'id', 'id')).map((r) => r['id'])).toEqual(
      range(0, 10),
    );
    expect(await read('time-travel-partition-changes-a', 'id, part5', 'id')).toEqual(
      range(0, 10).map((id) => ({ id, part5: id % 5 })),
    );
  });

  it('time-travel-schema-changes-b: old versions keep their schema', async () => {
    const v0 = await snap('time-travel-schema-changes-b', { version: 0 });
    expect(v0.schema.fields.map((f) => f.name)).toEqual(['id']);
    const rows = await read('time-travel-schema-changes-b', 'id, part', 'id');
    expect(rows).toEqual(range(0, 20).map((id) => ({ id, part: id < 10 ? null : id })));
  });

  it('time-travel-partition-changes-b: partitioning changed by an overwrite', async () => {
    const v0 = await snap('time-travel-partition-changes-b', { version: 0 });
    expect(v0.partitionColumns).toEqual(['part5']);
    expect(await read('time-travel-partition-changes-b', 'id, part5', 'id', { version: 0 })).toEqual(
      range(0, 10).map((id) => ({ id, part5: id % 5 })),
    );
    const latest = await snap('time-travel-partition-changes-b');
    expect(latest.partitionColumns).toEqual(['part2']);
    expect(await read('time-travel-partition-changes-b', 'id, part2', 'id')).toEqual(
      range(10, 20).map((id) => ({ id, part2: id % 2 })),
    );
  });

  it('a version past the end is WEIR-L006', async () => {
    const err = await snap('time-travel-start', { version: 5 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WEIR-L006' });
  });
});

describe('golden: timestamps', () => {
  // Kernel's expectations (micros since epoch, UTC) for writeBasicTimestampTable.
  const utcRows = [
    { id: 0, part: 1577866150001000, time: 1580544550000000 },
    { id: 1, part: 1633075760000000, time: 915181200000000 },
    { id: 2, part: 1633075760000000, time: 946717200000000 },
    { id: 3, part: -31536000000000, time: -31536000000000 },
    { id: 4, part: null, time: null },
  ];
  for (const type of ['INT96', 'TIMESTAMP_MICROS', 'TIMESTAMP_MILLIS']) {
    it(`kernel-timestamp-${type}: data and partition timestamps as UTC instants`, async () => {
      expect(
        await read(
          `kernel-timestamp-${type}`,
          'id, epoch_us(part) AS part, epoch_us("time") AS "time"',
          'id',
        ),
      ).toEqual(utcRows);
    });
  }

  it('kernel-timestamp-PST: data shifted by the writer zone, partition values read as UTC', async () => {
    const pst = utcRows.map((r) => ({ ...r, time: r.time === null ? null : r.time + 8 * 3600 * 1_000_000 }));
    expect(
      await read('kernel-timestamp-PST', 'id, epoch_us(part) AS part, epoch_us("time") AS "time"', 'id'),
    ).toEqual(pst);
  });

  it('kernel-timestamp-partition-col-ISO8601: ISO 8601 partition values', async () => {
    expect(await read('kernel-timestamp-partition-col-ISO8601', 'str, epoch_us(ts) AS ts', 'str')).toEqual([
      { str: '2024-01-01 10:00:00', ts: utcMicros('2024-01-01T10:00:00Z') },
      { str: '2024-01-02 12:30:00', ts: utcMicros('2024-01-02T12:30:00Z') },
    ]);
  });

  const ntz = [
    [0, 1637202600123456, 1637202600123456],
    [1, 1373043660123456, 1637202600123456],
    [2, null, 1637202600123456],
    [3, 1637202600123456, 1373043660123456],
    [4, 1373043660123456, 1373043660123456],
    [5, null, 1373043660123456],
    [6, 1637202600123456, null],
    [7, 1373043660123456, null],
    [8, null, null],
  ];
  for (const suffix of ['', '-name-mode', '-id-mode']) {
    it(`data-reader-timestamp_ntz${suffix}: timestamp_ntz data and partitions${suffix ? ' with column mapping' : ''}`, async () => {
      const table = await open(`data-reader-timestamp_ntz${suffix}`);
      expect(table.columns(await table.snapshot()).map((c) => c.type)).toEqual([
        'INTEGER',
        'TIMESTAMP',
        'TIMESTAMP',
      ]);
      const rows = await read(
        `data-reader-timestamp_ntz${suffix}`,
        'id, epoch_us(tsNtz) AS a, epoch_us(tsNtzPartition) AS b',
        'id',
      );
      expect(rows.map((r) => [r['id'], r['a'], r['b']])).toEqual(ntz);
    });
  }
});

describe('golden: column mapping, type widening, stats', () => {
  for (const mode of ['name', 'id']) {
    it(`table-with-columnmapping-mode-${mode}: physical column names are mapped back`, async () => {
      const rows = await read(
        `table-with-columnmapping-mode-${mode}`,
        `ByteType, decimal::VARCHAR AS dec, StringType, hex(BinaryType) AS bin, DateType, epoch_us(TimestampType) AS ts,
         to_json(nested_struct)::VARCHAR AS ns, array_of_prims, map_keys(map_of_prims) AS mk, map_values(map_of_prims) AS mv,
         to_json(struct_of_arrays_maps_of_structs.aa)::VARCHAR AS sa, to_json(map_of_rows)::VARCHAR AS mr`,
        'ByteType NULLS LAST',
      );
      expect(rows).toHaveLength(6);
      for (const i of range(0, 5)) {
        expect(rows[i]).toEqual({
          ByteType: i,
          dec: `${i}.00`,
          StringType: String(i),
          bin: hex2(48 + i),
          DateType: '2021-11-18',
          ts: i * 1000,
          ns: JSON.stringify({ aa: String(i), ac: { aca: i } }),
          array_of_prims: [i, i + 1],
          mk: [i, i + 2],
          mv: [i + 1, i + 3],
          sa: JSON.stringify([i, i + 1]),
          mr: JSON.stringify({ [String(i + 1)]: { ab: i * 20 } }),
        });
      }
      expect(Object.values(rows[5] ?? {}).every((v) => v === null)).toBe(true);
    });
  }

  it('table-with-icebegCompatV2Enabled: column mapping with icebergCompatV2 (a writer feature)', async () => {
    const [agg] = await read(
      'table-with-icebegCompatV2Enabled',
      'count(*) AS n, sum(IntegerType)::BIGINT AS s, count(nested_struct) AS ns',
    );
    expect(agg).toEqual({ n: 6, s: 10, ns: 5 });
  });

  for (const name of [
    'data-skipping-basic-stats-all-types',
    'data-skipping-basic-stats-all-types-checkpoint',
    'data-skipping-basic-stats-all-types-columnmapping-name',
    'data-skipping-basic-stats-all-types-columnmapping-id',
  ]) {
    it(`${name}: one row of every stats type`, async () => {
      const rows = await read(
        name,
        'as_int, as_long, as_byte, as_short, as_float, as_double, as_string, as_date, epoch_us(as_timestamp) AS ts, as_big_decimal::VARCHAR AS dec',
      );
      expect(rows).toEqual([
        {
          as_int: 0,
          as_long: 0,
          as_byte: 0,
          as_short: 0,
          as_float: 0,
          as_double: 0,
          as_string: '0',
          as_date: '2000-01-01',
          ts: utcMicros('2000-01-01T08:00:00Z'),
          dec: '0',
        },
      ]);
      const stats = JSON.parse((await snap(name)).files[0]?.stats ?? '{}') as { numRecords?: number };
      expect(stats.numRecords).toBe(1);
    });
  }

  it('data-skipping-partition-and-data-column and change-stats-collected-across-versions', async () => {
    expect(await read('data-skipping-partition-and-data-column', 'part, id', 'part, id')).toEqual([
      { part: 0, id: 0 },
      { part: 0, id: 1 },
      { part: 1, id: 0 },
      { part: 1, id: 1 },
    ]);
    const [agg] = await read(
      'data-skipping-change-stats-collected-across-versions',
      'count(*) AS n, sum(col1) AS a, sum(col2) AS b',
    );
    expect(agg?.['n']).toBe(3);
  });

  it('type-widening: files written before a type change read as the new type', async () => {
    const table = await open('type-widening');
    const types = table.columns(await table.snapshot()).map((c) => `${c.name}:${c.type}`);
    expect(types).toContain('byte_long:BIGINT');
    expect(types).toContain('date_timestamp_ntz:TIMESTAMP');
    const rows = await read(
      'type-widening',
      `byte_long::VARCHAR AS bl, int_long::VARCHAR AS il, float_double, byte_double, decimal_decimal_same_scale::VARCHAR AS dd,
       decimal_decimal_greater_scale::VARCHAR AS dg, long_decimal::VARCHAR AS ld, epoch_us(date_timestamp_ntz) AS ts`,
      'byte_long',
    );
    expect(rows[0]).toEqual({
      bl: '1',
      il: '2',
      float_double: Math.fround(3.4),
      byte_double: 5,
      dd: '123.45',
      dg: '67.89000',
      ld: '4.0',
      ts: utcMicros('2024-09-09T00:00:00Z'),
    });
    expect(rows[1]?.['bl']).toBe('9223372036854775807');
  });

  it('type-widening-nested: widened types inside struct, map and array', async () => {
    const rows = await read(
      'type-widening-nested',
      `"struct".a::VARCHAR AS a, list_transform(map_keys("map"), lambda k: k::VARCHAR) AS mk, list_transform("array", lambda x: x::VARCHAR) AS arr`,
      '"struct".a',
    );
    expect(rows[0]).toEqual({ a: '1', mk: ['2'], arr: ['4', '5'] });
  });

  it('parquet-all-types: 200 rows of every type with nulls in patterns', async () => {
    const [agg] = await read(
      'parquet-all-types',
      'count(*) AS n, count(ByteType) AS b, count(IntegerType) AS i, count(LongType) AS l, count(nested_struct) AS ns',
    );
    // i % 72, i % 23, i % 25, i % 63 are null for 3, 9, 8, 4 of 200 rows
    expect(agg).toEqual({ n: 200, b: 197, i: 191, l: 192, ns: 196 });
    const [row] = await read(
      'parquet-all-types',
      `ByteType, ShortType, LongType, FloatType, DoubleType, decimal::VARCHAR AS dec, BooleanType, StringType,
       hex(BinaryType) AS bin, DateType, epoch_us(TimestampType) AS ts, to_json(nested_struct)::VARCHAR AS ns`,
      undefined,
    ).then((all) => all.filter((r) => r['ByteType'] === 1));
    expect(row).toEqual({
      ByteType: 1,
      ShortType: 1,
      LongType: 2,
      FloatType: Math.fround(0.234),
      DoubleType: 234234.23,
      dec: '123.52',
      BooleanType: false,
      StringType: '1',
      bin: '31',
      DateType: '1970-01-01',
      ts: 23423523000,
      ns: JSON.stringify({ aa: '1', ac: { aca: 1 } }),
    });
  });

  it('collations-table: collations are a writer feature; strings read as strings', async () => {
    const table = await open('collations-table');
    expect(table.columns(await table.snapshot()).map((c) => c.type)).toEqual([
      'INTEGER',
      'VARCHAR',
      'VARCHAR',
      'VARCHAR',
    ]);
  });
});

describe('golden: hive connector tables', () => {
  it('hive/deltatbl-partition-prune: two string partition columns', async () => {
    expect(await read('hive/deltatbl-partition-prune', 'date, city, name, cnt', 'cnt')).toEqual([
      { date: '20180520', city: 'bj', name: 'Trump', cnt: 1 },
      { date: '20180520', city: 'hz', name: 'Jim', cnt: 3 },
      { date: '20180512', city: 'sh', name: 'Jay', cnt: 4 },
      { date: '20180718', city: 'hz', name: 'Jone', cnt: 7 },
      { date: '20181212', city: 'sz', name: 'Linda', cnt: 8 },
    ]);
  });

  // (x, s"foo${x % 2}") for x in 0..9, under different names and partitionings
  for (const [name, cols] of [
    ['hive/deltatbl-non-partitioned', ['c1', 'c2']],
    ['hive/deltatbl-partitioned', ['c1', 'c2']],
    ['hive/deltatbl-touch-files-needed-for-partitioned', ['c1', 'c2']],
    ['hive/deltatbl-deleted-path', ['c1', 'c2']],
    ['hive/deltatbl-not-allow-write', ['a', 'b']],
    ['hive/deltatbl-incorrect-format-config', ['a', 'b']],
    ['hive/deltatbl-column-names-case-insensitive', ['FooBar', 'BarFoo']],
  ] as const) {
    it(`${name}: ten rows`, async () => {
      const [x, y] = cols;
      const rows = await read(name, `"${x}" AS x, "${y}" AS y`, 'x');
      expect(rows).toEqual(range(0, 10).map((i) => ({ x: i, y: `foo${i % 2}` })));
    });
  }

  it('hive/deltatbl-schema-match: partitioned by the middle column', async () => {
    const rows = await read('hive/deltatbl-schema-match', 'a, b, c', 'a');
    expect(rows).toEqual(range(0, 10).map((a) => ({ a, b: `foo${a % 2}`, c: `test${a % 3}` })));
  });

  it('hive/deltatbl-special-chars-in-partition-column: "+ =%" in partition values', async () => {
    const rows = await read('hive/deltatbl-special-chars-in-partition-column', 'c1, c2', 'c1');
    expect(rows).toEqual(range(0, 10).map((c1) => ({ c1, c2: `+ =%${c1 % 2}` })));
  });

  it('hive/deltatbl-map-types-correctly: one row of every Hive-mappable type', async () => {
    const rows = await read(
      'hive/deltatbl-map-types-correctly',
      'c1, hex(c2) AS c2, c3, c4, c5, c6, c7, c8, c9, c10, epoch_us(c11) AS c11, c12::VARCHAR AS c12, c13, map_keys(c14) AS k14, to_json(c15)::VARCHAR AS c15',
    );
    expect(rows).toEqual([
      {
        c1: 97,
        c2: '6263',
        c3: true,
        c4: 4,
        c5: 5,
        c6: 'foo',
        c7: 6,
        c8: 7,
        c9: 8,
        c10: '1970-01-01',
        c11: 60000000 * 1000,
        c12: '12345.678900000000794535',
        c13: ['foo', 'bar'],
        k14: ['foo'],
        c15: JSON.stringify({ f1: 'foo', f2: 456 }),
      },
    ]);
  });
});

describe('golden: refused and broken tables', () => {
  it('no-delta-log-folder and log-store-* folders are not Delta tables (WEIR-L002)', async () => {
    for (const name of ['no-delta-log-folder', 'log-store-read', 'log-store-listFrom']) {
      const err = await refusal(name);
      expect(err.code).toBe('WEIR-L002');
      expect(err.message).toContain(name);
      expect(err.hint).toBeTruthy();
    }
  });

  it('deltalog-invalid-protocol-version: reader version 99 is refused (WEIR-L001)', async () => {
    const err = await refusal('deltalog-invalid-protocol-version');
    expect(err.code).toBe('WEIR-L001');
    expect(err.message).toContain('deltalog-invalid-protocol-version');
    expect(err.message).toContain('99');
  });

  for (const name of ['dv-partitioned-with-checkpoint', 'dv-with-columnmapping', 'log-replay-dv-key-cases']) {
    it(`${name}: deletion vectors are refused, not ignored (WEIR-L001)`, async () => {
      const err = await refusal(name);
      expect(err.code).toBe('WEIR-L001');
      expect(err.message).toContain(name);
      expect(err.message).toContain('deletionVectors');
      expect(err.hint).toMatch(/REORG|Spark/);
    });
  }

  for (const [name, feature] of [
    ['v2-checkpoint-json', 'v2Checkpoint'],
    ['v2-checkpoint-parquet', 'v2Checkpoint'],
    ['spark-variant-checkpoint', 'variantType-preview'],
  ] as const) {
    it(`${name}: reader feature ${feature} is refused (WEIR-L001)`, async () => {
      const err = await refusal(name);
      expect(err.code).toBe('WEIR-L001');
      expect(err.message).toContain(feature);
    });
  }

  it('versions-not-contiguous: a missing commit is a log gap (WEIR-L005)', async () => {
    const err = await refusal('versions-not-contiguous');
    expect(err.code).toBe('WEIR-L005');
    expect(err.message).toContain('Commit 1');
  });

  for (const [name, missing] of [
    ['deltalog-state-reconstruction-without-protocol', 'protocol'],
    ['deltalog-state-reconstruction-without-metadata', 'metadata'],
    ['deltalog-state-reconstruction-from-checkpoint-missing-metadata', 'metadata'],
    ['deltalog-state-reconstruction-from-checkpoint-missing-protocol', 'protocol'],
    ['data-reader-absolute-paths-escaped-chars', 'metadata'],
  ] as const) {
    it(`${name}: no ${missing} in the log (WEIR-L004)`, async () => {
      const err = await refusal(name);
      expect(err.code).toBe('WEIR-L004');
      expect(err.message).toContain(`No ${missing} found`);
    });
  }
});
