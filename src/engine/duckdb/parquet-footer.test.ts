import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { footerColumnStats, parseFileMetaData, readParquetFooter } from './parquet-footer.js';
import { columnStats } from './parquet-stats.js';

let dir: string;
let instance: DuckDBInstance;
let con: DuckDBConnection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-footer-'));
  instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  con = await instance.connect();
});
afterAll(async () => {
  con.closeSync();
  instance.closeSync();
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;

/** Writes `sql` once with RETURN_STATS; returns the stats DuckDB reported and those of the footer. */
async function bothWays(sql: string, copyOptions = ''): Promise<{ fromCopy: unknown; fromFooter: unknown }> {
  const described = await con.runAndReadAll(`DESCRIBE ${sql}`);
  const types = new Map(
    described.getRowObjectsJS().map((r) => [String(r['column_name']), String(r['column_type'])]),
  );
  const path = join(dir, `f${++seq}.parquet`);
  const reader = await con.runAndReadAll(
    `COPY (${sql}) TO '${path}' (FORMAT parquet, COMPRESSION zstd, RETURN_STATS true${copyOptions})`,
  );
  const row = reader.getRowObjectsJS()[0] ?? {};
  const { footer, bytes } = readParquetFooter(path);
  expect(footer.numRows).toBe(Number(row['count']));
  expect(bytes).toBe(Number(row['file_size_bytes']));
  return {
    fromCopy: columnStats(row['column_statistics'], types),
    fromFooter: footerColumnStats(footer, types),
  };
}

const EDGE_ROWS = `
  SELECT * FROM (VALUES
    (1::TINYINT, (-32768)::SMALLINT, 2147483647::INTEGER, 9007199254740993::BIGINT, 1.5::FLOAT, (-0.1)::DOUBLE,
     12.34::DECIMAL(4,2), (-123456789012.345678)::DECIMAL(18,6), 12345678901234567890.1234567890::DECIMAL(38,10),
     'a', 'the quick brown fox jumps over the lazy dog', 'é😀', DATE '1969-12-31',
     TIMESTAMPTZ '2024-02-29 23:59:59.999999+00', TIMESTAMP '1970-01-01 00:00:00.000500',
     TIMESTAMP_MS '2024-01-01 00:00:00.123', TIMESTAMP_NS '2024-01-01 00:00:00.123456789', TIMESTAMP_S '2001-02-03 04:05:06',
     true, '\\x00\\xff'::BLOB, NULL::INTEGER, {'x': 1}, [1, 2], 5::UTINYINT, 4000000000::UINTEGER),
    ((-128)::TINYINT, 32767::SMALLINT, (-2147483648)::INTEGER, (-9223372036854775808)::BIGINT, (-3.25)::FLOAT, 1e300::DOUBLE,
     (-99.99)::DECIMAL(4,2), 0.000001::DECIMAL(18,6), (-0.0000000001)::DECIMAL(38,10),
     '', 'the quick brown fox jumps over the lazy cat and more', 'z', DATE '2262-04-11',
     TIMESTAMPTZ '1900-01-01 00:00:00.0000001+00', TIMESTAMP '2038-01-19 03:14:07.999001',
     TIMESTAMP_MS '1960-06-01 12:00:00.001', TIMESTAMP_NS '1969-12-31 23:59:59.999999999', TIMESTAMP_S '1901-12-13 20:45:52',
     false, NULL::BLOB, NULL::INTEGER, {'x': 2}, [], 250::UTINYINT, 1::UINTEGER),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL)
  ) t(i8, i16, i32, i64, f32, f64, d4, d18, d38, s, long_s, uni, d, tstz, ts, ts_ms, ts_ns, ts_s, b, blob,
      nothing, st, li, u8, u32)`;

describe('Parquet footer statistics', () => {
  it('match what COPY ... RETURN_STATS reports, column by column, over every type Delta can hold', async () => {
    const { fromCopy, fromFooter } = await bothWays(EDGE_ROWS);
    expect(fromFooter).toEqual(fromCopy);
    // Spot checks that the comparison is not of two empty objects.
    const stats = fromFooter as Record<string, { min?: unknown; max?: unknown; nullCount?: number }>;
    expect(stats['i32']).toEqual({ min: -2147483648, max: 2147483647, nullCount: 1 });
    expect(stats['d4']).toEqual({ min: -99.99, max: 12.34, nullCount: 1 });
    expect(stats['uni']).toEqual({ min: 'z', max: 'é😀', nullCount: 1 });
    expect(stats['nothing']).toEqual({ nullCount: 3 });
    expect(stats['tstz']?.min).toBe('1900-01-01T00:00:00.000Z');
    expect(stats['tstz']?.max).toBe('2024-03-01T00:00:00.000Z');
    expect(stats['st']).toBeUndefined();
  });

  it('match over many random rows in several row groups', async () => {
    const sql = `
      SELECT (hash(i) % 1000000)::BIGINT - 500000 AS n,
             (hash(i * 7) % 100000)::DOUBLE / 7 AS x,
             ((hash(i * 3) % 2000000)::BIGINT - 1000000)::DECIMAL(12,3) / 1000 AS dec,
             CASE WHEN i % 17 = 0 THEN NULL ELSE md5(i::VARCHAR) END AS s,
             DATE '2000-01-01' + (hash(i) % 20000)::INTEGER AS d,
             TIMESTAMPTZ '2020-01-01 00:00:00+00' + to_microseconds((hash(i * 11) % 100000000000)::BIGINT) AS ts
      FROM range(20000) r(i)`;
    const { fromCopy, fromFooter } = await bothWays(sql, ', ROW_GROUP_SIZE 4096');
    expect(fromFooter).toEqual(fromCopy);
    const { footer } = readParquetFooter(join(dir, `f${seq}.parquet`));
    expect(footer.rowGroups.length).toBeGreaterThan(1);
  });

  it('refuses what is not a Parquet file, and a truncated footer', async () => {
    const path = join(dir, 'not.parquet');
    await writeFile(path, 'hello, this is not parquet at all');
    expect(() => readParquetFooter(path)).toThrow(/PAR1/);
    expect(() => parseFileMetaData(Buffer.from([0x15, 0x02]))).toThrow(/ends early/);
  });
});
