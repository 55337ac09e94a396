import { rm } from 'node:fs/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { quoteIdent, quoteLiteral, type ColumnSchema } from '../../../core/engine.js';
import { errorMessage, isWeirError } from '../../../core/errors.js';
import { ingestError } from '../../errors.js';
import { cursorBounds } from '../../landing/cursor.js';
import type { Redactor } from '../../redact.js';
import { splitCopy } from './copy-chunks.js';
import type {
  Chunk,
  DiscoveredStream,
  ReadRequest,
  SourceConnector,
  StreamRead,
  StreamSpec,
} from '../../types.js';

export interface PostgresConnection {
  readonly url?: string;
  readonly host?: string;
  readonly port?: number | string;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
}

interface PgColumn {
  readonly name: string;
  /** format_type(), e.g. `numeric(12,2)`, `timestamp with time zone`, `integer[]`. */
  readonly pgType: string;
  /** pg_type.typtype of the column (or of its element): `e` for enums. */
  readonly kind: string;
  readonly isArray: boolean;
}

/** How a Postgres column is exported (text in COPY) and read back by DuckDB. */
interface ColumnPlan {
  readonly name: string;
  /** Expression in the COPY query. */
  readonly pgExpr: string;
  /** Type read_csv parses the text as. */
  readonly csvType: string;
  /** The landed DuckDB type and the expression producing it from the CSV column. */
  readonly type: string;
  readonly duckExpr: string;
}

const SCALARS: Readonly<Record<string, string>> = {
  smallint: 'SMALLINT',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  real: 'FLOAT',
  'double precision': 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'DATE',
  'timestamp with time zone': 'TIMESTAMP WITH TIME ZONE',
  // Naive timestamps are wall-clock UTC, as Delta stores instants.
  'timestamp without time zone': 'TIMESTAMP WITH TIME ZONE',
};

/** The Delta-storable DuckDB type of a Postgres type; text for what has no faithful equivalent. */
export function duckTypeOf(pgType: string, kind: string): string {
  if (kind === 'e') return 'VARCHAR';
  const base = pgType.replace(/\(\d+\)$/, '').replace(/^(timestamp|time)\(\d+\)/, '$1');
  const scalar = SCALARS[base] ?? SCALARS[pgType];
  if (scalar) return scalar;
  const num = /^numeric\((\d+),(\d+)\)$/.exec(pgType);
  // numeric without a declared precision can hold any number of digits: keep its exact text.
  if (num && Number(num[1]) <= 38) return `DECIMAL(${num[1]},${num[2]})`;
  if (pgType === 'bytea') return 'BLOB';
  return 'VARCHAR';
}

function planColumn(c: PgColumn): ColumnPlan {
  const id = quoteIdent(c.name);
  if (c.isArray) {
    const element = duckTypeOf(c.pgType.replace(/\[\]$/, ''), c.kind);
    const safe = ['BOOLEAN', 'SMALLINT', 'INTEGER', 'BIGINT', 'FLOAT', 'DOUBLE', 'VARCHAR'].includes(element)
      ? element
      : 'VARCHAR';
    return {
      name: c.name,
      pgExpr: `to_json(${id})::text`,
      csvType: 'VARCHAR',
      type: `${safe}[]`,
      duckExpr: `CAST(CAST(${id} AS JSON) AS ${safe}[])`,
    };
  }
  const type = duckTypeOf(c.pgType, c.kind);
  if (type === 'BLOB')
    return {
      name: c.name,
      pgExpr: `encode(${id}, 'hex')`,
      csvType: 'VARCHAR',
      type,
      duckExpr: `unhex(${id})`,
    };
  return { name: c.name, pgExpr: `${id}`, csvType: type, type, duckExpr: id };
}

const CONNECT_ATTEMPTS = 3;
/**
 * read_csv's buffer (DuckDB's default is 32 MB, 16 x max_line_size): each reading thread holds
 * one or two, so 8 MB takes 20-50 MB off the conversion's peak at the same speed.
 */
