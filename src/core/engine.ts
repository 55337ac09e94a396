/**
 * The compute engine contract. DuckDB (engine/duckdb) is the embedded default; push-down
 * engines come later. Only engine adapters talk to a database driver.
 */
export type SqlValue =
  string | number | bigint | boolean | null | Date | Uint8Array | SqlValue[] | { [k: string]: SqlValue };

/** DuckDB's integer type names (signed and unsigned), for code that classifies column types. */
export const DUCKDB_INTEGER_TYPES = [
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'UHUGEINT',
] as const;

export interface ColumnSchema {
  readonly name: string;
  /** Engine type as the engine spells it, e.g. `BIGINT`, `DECIMAL(18,2)`, `TIMESTAMP WITH TIME ZONE`. */
  readonly type: string;
  readonly nullable?: boolean;
}

export interface QueryResult {
  readonly columns: readonly ColumnSchema[];
  /** Rows as plain objects; 64-bit integers that do not fit a JS number stay bigint. */
  readonly rows: ReadonlyArray<Record<string, SqlValue>>;
}

/** Statistics of one Parquet file the engine wrote (Delta `add.stats` is built from this). */
export interface WrittenFile {
  /** Absolute path of the file. */
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  /** Per top-level column: min/max as JSON-ready values (absent when unknown), and null count. */
  readonly columns: Readonly<Record<string, { min?: unknown; max?: unknown; nullCount?: number }>>;
  /** Hive partition values of this file when written with partitionBy (column -> string | null). */
  readonly partitionValues: Readonly<Record<string, string | null>>;
}

export interface WriteParquetOptions {
  /** Folder the files go to (created if absent). */
  readonly dir: string;
  /** File name prefix; a unique suffix is added by the engine. */
  readonly prefix?: string;
  /** Hive-style partition columns (written as folders, not stored in the files). */
  readonly partitionBy?: readonly string[];
  /** Target rows per file; the engine may write several files. */
  readonly rowsPerFile?: number;
  /** The query's columns when the caller knows them (saves the engine describing it again). */
  readonly columns?: readonly ColumnSchema[];
}

export interface EngineSession {
  /** Runs one or more statements; no result. */
  exec(sql: string): Promise<void>;
  /** Runs a query and reads every row. */
  query(sql: string, params?: readonly SqlValue[]): Promise<QueryResult>;
  /** Streams a query's rows in batches (bounded memory). */
  stream(sql: string, batchRows?: number): AsyncIterable<ReadonlyArray<Record<string, SqlValue>>>;
  /** Column names and types a query would return, without running it. */
  describe(sql: string): Promise<ColumnSchema[]>;
  /** Writes a query's result as zstd Parquet files and returns per-file statistics. */
  writeParquet(sql: string, options: WriteParquetOptions): Promise<WrittenFile[]>;
  /** Parse tree of a statement as JSON (DuckDB: json_serialize_sql), for lineage. */
  parse(sql: string): Promise<unknown>;
  /** Interrupts the statement running on this session, if any. */
  interrupt(): void;
  close(): void;
}

export interface Engine {
  readonly name: string;
  /** A new session (connection). Sessions run concurrently; each runs one statement at a time. */
  session(): Promise<EngineSession>;
  close(): Promise<void>;
}

/** Quotes an identifier for SQL (double quotes, embedded quotes doubled). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal for SQL. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
