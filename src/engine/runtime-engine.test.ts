import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession } from '../core/engine.js';
import type { LogFields, Logger } from '../core/logger.js';
import { createDuckDbEngine } from './duckdb/duckdb-engine.js';
import { withRuntime, sqlPreview, type RuntimeEngine } from './runtime-engine.js';
import { SqlError } from './sql-error.js';

interface Line {
  level: string;
  msg: string;
  fields: LogFields;
}

function memoryLogger(lines: Line[], base: LogFields = {}): Logger {
  const at =
    (level: string) =>
    (msg: string, fields: LogFields = {}): void => {
      lines.push({ level, msg, fields: { ...base, ...fields } });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => memoryLogger(lines, { ...base, ...fields }),
  };
}

/** An adapter that throws what its driver throws, unwrapped, as a careless adapter would. */
function rawThrowingEngine(): Engine {
  const fail = (): never => {
    throw new Error('Binder Error: column "x" not found\n\nLINE 2: x\n        ^');
  };
  const session: EngineSession = {
    exec: async () => fail(),
    query: async () => fail(),
    describe: async () => fail(),
    writeParquet: async () => fail(),
    parse: async () => fail(),
    stream: () => ({
      [Symbol.asyncIterator]: async function* () {
        yield [{ a: 1 }];
        fail();
      },
    }),
    interrupt: () => {},
    close: () => {},
  };
  return { name: 'raw', session: async () => session, close: async () => {} };
}

describe('withRuntime', () => {
  const lines: Line[] = [];
  let engine: RuntimeEngine;

  beforeAll(async () => {
    engine = withRuntime(await createDuckDbEngine({ threads: 1 }), memoryLogger(lines));
  });
  afterAll(() => engine.close());

  it('logs each statement with duration and preview, and counts them', async () => {
    const s = await engine.session();
    await s.exec('CREATE TABLE t AS SELECT * FROM range(10) r(i)');
    await s.query('SELECT   count(*)\n  AS n FROM t');
    let rows = 0;
    for await (const b of s.stream('SELECT i FROM t', 4)) rows += b.length;
    expect(rows).toBe(10);
    await expect(s.query('SELECT nope FROM t')).rejects.toBeInstanceOf(SqlError);
    s.close();
    const stats = engine.stats();
    expect(stats.statements).toBe(4);
    expect(stats.errors).toBe(1);
    expect(stats.ms).toBeGreaterThan(0);
    const sqlLines = lines.filter((l) => l.msg.startsWith('sql '));
    expect(sqlLines.map((l) => l.msg)).toEqual(['sql exec', 'sql query', 'sql stream', 'sql query failed']);
    expect(sqlLines[1]!.fields).toMatchObject({ engine: 'duckdb', sql: 'SELECT count(*) AS n FROM t' });
    expect(typeof sqlLines[1]!.fields['ms']).toBe('number');
    expect(sqlLines[2]!.fields['rows']).toBe(10);
    expect(sqlLines[3]!.fields['code']).toBe('WEIR-E001');
  });

  it('turns raw adapter errors into SqlError exactly once', async () => {
    const wrapped = withRuntime(rawThrowingEngine(), memoryLogger([]));
    const s = await wrapped.session();
    const err = await s.query('SELECT\n x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlError);
    expect(err).toMatchObject({ kind: 'binder', sqlLine: 2, sql: 'SELECT\n x', code: 'WEIR-E001' });
    expect((err as SqlError).cause).toBeInstanceOf(Error);
    expect((err as SqlError).cause).not.toBeInstanceOf(SqlError);
    const streamErr = await (async () => {
      for await (const _ of s.stream('SELECT x')) void _;
    })().catch((e: unknown) => e);
    expect(streamErr).toBeInstanceOf(SqlError);
    expect(wrapped.stats()).toMatchObject({ statements: 2, errors: 2 });
  });

  it('does not re-wrap a SqlError thrown by the adapter', async () => {
    const s = await engine.session();
    const err = (await s.exec('SELECT 1 +').catch((e: unknown) => e)) as SqlError;
    expect(err.kind).toBe('parser');
    expect(err.cause).not.toBeInstanceOf(SqlError);
    s.close();
  });
});

describe('sqlPreview', () => {
  it('flattens whitespace and shortens long statements', () => {
    expect(sqlPreview('SELECT\n  1')).toBe('SELECT 1');
    const long = sqlPreview(`SELECT ${'x, '.repeat(100)}y`);
    expect(long.length).toBe(120);
    expect(long.endsWith('…')).toBe(true);
  });
});