const CSV_BUFFER_BYTES = 8 << 20;
/** Rows per COPY chunk file: large enough that per-chunk work (dedupe, cursor) is amortised. */
const DEFAULT_COPY_CHUNK_ROWS = 1_000_000;

function copyChunkRows(spec: StreamSpec): number {
  const v = spec.options['chunk_rows'];
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : DEFAULT_COPY_CHUNK_ROWS;
}

/**
 * Postgres: full and incremental extraction through `COPY (SELECT ...) TO STDOUT (FORMAT csv)`,
 * streamed to a temp file that DuckDB reads with explicit types (no row ever passes through JS
 * objects, so memory stays flat whatever the table size).
 */
export class PostgresSource implements SourceConnector {
  private client: pg.Client | undefined;

  constructor(
    private readonly connection: PostgresConnection,
    private readonly redactor: Redactor,
    private readonly sourceName: string,
  ) {
    redactor.addUrl(connection.url);
    redactor.add(connection.password);
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const c = this.connection;
    let lastError: unknown;
    for (let attempt = 1; attempt <= CONNECT_ATTEMPTS; attempt++) {
      const client = new pg.Client({
        ...(c.url ? { connectionString: c.url } : {}),
        ...(c.host ? { host: c.host } : {}),
        ...(c.port ? { port: Number(c.port) } : {}),
        ...(c.user ? { user: c.user } : {}),
        ...(c.password ? { password: c.password } : {}),
        ...(c.database ? { database: c.database } : {}),
        connectionTimeoutMillis: 10_000,
      });
      try {
        await client.connect();
        await client.query(
          "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; SET bytea_output = 'hex'; SET IntervalStyle = 'iso_8601'",
        );
        this.client = client;
        return client;
      } catch (err) {
        await client.end().catch(() => undefined);
        const code = (err as { code?: string }).code;
        if (code === '28P01' || code === '28000' || code === '3D000') {
          throw ingestError(
            'authFailed',
            `source ${this.sourceName}: Postgres refused the connection: ${this.redactor.text(errorMessage(err))}`,
            { hint: 'check the user, password and database of the connection (not retried)' },
          );
        }
        lastError = err;
        if (attempt < CONNECT_ATTEMPTS) await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
    throw ingestError(
      'unreachable',
      `source ${this.sourceName}: cannot reach Postgres after ${CONNECT_ATTEMPTS} attempts: ${this.redactor.text(errorMessage(lastError))}`,
      { hint: 'check that the server runs and the host/port of the connection' },
    );
  }

  private async columnsOf(table: string): Promise<PgColumn[]> {
    const client = await this.connect();
    const res = await client.query<{ name: string; pg_type: string; kind: string; is_array: boolean }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS pg_type,
              coalesce(et.typtype, t.typtype) AS kind, t.typelem <> 0 AND t.typlen = -1 AS is_array
         FROM pg_attribute a
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typlen = -1
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [table],
    );
    return res.rows.map((r) => ({ name: r.name, pgType: r.pg_type, kind: r.kind, isArray: r.is_array }));
  }

  async discover(): Promise<DiscoveredStream[]> {
    const client = await this.connect();
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
        ORDER BY 1, 2`,
    );
    const out: DiscoveredStream[] = [];
    for (const t of tables.rows) {
      const qualified = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
      const cols = await this.columnsOf(qualified);
      const pk = await client.query<{ name: string }>(
        `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
          WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
        [qualified],
      );
      out.push({
        name: t.schema === 'public' ? t.name : `${t.schema}.${t.name}`,
        columns: cols.map((c) => ({ name: c.name, type: planColumn(c).type })),
        ...(pk.rows.length > 0 ? { primaryKey: pk.rows.map((r) => r.name) } : {}),
      });
    }
    return out;
  }

  /** The table a stream reads: `table:` (schema.name), else the stream name in `public`. */
  tableOf(spec: StreamSpec): string {
    const given = spec.options['table'];
    const name = typeof given === 'string' && given !== '' ? given : spec.streamName;
    return name
      .split('.')
      .map((p) => quoteIdent(p.replace(/^"|"$/g, '')))
      .join('.');
  }

  /** The COPY query of one read and the plan to read it back. */
  async plan(request: ReadRequest): Promise<{ sql: string; columns: ColumnPlan[] }> {
    const { spec } = request;
    const table = this.tableOf(spec);
    let cols: PgColumn[];
    try {
      cols = await this.columnsOf(table);
    } catch (err) {
      if (isWeirError(err)) throw err;
      throw ingestError(
        'sourceQuery',
        `stream ${spec.sourceName}.${spec.streamName}: cannot read Postgres table ${table}: ${this.redactor.text(errorMessage(err))}`,
        { at: spec.at, hint: 'check `table:` (schema.name) and that the user may read it' },
      );
    }
    const plans = cols.map(planColumn);
    const where: string[] = [];
    const inc = spec.incremental;
    if (inc) {
      if (!cols.some((c) => c.name === inc.cursorField))
        throw ingestError(
          'cursorMissing',
          `stream ${spec.sourceName}.${spec.streamName}: ${table} has no column '${inc.cursorField}'`,
          {
            at: spec.at,
            hint: `columns: ${cols.map((c) => c.name).join(', ')}`,
          },
        );
      const b = cursorBounds(inc, request.cursor, `${spec.sourceName}.${spec.streamName}`);
      const lit = (v: string | number): string =>
        b.kind === 'number' ? String(Number(v)) : `${quoteLiteral(String(v))}::timestamptz`;
      if (b.lower !== undefined) where.push(`${quoteIdent(inc.cursorField)} >= ${lit(b.lower)}`);
      if (b.upper !== undefined) where.push(`${quoteIdent(inc.cursorField)} <= ${lit(b.upper)}`);
    }
    const sql = `SELECT ${plans.map((p) => p.pgExpr).join(', ')} FROM ${table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
    return { sql, columns: plans };
  }

  async read(request: ReadRequest): Promise<StreamRead> {
    const { spec } = request;
    const { sql, columns } = await this.plan(request);
    const client = await this.connect();
    const redactor = this.redactor;
    const rowsPerChunk = copyChunkRows(spec);
    async function* chunks(): AsyncGenerator<Chunk> {
      const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT (FORMAT csv)`));
      const csvColumns = columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.csvType)}`).join(', ');
      const select = columns.map((c) => `${c.duckExpr} AS ${quoteIdent(c.name)}`).join(', ');
      const typed = columns.map((c): ColumnSchema => ({ name: c.name, type: c.type }));
      const files = splitCopy(stream, { dir: request.tempDir, rowsPerChunk });
      let total = 0;
      try {
        // DuckDB converts one chunk file while COPY keeps writing the next.
        for await (const file of files) {
          total += file.rows;
          const read = `read_csv(${quoteLiteral(file.path)}, header = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, auto_detect = false, buffer_size = ${CSV_BUFFER_BYTES}, columns = {${csvColumns}})`;
          yield {
            kind: 'typed',
            sql: `SELECT ${select} FROM ${read}`,
            columns: typed,
            rows: file.rows,
            dispose: () => rm(file.path, { force: true }),
          };
        }
      } catch (err) {
        throw ingestError(
          'sourceQuery',
          `stream ${spec.sourceName}.${spec.streamName}: COPY failed: ${redactor.text(errorMessage(err))}`,
          { at: spec.at, hint: 'check the table, the cursor column and the permissions' },
        );
      }
      if (total !== stream.rowCount)
        throw ingestError(
          'countMismatch',
          `stream ${spec.sourceName}.${spec.streamName}: COPY reported ${stream.rowCount} rows but ${total} were split into chunks; nothing was committed`,
          { at: spec.at, hint: 'this is a bug in the COPY splitter: report it' },
        );
    }
    return { chunks: chunks(), cursorPatch: () => ({}) };
  }

  async close(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
