import type { ColumnSchema, EngineSession } from '../core/engine.js';

/** Connectors in this build. */
export const SOURCE_TYPES = ['postgres', 'rest', 'files'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export const WRITE_DISPOSITIONS = ['append', 'replace', 'merge'] as const;
export type WriteDisposition = (typeof WRITE_DISPOSITIONS)[number];

export const CONTRACT_MODES = ['evolve', 'freeze', 'discard_row', 'discard_value'] as const;
export type ContractMode = (typeof CONTRACT_MODES)[number];

export const ARRAY_MODES = ['json', 'child_table'] as const;
export type ArrayMode = (typeof ARRAY_MODES)[number];

export interface IncrementalSpec {
  readonly cursorField: string;
  /** First lower bound (inclusive) when nothing was loaded yet. */
  readonly initialValue?: string | number;
  /** Re-read this far below the last cursor, for rows committed late: `'2 hours'` or a number. */
  readonly lookback?: string | number;
  /** Upper bound (inclusive) for bounded backfills. */
  readonly endValue?: string | number;
}

export interface NestedSpec {
  /** Nested objects are flattened into `parent__child` columns down to this depth; deeper ones stay JSON. */
  readonly maxDepth: number;
  readonly arrays: ArrayMode;
}

/** One stream of one source, validated: what the ingest layer loads. */
export interface StreamSpec {
  readonly sourceName: string;
  readonly streamName: string;
  readonly type: SourceType;
  /** Connection settings as written (templates unrendered: they may hold secrets). */
  readonly connection: Readonly<Record<string, unknown>>;
  readonly primaryKey: readonly string[];
  readonly writeDisposition: WriteDisposition;
  readonly schemaContract: ContractMode;
  readonly incremental?: IncrementalSpec;
  readonly nested: NestedSpec;
  /** Merge: rows whose column is true delete their key from staging. */
  readonly hardDeleteColumn?: string;
  /** Connector settings (postgres `table`/`query`, rest `endpoint`, files `path`/`format`/...). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly at: { readonly file: string; readonly line?: number };
}

/** `<source>__<stream>`: the table name in raw, staging and dlq. */
export function streamTableName(spec: Pick<StreamSpec, 'sourceName' | 'streamName'>): string {
  return `${spec.sourceName}__${spec.streamName}`;
}

/** Where `source('<source>', '<stream>')` resolves: staging for merge/replace, raw for append. */
export function resolvedSchema(disposition: WriteDisposition): 'raw' | 'staging' {
  return disposition === 'append' ? 'raw' : 'staging';
}

/** A record read from a source, with where it came from (for the dead-letter table). */
export interface SourceRecord {
  readonly value: Readonly<Record<string, unknown>>;
  /** `file:line`, `page 3`, `row 17`. */
  readonly at: string;
}

/** A record that could not be parsed at all. */
export interface RejectedRecord {
  readonly reason: string;
  readonly payload: string;
  readonly at: string;
}

/** Rows already on disk in a form DuckDB reads fast (e.g. a Postgres COPY), with their exact types. */
export interface TypedChunk {
  readonly kind: 'typed';
  /** A DuckDB SELECT producing `columns`. */
  readonly sql: string;
  readonly columns: readonly ColumnSchema[];
  readonly rows: number;
  /** Called after the chunk is landed (temp file cleanup). */
  dispose(): Promise<void>;
}

export interface RecordChunk {
  readonly kind: 'records';
  readonly records: readonly SourceRecord[];
  readonly rejected: readonly RejectedRecord[];
}

export type Chunk = TypedChunk | RecordChunk;

/** The cursor state committed with the data (JSON). */
export interface CursorState {
  /** Highest cursor-field value landed so far (ISO text for timestamps). */
  readonly value?: string | number | null;
  /** Files connector: loaded file identity -> checksum. */
  readonly files?: Readonly<Record<string, string>>;
  /** Connector-specific extra state. */
  readonly [key: string]: unknown;
}

export interface ReadRequest {
  readonly spec: StreamSpec;
  /** The last committed cursor, or undefined on the first load. */
  readonly cursor: CursorState | undefined;
  /** Rows per chunk the landing wants (bounded memory). */
  readonly chunkRows: number;
  /** A temp folder owned by this load. */
  readonly tempDir: string;
  readonly signal?: AbortSignal;
  /** The landing's DuckDB session, for connectors that let DuckDB read their data (Parquet files). */
  readonly session?: EngineSession;
}

/** What a connector returns for one stream read. */
export interface StreamRead {
  readonly chunks: AsyncIterable<Chunk>;
  /** Cursor fields the connector sets itself (files); merged over the computed `value`. */
  cursorPatch(): Partial<CursorState>;
}

export interface DiscoveredStream {
  readonly name: string;
  readonly columns: readonly ColumnSchema[];
  readonly primaryKey?: readonly string[];
}

/** A source connector: discovers streams and reads one stream from a cursor. */
export interface SourceConnector {
  discover(): Promise<DiscoveredStream[]>;
  read(request: ReadRequest): Promise<StreamRead>;
  close(): Promise<void>;
}
