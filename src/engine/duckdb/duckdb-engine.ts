import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import {
  quoteIdent,
  quoteLiteral,
  type ColumnSchema,
  type Engine,
  type EngineSession,
  type QueryResult,
  type SqlValue,
  type WriteParquetOptions,
  type WrittenFile,
} from '../../core/engine.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import {
  SQL_SESSION_BUSY_CODE,
  SqlError,
  sqlErrorLine,
  toSqlError,
  type SqlErrorKind,
} from '../sql-error.js';
import { footerColumnStats, readParquetFooter } from './parquet-footer.js';
import { columnStats, mapEntries, partitionValuesFromPath } from './parquet-stats.js';
import { sqlValueConverter, toDuckDbValue } from './duckdb-values.js';

export interface DuckDbEngineOptions {
  /** Database file, or `:memory:` (default). */
  readonly path?: string;
  /** DuckDB worker threads (default: DuckDB's, the number of cores). */
  readonly threads?: number;
  /** DuckDB memory limit, e.g. `2GB` (default: DuckDB's, 80% of RAM). */
  readonly memoryLimit?: string;
  readonly logger?: Logger;
}

export const DEFAULT_STREAM_BATCH_ROWS = 10_000;

/** The embedded default engine: one DuckDB instance, one connection per session. */
export async function createDuckDbEngine(options: DuckDbEngineOptions = {}): Promise<Engine> {
  const path = options.path ?? ':memory:';
  const logger = options.logger ?? silentLogger;
  const config: Record<string, string> = {};
  if (options.threads !== undefined) config['threads'] = String(options.threads);
  if (options.memoryLimit !== undefined) config['memory_limit'] = options.memoryLimit;
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, config);
  } catch (err) {
    throw toSqlError(err, `-- open DuckDB database ${path}`);
  }
  logger.debug('duckdb opened', { path, ...config });
  return new DuckDbEngine(instance, logger);
}

class DuckDbEngine implements Engine {
  readonly name = 'duckdb';
  private readonly sessions = new Set<DuckDbSession>();
  private closed = false;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly logger: Logger,
  ) {}

  async session(): Promise<EngineSession> {
    if (this.closed) throw new SqlError({ sql: '', engineMessage: 'The engine is closed', kind: 'other' });
    const connection = await this.instance.connect();
    const session = new DuckDbSession(connection, () => this.sessions.delete(session));
    this.sessions.add(session);
    return session;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const session of [...this.sessions]) session.close();
    this.instance.closeSync();
    this.logger.debug('duckdb closed');
  }
}

