import type {
  ColumnSchema,
  Engine,
  EngineSession,
  QueryResult,
  SqlValue,
  WriteParquetOptions,
  WrittenFile,
} from '../core/engine.js';
import type { Logger } from '../core/logger.js';
import { toSqlError } from './sql-error.js';

export interface EngineStats {
  /** Statements run (a stream counts once; failed statements count too). */
  readonly statements: number;
  /** Wall-clock milliseconds spent in statements, summed over sessions (they may overlap). */
  readonly ms: number;
  readonly errors: number;
}

/** An Engine with counters; what `withRuntime` returns. */
export interface RuntimeEngine extends Engine {
  stats(): EngineStats;
}

const PREVIEW_CHARS = 120;

/** First characters of a statement on one line, for logs. */
export function sqlPreview(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length <= PREVIEW_CHARS ? flat : `${flat.slice(0, PREVIEW_CHARS - 1)}…`;
}

/**
 * The one wrapper around every Engine (as Kysely's RuntimeDriver): a debug line per statement with
 * its duration, errors turned into SqlError exactly once, and counters. Adapters may throw raw
 * driver errors; callers of the wrapped engine only ever see SqlError.
 */
export function withRuntime(engine: Engine, logger: Logger): RuntimeEngine {
  const counters = { statements: 0, ms: 0, errors: 0 };
  const log = logger.child({ engine: engine.name });

  async function timed<T>(op: string, sql: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    counters.statements++;
    try {
      const result = await work();
      const ms = performance.now() - start;
      counters.ms += ms;
      log.debug(`sql ${op}`, { ms: Math.round(ms * 10) / 10, sql: sqlPreview(sql) });
      return result;
    } catch (err) {
      const ms = performance.now() - start;
      counters.ms += ms;
      counters.errors++;
      const wrapped = toSqlError(err, sql);
      log.debug(`sql ${op} failed`, {
        ms: Math.round(ms * 10) / 10,
        sql: sqlPreview(sql),
        code: wrapped.code,
      });
      throw wrapped;
    }
  }

  function wrapSession(inner: EngineSession): EngineSession {
    return {
      exec: (sql: string): Promise<void> => timed('exec', sql, () => inner.exec(sql)),
      query: (sql: string, params?: readonly SqlValue[]): Promise<QueryResult> =>
        timed('query', sql, () => inner.query(sql, params)),
      describe: (sql: string): Promise<ColumnSchema[]> => timed('describe', sql, () => inner.describe(sql)),
      writeParquet: (sql: string, options: WriteParquetOptions): Promise<WrittenFile[]> =>
        timed('writeParquet', sql, () => inner.writeParquet(sql, options)),
      parse: (sql: string): Promise<unknown> => timed('parse', sql, () => inner.parse(sql)),
      stream: (sql: string, batchRows?: number) => ({
        [Symbol.asyncIterator]: () => streamTimed(inner, sql, batchRows),
      }),
      interrupt: (): void => inner.interrupt(),
      close: (): void => inner.close(),
    };
  }

  async function* streamTimed(
    inner: EngineSession,
    sql: string,
    batchRows: number | undefined,
  ): AsyncGenerator<ReadonlyArray<Record<string, SqlValue>>> {
    const start = performance.now();
    counters.statements++;
    let rows = 0;
    let failed = false;
    try {
      for await (const batch of inner.stream(sql, batchRows)) {
        rows += batch.length;
        yield batch;
      }
    } catch (err) {
      failed = true;
      counters.errors++;
      throw toSqlError(err, sql);
    } finally {
      // Time includes the consumer's work between batches: that is how long the statement was open.
      const ms = performance.now() - start;
      counters.ms += ms;
      log.debug(failed ? 'sql stream failed' : 'sql stream', {
        ms: Math.round(ms * 10) / 10,
        rows,
        sql: sqlPreview(sql),
      });
    }
  }

  return {
    name: engine.name,
    session: async (): Promise<EngineSession> => {
      try {
        return wrapSession(await engine.session());
      } catch (err) {
        counters.errors++;
        throw toSqlError(err, '-- open session');
      }
    },
    close: () => engine.close(),
    stats: (): EngineStats => ({ ...counters }),
  };
}
