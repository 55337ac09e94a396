import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession, WrittenFile } from '../src/core/engine.js';
import { quoteLiteral } from '../src/core/engine.js';
import { SqlError } from '../src/engine/sql-error.js';

/** Every file under a folder, recursively, relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

async function sqlErrorOf(promise: Promise<unknown>): Promise<SqlError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SqlError);
    return err as SqlError;
  }
  throw new Error('expected the statement to fail');
}

/**
 * The contract every Engine must meet (Drizzle-style shared suite). Engine-specific SQL is kept to
 * what DuckDB and the push-down engines share, plus `range()` and `read_parquet()`.
 */
export function engineConformance(name: string, factory: () => Promise<Engine>): void {
  describe(`Engine conformance: ${name}`, () => {
    let engine: Engine;
    let session: EngineSession;
    let tmp: string;

    beforeAll(async () => {
      engine = await factory();
      session = await engine.session();
      tmp = await mkdtemp(join(tmpdir(), 'weir-engine-'));
    });

    afterAll(async () => {
      session?.close();
      await engine?.close();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    });

    describe('exec and query', () => {
      it('runs several statements in one exec and reads them back', async () => {
        await session.exec(`
          CREATE TABLE conf_items (id INTEGER, label VARCHAR);
          INSERT INTO conf_items VALUES (1, 'one'), (2, 'two'), (3, NULL);
        `);
        const result = await session.query('SELECT id, label FROM conf_items ORDER BY id');
        expect(result.columns.map((c) => c.name)).toEqual(['id', 'label']);
        expect(result.columns.map((c) => c.type)).toEqual(['INTEGER', 'VARCHAR']);
        expect(result.rows).toEqual([
          { id: 1, label: 'one' },
          { id: 2, label: 'two' },
          { id: 3, label: null },
        ]);
      });

      it('maps engine types to plain JS values', async () => {
        const { rows, columns } = await session.query(`
          SELECT
            42::INTEGER AS i,
            9007199254740991::BIGINT AS big_safe,
            9007199254740993::BIGINT AS big_unsafe,
            170141183460469231731687303715884105727::HUGEINT AS huge,
            1.25::DOUBLE AS dbl,
            12345678901234567.89::DECIMAL(19,2) AS dec,
            'héllo'::VARCHAR AS txt,
            TRUE AS flag,
            DATE '2024-02-29' AS day,
            TIMESTAMP '2024-02-29 12:34:56.789' AS ts,
            TIMESTAMPTZ '2024-02-29 12:34:56.789+00' AS tstz,
            [1, 2, 3] AS list,
            {'a': 1, 'b': 'x'} AS obj,
            NULL::INTEGER AS nothing
        `);
        const row = rows[0]!;
        expect(row['i']).toBe(42);
        expect(row['big_safe']).toBe(Number.MAX_SAFE_INTEGER);
        expect(row['big_unsafe']).toBe(9007199254740993n);
        expect(row['huge']).toBe(170141183460469231731687303715884105727n);
        expect(row['dbl']).toBe(1.25);
        expect(row['dec']).toBe('12345678901234567.89');
        expect(row['txt']).toBe('héllo');
        expect(row['flag']).toBe(true);
        expect(row['day']).toBe('2024-02-29');
        expect(row['ts']).toEqual(new Date('2024-02-29T12:34:56.789Z'));
        expect(row['tstz']).toEqual(new Date('2024-02-29T12:34:56.789Z'));
        expect(row['list']).toEqual([1, 2, 3]);
        expect(row['obj']).toEqual({ a: 1, b: 'x' });
        expect(row['nothing']).toBeNull();
        const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
        expect(types['dec']).toBe('DECIMAL(19,2)');
        expect(types['tstz']).toBe('TIMESTAMP WITH TIME ZONE');
        expect(types['big_unsafe']).toBe('BIGINT');
      });

      it('binds positional parameters of every SqlValue kind', async () => {
        const { rows } = await session.query(
          'SELECT $1 + 1 AS n, $2 AS s, $3 AS b, $4 AS t, $5 AS big, $6 AS list, $7 IS NULL AS isnull',
          [41, "it's", true, new Date('2020-01-02T03:04:05.006Z'), 2n ** 70n, [1, 2], null],
        );
        expect(rows[0]).toEqual({
          n: 42,
          s: "it's",
          b: true,
          t: new Date('2020-01-02T03:04:05.006Z'),
          big: 2n ** 70n,
          list: [1, 2],
          isnull: true,
        });
      });

      it('keeps a session temp table away from other sessions', async () => {
        const other = await engine.session();
        try {
          await session.exec('CREATE TEMP TABLE conf_private AS SELECT 1 AS x');
          expect((await session.query('SELECT x FROM conf_private')).rows).toEqual([{ x: 1 }]);
          const err = await sqlErrorOf(other.query('SELECT x FROM conf_private'));
          expect(err.kind).toBe('catalog');
        } finally {
          other.close();
        }
      });

      it('runs statements on many sessions at once', async () => {
        const sessions = await Promise.all(Array.from({ length: 4 }, () => engine.session()));
        try {
          const results = await Promise.all(
            sessions.map((s, i) =>
              s.query(`SELECT ${i} AS k, sum(x)::BIGINT AS total FROM range(${200_000 * (i + 1)}) t(x)`),
            ),
          );
          results.forEach((r, i) => {
            const n = 200_000 * (i + 1);
            expect(r.rows[0]).toEqual({ k: i, total: (n * (n - 1)) / 2 });
          });
        } finally {
          for (const s of sessions) s.close();
        }
      });

      it('queues calls made on one session concurrently instead of interleaving them', async () => {
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            session.query(`SELECT ${i} AS i, count(*) AS n FROM range(${1000 * i})`),
          ),
        );
        results.forEach((r, i) => expect(r.rows[0]).toEqual({ i, n: 1000 * i }));
      });
    });

    describe('stream', () => {
      it('streams a million rows in bounded batches', async () => {
        const batchRows = 50_000;
        let total = 0;
        let sum = 0;
        let batches = 0;
        let maxBatch = 0;
        const heapBefore = process.memoryUsage().heapUsed;
        let heapPeak = heapBefore;
        for await (const batch of session.stream('SELECT i FROM range(1000000) t(i)', batchRows)) {
          batches++;
          maxBatch = Math.max(maxBatch, batch.length);
          total += batch.length;
          for (const row of batch) sum += row['i'] as number;
          if (batches % 4 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        }
        expect(total).toBe(1_000_000);
        expect(sum).toBe((1_000_000 * 999_999) / 2);
        expect(maxBatch).toBeLessThanOrEqual(batchRows);
        expect(batches).toBeGreaterThanOrEqual(20);
        // A million materialised row objects need well over 100 MB; a bounded stream stays far below.
        expect(heapPeak - heapBefore).toBeLessThan(100 * 1024 * 1024);
      });

      it('yields the first batch long before an endless result would finish', async () => {
        const started = performance.now();
        let first: ReadonlyArray<Record<string, unknown>> | undefined;
        for await (const batch of session.stream('SELECT i FROM range(1000000000000) t(i)', 5000)) {
          first = batch;
          break;
        }
        expect(first).toHaveLength(5000);
        expect(first![0]).toEqual({ i: 0 });
        expect(performance.now() - started).toBeLessThan(5000);
      });

      it('frees the session when the consumer stops early', async () => {
        let seen = 0;
        for await (const batch of session.stream('SELECT i FROM range(100000) t(i)', 1000)) {
          seen += batch.length;
          if (seen >= 3000) break;
        }
        expect(seen).toBe(3000);
        expect((await session.query('SELECT 7 AS x')).rows).toEqual([{ x: 7 }]);
      });

      it('yields nothing for an empty result and reports errors as SqlError', async () => {
        const batches: unknown[] = [];
        for await (const b of session.stream('SELECT 1 AS x WHERE false')) batches.push(b);
        expect(batches).toEqual([]);
        const err = await sqlErrorOf(
          (async () => {
            for await (const _ of session.stream('SELECT nope FROM range(3)')) void _;
          })(),
        );
        expect(err.kind).toBe('binder');
      });
    });

    describe('describe', () => {
      it('returns names and engine types without running the query', async () => {
        const started = performance.now();
        const cols = await session.describe(
          `SELECT i::DECIMAL(18,2) AS amount, 'x' AS label, now() AS at, i AS "odd name"
           FROM range(1000000000000) t(i) ORDER BY i DESC`,
        );
        expect(performance.now() - started).toBeLessThan(2000);
        expect(cols.map((c) => [c.name, c.type])).toEqual([
          ['amount', 'DECIMAL(18,2)'],
          ['label', 'VARCHAR'],
          ['at', 'TIMESTAMP WITH TIME ZONE'],
          ['odd name', 'BIGINT'],
        ]);
      });

      it('reports a missing table as a catalog SqlError', async () => {
        const err = await sqlErrorOf(session.describe('SELECT * FROM conf_missing_table'));
        expect(err.kind).toBe('catalog');
        expect(err.code).toBe('WEIR-E001');
      });
    });

    describe('writeParquet', () => {
      const source = `
        SELECT
          i::INTEGER AS "a b",
          i::BIGINT AS big,
          i * 1.5 AS dbl,
          (i / 4)::DECIMAL(10,2) AS amount,
          'name-' || i AS label,
          DATE '2024-01-01' + i::INTEGER AS day,
          TIMESTAMPTZ '2024-01-01 00:00:00.000999+00' + i * INTERVAL 1 HOUR AS at,
          i % 2 = 0 AS even,
          CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS sometimes,
          [i, i] AS pair,
          CASE WHEN i < 6 THEN 'x/y=z' WHEN i < 9 THEN 'plain' ELSE NULL END AS part
        FROM range(10) t(i)`;

      it('writes one zstd file with typed, JSON-ready stats', async () => {
        const dir = join(tmp, 'single');
        const files = await session.writeParquet(source, { dir, prefix: 'part-' });
        expect(files).toHaveLength(1);
        const file = files[0]!;
        expect(isAbsolute(file.path)).toBe(true);
        expect(relative(dir, file.path)).toMatch(/^part-[0-9a-f-]{36}\.parquet$/);
        expect(file.rows).toBe(10);
        expect(file.bytes).toBe((await stat(file.path)).size);
        expect(file.partitionValues).toEqual({});
        const c = file.columns;
        expect(c['a b']).toEqual({ min: 0, max: 9, nullCount: 0 });
        expect(c['big']).toEqual({ min: 0, max: 9, nullCount: 0 });
        expect(c['dbl']).toEqual({ min: 0, max: 13.5, nullCount: 0 });
        expect(c['amount']).toEqual({ min: 0, max: 2.25, nullCount: 0 });
        expect(c['label']).toEqual({ min: 'name-0', max: 'name-9', nullCount: 0 });
        expect(c['day']).toEqual({ min: '2024-01-01', max: '2024-01-10', nullCount: 0 });
        // Sub-millisecond bounds round outward so they stay bounds.
        expect(c['at']).toEqual({
          min: '2024-01-01T00:00:00.000Z',
          max: '2024-01-01T09:00:00.001Z',
          nullCount: 0,
        });
        expect(c['sometimes']).toEqual({ min: 1, max: 8, nullCount: 4 });
        expect(c['even']).toEqual({ nullCount: 0 });
        expect(c['part']?.nullCount).toBe(1);
        expect(Object.keys(c)).not.toContain('"a b"');
        const back = await session.query(
          `SELECT count(*) AS n, sum("a b") AS s FROM read_parquet(${quoteLiteral(file.path)})`,
        );
        expect(back.rows[0]).toEqual({ n: 10, s: 45n });
        const codec = await session.query(
          `SELECT DISTINCT compression FROM parquet_metadata(${quoteLiteral(file.path)})`,
        );
        expect(codec.rows.map((r) => String(r['compression']).toUpperCase())).toEqual(['ZSTD']);
      });

      it('truncates long string stats: min becomes a prefix, max is dropped', async () => {
        const files = await session.writeParquet(
          `SELECT repeat('a', 40) || i AS s FROM range(3) t(i) UNION ALL SELECT 'b' || repeat('€', 40)`,
          { dir: join(tmp, 'strings') },
        );
        const stats = files[0]!.columns['s']!;
        expect(stats.min).toBe('a'.repeat(32));
        expect(stats).not.toHaveProperty('max');
        const short = await session.writeParquet(`SELECT '€uro' AS s`, { dir: join(tmp, 'strings') });
        expect(short[0]!.columns['s']).toEqual({ min: '€uro', max: '€uro', nullCount: 0 });
      });

      it('writes Hive partition folders with unescaped partition values', async () => {
        const dir = join(tmp, 'partitioned');
        const files = await session.writeParquet(source, { dir, prefix: 'p-', partitionBy: ['part'] });
        expect(files).toHaveLength(3);
        const byValue = new Map<string | null, WrittenFile>(
          files.map((f) => [f.partitionValues['part'] ?? null, f]),
        );
        expect([...byValue.keys()].sort()).toEqual(['plain', 'x/y=z', null].sort());
        expect(byValue.get('x/y=z')!.rows).toBe(6);
        expect(byValue.get('plain')!.rows).toBe(3);
        expect(byValue.get(null)!.rows).toBe(1);
        for (const f of files) {
          expect(isAbsolute(f.path)).toBe(true);
          const rel = relative(dir, f.path).split(sep);
          expect(rel).toHaveLength(2);
          expect(rel[0]).toMatch(/^part=/);
          expect(rel[1]).toMatch(/^p-[0-9a-f-]{36}\.parquet$/);
          // Partition columns live in the folder names, not in the files.
          expect(Object.keys(f.columns)).not.toContain('part');
        }
        expect(byValue.get('plain')!.columns['a b']).toEqual({ min: 6, max: 8, nullCount: 0 });
        // A second write into the same folder adds files and never replaces the first ones.
        const again = await session.writeParquet(source, { dir, prefix: 'p-', partitionBy: ['part'] });
        const all = await listFiles(dir);
        expect(all).toHaveLength(6);
        for (const f of [...files, ...again]) expect(all).toContain(relative(dir, f.path));
      });

      it('partitions by several columns', async () => {
        const dir = join(tmp, 'two-keys');
        const files = await session.writeParquet('SELECT i, i % 2 AS a, i % 3 AS b FROM range(12) t(i)', {
          dir,
          partitionBy: ['a', 'b'],
        });
        expect(files).toHaveLength(6);
        expect(files.reduce((n, f) => n + f.rows, 0)).toBe(12);
        for (const f of files) {
          const [a, b] = relative(dir, f.path).split(sep);
          expect(a).toBe(`a=${f.partitionValues['a']}`);
          expect(b).toBe(`b=${f.partitionValues['b']}`);
        }
      });

      it('splits by rowsPerFile', async () => {
        const files = await session.writeParquet('SELECT i FROM range(50000) t(i)', {
          dir: join(tmp, 'split'),
          rowsPerFile: 10_000,
        });
        expect(files.length).toBeGreaterThanOrEqual(3);
        expect(files.reduce((n, f) => n + f.rows, 0)).toBe(50_000);
        const lo = Math.min(...files.map((f) => f.columns['i']!.min as number));
        const hi = Math.max(...files.map((f) => f.columns['i']!.max as number));
        expect([lo, hi]).toEqual([0, 49_999]);
      });

      it('accepts a statement ending with a semicolon and a comment line', async () => {
        const files = await session.writeParquet('SELECT 1 AS x -- one row\n;\n', { dir: join(tmp, 'semi') });
        expect(files.map((f) => f.rows)).toEqual([1]);
      });

      it('returns no files and leaves no files for a zero-row result', async () => {
        const dir = join(tmp, 'empty');
        expect(await session.writeParquet('SELECT 1 AS x WHERE false', { dir })).toEqual([]);
        expect(
          await session.writeParquet('SELECT 1 AS x, 2 AS p WHERE false', { dir, partitionBy: ['p'] }),
        ).toEqual([]);
        expect(await listFiles(dir)).toEqual([]);
      });

      it('reports a bad query as SqlError and writes nothing', async () => {
        const dir = join(tmp, 'bad');
        const err = await sqlErrorOf(session.writeParquet('SELECT missing_col FROM range(3)', { dir }));
        expect(err.kind).toBe('binder');
      });
    });

    describe('parse', () => {
      it('returns the parse tree of a statement', async () => {
        const tree = (await session.parse('SELECT a, b FROM t WHERE c > 1')) as {
          error: boolean;
          statements: unknown[];
        };
        expect(tree.error).toBe(false);
        expect(tree.statements).toHaveLength(1);
        expect(JSON.stringify(tree)).toContain('"t"');
      });

      it('throws a parser SqlError with the line of the problem', async () => {
        const err = await sqlErrorOf(session.parse('SELECT a,\n  b\n  FROM t WHERE WHERE'));
        expect(err.kind).toBe('parser');
        expect(err.sqlLine).toBe(3);
      });
    });

    describe('errors', () => {
      it('reports kind and line of a syntax error on line 3', async () => {
        const sql = 'SELECT\n  1 AS a,\n  2 AS b FORM range(3)\n';
        const err = await sqlErrorOf(session.query(sql));
        expect(err.code).toBe('WEIR-E001');
        expect(err.kind).toBe('parser');
        expect(err.sqlLine).toBe(3);
        expect(err.sql).toBe(sql);
        expect(err.engineMessage).toMatch(/syntax error/i);
        expect(err.engineMessage).not.toMatch(/\n\s+at /); // no stack in the engine message
        expect(err.hint).toBeTruthy();
      });

      it.each([
        ['binder', 'SELECT no_such_column FROM range(3)'],
        ['catalog', 'SELECT * FROM no_such_table'],
        ['conversion', "SELECT 'abc'::INTEGER"],
        ['constraint', 'CREATE TEMP TABLE conf_nn (x INTEGER NOT NULL); INSERT INTO conf_nn VALUES (NULL)'],
      ])('classifies a %s error', async (kind, sql) => {
        const err = await sqlErrorOf(session.exec(sql));
        expect(err.kind).toBe(kind);
        expect(err.code).toBe('WEIR-E001');
      });

      it('keeps the session usable after an error', async () => {
        await sqlErrorOf(session.query('SELECT * FROM no_such_table'));
        expect((await session.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      });
    });

    describe('interrupt', () => {
      it('interrupts a long query from another async task', async () => {
        const s = await engine.session();
        try {
          const started = performance.now();
          const running = s.query('SELECT count(*) AS n FROM range(1000000000000) a WHERE a.range % 7 = 3');
          const timer = setTimeout(() => s.interrupt(), 150);
          const err = await sqlErrorOf(running);
          clearTimeout(timer);
          expect(err.code).toBe('WEIR-E002');
          expect(err.kind).toBe('interrupt');
          expect(performance.now() - started).toBeLessThan(10_000);
          expect((await s.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
        } finally {
          s.close();
        }
      });

      it('is harmless when nothing runs', async () => {
        session.interrupt();
        expect((await session.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
      });
    });
  });
}