/** One statement at a time per connection: calls queue; a call made while a stream is open fails fast. */
class DuckDbSession implements EngineSession {
  private tail: Promise<unknown> = Promise.resolve();
  private streaming = false;
  private closed = false;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly onClose: () => void,
  ) {}

  /** Resolves when the connection is free; the returned function frees it again. */
  private acquire(): Promise<() => void> {
    let release!: () => void;
    const freed = new Promise<void>((r) => (release = r));
    const acquired = this.tail.then(() => release);
    this.tail = freed;
    return acquired;
  }

  private busyError(sql: string): SqlError {
    return new SqlError({
      sql,
      kind: 'other',
      code: SQL_SESSION_BUSY_CODE,
      engineMessage: 'This session is still streaming another result',
      hint: 'Finish (or break out of) the stream first, or open another session for the nested statement.',
    });
  }

  private async run<T>(sql: string, work: () => Promise<T>): Promise<T> {
    if (this.streaming) throw this.busyError(sql);
    const release = await this.acquire();
    try {
      if (this.closed) throw new SqlError({ sql, engineMessage: 'The session is closed', kind: 'other' });
      return await work();
    } catch (err) {
      throw toSqlError(err, sql);
    } finally {
      release();
    }
  }

  exec(sql: string): Promise<void> {
    return this.run(sql, async () => {
      await this.connection.run(sql);
    });
  }

  query(sql: string, params?: readonly SqlValue[]): Promise<QueryResult> {
    return this.run(sql, async () => {
      const values = params?.map(toDuckDbValue);
      const reader = values?.length
        ? await this.connection.runAndReadAll(sql, values as DuckDBValue[])
        : await this.connection.runAndReadAll(sql);
      const columns: ColumnSchema[] = reader
        .deduplicatedColumnNames()
        .map((name, i) => ({ name, type: reader.columnType(i).toString() }));
      const rows = reader.convertRowObjects(sqlValueConverter) as Array<Record<string, SqlValue>>;
      return { columns, rows };
    });
  }

  stream(
    sql: string,
    batchRows = DEFAULT_STREAM_BATCH_ROWS,
  ): AsyncIterable<ReadonlyArray<Record<string, SqlValue>>> {
    const size = Math.max(1, Math.floor(batchRows));
    return { [Symbol.asyncIterator]: () => this.streamBatches(sql, size) };
  }

  private async *streamBatches(
    sql: string,
    size: number,
  ): AsyncGenerator<ReadonlyArray<Record<string, SqlValue>>> {
    if (this.streaming) throw this.busyError(sql);
    // The connection stays held until the stream ends or the consumer breaks out of it.
    const release = await this.acquire();
    this.streaming = true;
    try {
      if (this.closed) throw new SqlError({ sql, engineMessage: 'The session is closed', kind: 'other' });
      let result;
      try {
        result = await this.connection.stream(sql);
      } catch (err) {
        throw toSqlError(err, sql);
      }
      const names = result.deduplicatedColumnNames();
      let batch: Array<Record<string, SqlValue>> = [];
      for (;;) {
        let chunk;
        try {
          chunk = await result.fetchChunk();
        } catch (err) {
          throw toSqlError(err, sql);
        }
        if (!chunk || chunk.rowCount === 0) break;
        for (const row of chunk.convertRows(sqlValueConverter)) {
          const obj: Record<string, SqlValue> = {};
          for (let i = 0; i < names.length; i++) obj[names[i] as string] = row[i] ?? null;
          batch.push(obj);
          if (batch.length >= size) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      this.streaming = false;
      release();
    }
  }

  describe(sql: string): Promise<ColumnSchema[]> {
    return this.run(sql, () => this.describeNow(sql));
  }

  private async describeNow(sql: string): Promise<ColumnSchema[]> {
    // Preparing binds and plans the statement without running it.
    const prepared = await this.connection.prepare(sql);
    try {
      const out: ColumnSchema[] = [];
      for (let i = 0; i < prepared.columnCount; i++) {
        out.push({ name: prepared.columnName(i), type: prepared.columnType(i).toString() });
      }
      return out;
    } finally {
      prepared.destroySync();
    }
  }

  writeParquet(statement: string, options: WriteParquetOptions): Promise<WrittenFile[]> {
    // A model's SQL often ends with `;`, which is not allowed inside COPY (...).
    const sql = statement.replace(/[\s;]+$/, '');
    const dir = resolve(options.dir);
    const prefix = options.prefix ?? '';
    const partitionBy = options.partitionBy ?? [];
    const copyOptions = ['FORMAT parquet', 'COMPRESSION zstd'];
    const single = partitionBy.length === 0 && options.rowsPerFile === undefined;
    let target: string;
    if (single) {
      target = join(dir, `${prefix}${randomUUID()}.parquet`);
    } else {
      // Several files: RETURN_STATS names them, with their partition keys and stats.
      copyOptions.push('RETURN_STATS true');
      target = dir;
      // {uuid} keeps concurrent writers and earlier files apart; APPEND never touches existing files.
      copyOptions.push(`FILENAME_PATTERN ${quoteLiteral(`${prefix}{uuid}`)}`, 'APPEND true');
      if (partitionBy.length > 0)
        copyOptions.push(`PARTITION_BY (${partitionBy.map(quoteIdent).join(', ')})`);
      if (options.rowsPerFile !== undefined) {
        const rows = Math.max(1, Math.floor(options.rowsPerFile));
        copyOptions.push(`ROW_GROUP_SIZE ${rows}`, 'ROW_GROUPS_PER_FILE 1');
      }
    }
    const copy = `COPY (\n${sql}\n) TO ${quoteLiteral(target)} (${copyOptions.join(', ')})`;
    return this.run(copy, async () => {
      const schema = options.columns ?? (await this.describeNow(sql));
      const types = new Map(schema.map((c) => [c.name, c.type]));
      await mkdir(dir, { recursive: true });
      const reader = await this.connection.runAndReadAll(copy);
      if (single) return singleFile(target, Number(reader.getRows()[0]?.[0] ?? 0), types);
      const files: WrittenFile[] = [];
      for (const row of reader.getRowObjectsJS()) {
        const path = String(row['filename']);
        const absolute = isAbsolute(path) ? path : resolve(path);
        const rows = Number(row['count']);
        if (rows === 0) {
          // An empty file adds nothing to a table; leaving it would only be an orphan to vacuum.
          await rm(absolute, { force: true });
          continue;
        }
        files.push({
          path: absolute,
          rows,
          bytes: Number(row['file_size_bytes']),
          columns: columnStats(row['column_statistics'], types),
          partitionValues:
            partitionBy.length === 0
              ? {}
              : partitionValues(row['partition_keys'], dir, absolute, partitionBy),
        });
      }
      return files;
    });
  }

  parse(sql: string): Promise<unknown> {
    return this.run(sql, async () => {
      const reader = await this.connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS tree', [
        sql,
      ]);
      const text = reader.getRowObjectsJS()[0]?.['tree'];
      const tree: unknown = JSON.parse(String(text));
      if (isParseFailure(tree)) {
        const engineMessage = String(tree.error_message ?? 'could not parse the statement');
        const kind: SqlErrorKind = tree.error_type === 'parser' ? 'parser' : 'other';
        const position = Number(tree.position);
        const sqlLine = Number.isFinite(position) ? lineAt(sql, position) : sqlErrorLine(engineMessage);
        throw new SqlError({ sql, engineMessage, kind, ...(sqlLine === undefined ? {} : { sqlLine }) });
      }
      return tree;
    });
  }

  interrupt(): void {
    if (!this.closed) this.connection.interrupt();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.closeSync();
    this.onClose();
  }
}

interface ParseFailure {
  readonly error: true;
  readonly error_type?: string;
  readonly error_message?: string;
  readonly position?: string | number;
}

function isParseFailure(tree: unknown): tree is ParseFailure {
  return typeof tree === 'object' && tree !== null && (tree as { error?: unknown }).error === true;
}

function lineAt(sql: string, position: number): number {
  let line = 1;
  for (let i = 0; i < Math.min(position, sql.length); i++) if (sql.charCodeAt(i) === 10) line++;
  return line;
}

/** The one file a plain COPY wrote: its stats come from its footer (cheaper than RETURN_STATS). */
async function singleFile(
  path: string,
  rows: number,
  types: ReadonlyMap<string, string>,
): Promise<WrittenFile[]> {
  if (rows === 0) {
    // An empty file adds nothing to a table; leaving it would only be an orphan to vacuum.
    await rm(path, { force: true });
    return [];
  }
  const { footer, bytes } = readParquetFooter(path);
  if (footer.numRows !== rows)
    throw new Error(`${path}: COPY wrote ${rows} rows but the Parquet footer says ${footer.numRows}`);
  return [{ path, rows, bytes, columns: footerColumnStats(footer, types), partitionValues: {} }];
}

function partitionValues(
  keys: unknown,
  dir: string,
  file: string,
  partitionBy: readonly string[],
): Record<string, string | null> {
  const fromStats = mapEntries(keys);
  const out: Record<string, string | null> =
    fromStats.length > 0
      ? Object.fromEntries(
          fromStats.map(({ key, value }) => [String(key), value === null ? null : String(value)]),
        )
      : partitionValuesFromPath(dir, file);
  for (const col of partitionBy) if (!(col in out)) out[col] = null;
  return out;
}
