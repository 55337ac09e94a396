import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import {
  quoteIdent,
  quoteLiteral,
  type ColumnSchema,
  type EngineSession,
  type WrittenFile,
} from '../../core/engine.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { Action } from '../../lake/delta/actions.js';
import { adds, nextMetadata } from '../../lake/delta/operations/write.js';
import { deltaSchemaFromColumns } from '../../lake/delta/schema.js';
import type { Snapshot } from '../../lake/delta/snapshot.js';
import { DeltaTable } from '../../lake/delta/table.js';
import type { ObjectStore } from '../../lake/object-store.js';
import { ingestError } from '../errors.js';
import {
  fitsInto,
  isWidening,
  normalizeType,
  unifyTypes,
  valueType,
  type InferredType,
} from '../schema/types.js';
import {
  streamTableName,
  type Chunk,
  type CursorState,
  type RecordChunk,
  type RejectedRecord,
  type SourceConnector,
  type StreamSpec,
  type TypedChunk,
} from '../types.js';
import { compareCursor, cursorBounds, type Bounds } from './cursor.js';
import { applyDisposition } from './dispositions.js';
import { flattenRecord } from './flatten.js';

export const RAW_SCHEMA = 'raw';
export const STAGING_SCHEMA = 'staging';
export const DLQ_SCHEMA = 'dlq';
export const INGEST_DATE = '_ingest_date';
/** Columns the landing adds to every raw row. */
export const META_COLUMNS: readonly ColumnSchema[] = [
  { name: '_extracted_at', type: 'TIMESTAMP WITH TIME ZONE' },
  { name: '_source', type: 'VARCHAR' },
  { name: '_load_id', type: 'VARCHAR' },
  { name: INGEST_DATE, type: 'DATE' },
];
const META_NAMES = new Set(META_COLUMNS.map((c) => c.name));
const DLQ_COLUMNS: readonly ColumnSchema[] = [
  { name: 'reason', type: 'VARCHAR' },
  { name: 'payload', type: 'VARCHAR' },
  { name: 'location', type: 'VARCHAR' },
  ...META_COLUMNS,
];
const PARTITION = [INGEST_DATE] as const;

export interface LandingOptions {
  readonly lake: ObjectStore;
  readonly session: EngineSession;
  /**
   * Where typed chunks (bulk files DuckDB reads itself: Postgres COPY) are converted to raw Parquet:
   * a session of the bounded conversion engine (see conversion.ts). Default: `session`.
   */
  readonly convertSession?: EngineSession;
  readonly logger?: Logger;
  readonly checkpointInterval?: number;
  /** Rows per chunk handed to DuckDB (bounds memory); default 50,000. */
  readonly chunkRows?: number;
  readonly now?: () => Date;
}

export interface LoadRequest {
  readonly spec: StreamSpec;
  readonly connector: SourceConnector;
  readonly runId: string;
}

export interface LoadReport {
  readonly stream: string;
  readonly loadId: string;
  readonly loadSeq: number;
  /** `loaded`: a commit was made; `up_to_date`: nothing new (no commit). */
  readonly status: 'loaded' | 'up_to_date';
  readonly rowsRead: number;
  readonly rowsLoaded: number;
  readonly rowsDeadLettered: number;
  /** Re-read rows (lookback, boundary) already in raw with the same key and cursor value. */
  readonly rowsAlreadyLanded: number;
  readonly bytes: number;
  readonly rawVersion: number | null;
  readonly stagingVersion: number | null;
  readonly cursor: CursorState | undefined;
  /** Child tables written (arrays as child_table). */
  readonly childTables: readonly string[];
}

/** The Delta `txn` appId of a stream: its cursor advances only with its data. */
export function streamAppId(spec: Pick<StreamSpec, 'sourceName' | 'streamName'>): string {
  return `weir-ingest:${spec.sourceName}.${spec.streamName}`;
}

/** `00000042-<runId>`: load ids sort by load sequence. */
export function loadIdOf(seq: number, runId: string): string {
  return `${String(seq).padStart(8, '0')}-${runId}`;
}

const CURSOR_PARAM = 'weirCursor';
const SEQ_PARAM = 'weirLoadSeq';

/** The cursor committed with the table's latest load, read back from its commitInfo. */
export async function committedCursor(raw: DeltaTable): Promise<CursorState | undefined> {
  const [last] = await raw.history(1);
  const text = last?.operationParameters[CURSOR_PARAM];
  if (typeof text !== 'string') return undefined;
  return JSON.parse(text) as CursorState;
}

/** A table the load writes into (raw, a child table, the DLQ): its files wait for one commit. */
class Sink {
  readonly files: WrittenFile[] = [];
  /** Data columns (no meta columns), in table order. */
  readonly columns = new Map<string, string>();
  snapshot: Snapshot | undefined;
  rowsWritten = 0;

  private constructor(
    readonly name: string,
    readonly table: DeltaTable,
  ) {}

  static async open(opts: LandingOptions, path: string): Promise<Sink> {
    const table = await DeltaTable.open(opts.lake, path, opts.session, {
      ...(opts.checkpointInterval ? { checkpointInterval: opts.checkpointInterval } : {}),
    });
    const sink = new Sink(path, table);
    sink.snapshot = await table.latestSnapshot();
    if (sink.snapshot)
      for (const c of table.columns(sink.snapshot))
        if (!META_NAMES.has(c.name)) sink.columns.set(c.name, c.type);
    return sink;
  }

  get isNew(): boolean {
    return this.snapshot === undefined;
  }

  /**
   * Writes rows of one load. Every row of a load has the same `_ingest_date`, so the file goes
   * straight into its Hive folder (without the column, as a partitioned COPY would write it):
   * DuckDB's PARTITION_BY buffers more and writes slower for no gain here.
   */
  async write(session: EngineSession, sql: string, ingestDate: string): Promise<WrittenFile[]> {
    const written = await session.writeParquet(
      `SELECT * EXCLUDE (${quoteIdent(INGEST_DATE)}) FROM (${sql}) AS __weir_p`,
      { dir: join(this.table.location(), `${INGEST_DATE}=${ingestDate}`), prefix: 'part-' },
    );
    const files = written.map((f) => ({ ...f, partitionValues: { [INGEST_DATE]: ingestDate } }));
    this.files.push(...files);
    const rows = files.reduce((n, f) => n + f.rows, 0);
    this.rowsWritten += rows;
    return files;
  }

  allColumns(): ColumnSchema[] {
    return [...[...this.columns].map(([name, type]) => ({ name, type })), ...META_COLUMNS];
  }

  /** Commits the written files (and any schema change) with the stream's txn. */
  async commit(
    txn: { appId: string; version: number },
    parameters: Record<string, string>,
    now: number,
  ): Promise<{ version: number; committed: boolean }> {
    const columns = this.allColumns();
    const base = this.snapshot;
    if (!base) {
      return this.table.append(this.files, columns, {
        partitionColumns: PARTITION,
        txn,
        operation: 'WEIR INGEST',
        operationParameters: { mode: 'Append', ...parameters },
        configuration: { 'delta.appendOnly': 'true' },
      });
    }
    // Written by hand rather than through append(): a widened column (int -> bigint -> double)
    // changes the type of an existing field, which append() refuses for models.
    const schema = deltaSchemaFromColumns(columns);
    const actions: Action[] = [];
    const metadata = nextMetadata(base.metadata, schema, base.partitionColumns, undefined, now);
    if (metadata) actions.push({ metaData: metadata });
    actions.push(...adds(this.table, this.files, schema, base.partitionColumns, now));
    return this.table.commit(actions, {
      operation: 'WEIR INGEST',
      operationParameters: { mode: 'Append', ...parameters },
      operationMetrics: {
        numFiles: String(this.files.length),
        numOutputRows: String(this.rowsWritten),
      },
      readVersion: base.version,
      txn,
      conflictsWithAdds: false,
    });
  }
}

interface LoadState {
  readonly opts: LandingOptions;
  readonly spec: StreamSpec;
  readonly session: EngineSession;
  /** The session typed chunks are converted on. */
  readonly convert: EngineSession;
  readonly tempDir: string;
  readonly metaSql: string;
  /** `YYYY-MM-DD`: the `_ingest_date` of every row of this load. */
  readonly ingestDate: string;
  readonly raw: Sink;
  readonly dlq: Sink;
  readonly children: Map<string, Sink>;
  readonly bounds: Bounds | undefined;
  /** SELECT over raw as it was before this load, for de-duplicating re-read rows. */
  readonly rawScan: string | undefined;
  read: number;
  alreadyLanded: number;
  dlqRows: number;
  maxCursor: string | number | undefined;
  tempSeq: number;
}

/**
 * Lands one load of one stream: reads it from the last committed cursor, applies the schema
 * contract, writes raw (and child, dead-letter) Parquet files, checks that every row read is
 * accounted for, then commits the dead letters and the raw data, the latter together with the new
 * cursor (one Delta commit, `txn` = the load sequence). Merge/replace streams then update staging.
 */
export async function landStream(opts: LandingOptions, request: LoadRequest): Promise<LoadReport> {
  const { spec, connector } = request;
  const { session } = opts;
  const log = (opts.logger ?? silentLogger).child({ stream: `${spec.sourceName}.${spec.streamName}` });
  const name = streamTableName(spec);
  const appId = streamAppId(spec);
  const raw = await Sink.open(opts, `${RAW_SCHEMA}/${name}`);
  const dlq = await Sink.open(opts, `${DLQ_SCHEMA}/${name}`);
  const lastSeq = raw.snapshot?.txnVersion(appId) ?? 0;
  const cursor = raw.snapshot ? await committedCursor(raw.table) : undefined;

  // A crash after the raw commit and before staging: bring staging up to the committed loads first.
  await applyDisposition(opts, spec, raw.table, lastSeq);

  const seq = lastSeq + 1;
  const loadId = loadIdOf(seq, request.runId);
  const now = (opts.now ?? (() => new Date()))();
  const ingestDate = now.toISOString().slice(0, 10);
  const meta = [
    `${timestampLiteral(now)} AS _extracted_at`,
    `${quoteLiteral(spec.sourceName)} AS _source`,
    `${quoteLiteral(loadId)} AS _load_id`,
    `DATE ${quoteLiteral(ingestDate)} AS ${INGEST_DATE}`,
  ].join(', ');
  const bounds = spec.incremental
    ? cursorBounds(spec.incremental, cursor, `${spec.sourceName}.${spec.streamName}`)
    : undefined;
  const tempDir = await mkdtemp(join(tmpdir(), 'weir-ingest-'));
  const state: LoadState = {
    opts,
    spec,
    session,
    convert: opts.convertSession ?? session,
    tempDir,
    metaSql: meta,
    ingestDate,
    raw,
    dlq,
    children: new Map(),
    bounds,
    rawScan:
      raw.snapshot && spec.incremental && spec.primaryKey.length > 0 && bounds?.lower !== undefined
        ? raw.table.scanSql(raw.snapshot)
        : undefined,
    read: 0,
    alreadyLanded: 0,
    dlqRows: 0,
    maxCursor: undefined,
    tempSeq: 0,
  };
  log.debug('load started', { load_id: loadId, cursor: cursor?.value ?? null });
  try {
    const read = await connector.read({
      spec,
      cursor,
      chunkRows: opts.chunkRows ?? 50_000,
      tempDir,
      session,
    });
    for await (const chunk of read.chunks) await landChunk(state, chunk);

    const loaded = raw.rowsWritten;
    const dead = dlq.rowsWritten;
    if (state.read !== loaded + dead + state.alreadyLanded) {
      throw ingestError(
        'countMismatch',
        `stream ${spec.sourceName}.${spec.streamName}: read ${state.read} rows but loaded ${loaded}, dead-lettered ${dead} and found ${state.alreadyLanded} already landed; nothing was committed`,
        {
          at: spec.at,
          hint: 'this is a bug in the connector or the landing; report it with the source settings',
        },
      );
    }
    let value = cursor?.value;
    if (
      state.maxCursor !== undefined &&
      (value === undefined || value === null || compareCursor(state.maxCursor, value) > 0)
    )
      value = state.maxCursor;
    const next: CursorState = {
      ...(cursor ?? {}),
      ...read.cursorPatch(),
      ...(value !== undefined ? { value } : {}),
    };
    const changed = JSON.stringify(next) !== JSON.stringify(cursor ?? {}) && JSON.stringify(next) !== '{}';
    const hasChildren = [...state.children.values()].some((c) => c.files.length > 0);
    if (raw.files.length === 0 && dlq.files.length === 0 && !hasChildren && !changed) {
      log.info('up to date', { rows_read: state.read });
      return report('up_to_date', null);
    }
    const txn = { appId, version: seq };
    const params = { [SEQ_PARAM]: String(seq), weirLoadId: loadId };
    const t = now.getTime();
    // Dead letters and child rows first: the raw commit (with the cursor) is the load's point of no return.
    for (const child of state.children.values())
      if (child.files.length > 0 || child.isNew) await child.commit(txn, params, t);
    if (dlq.files.length > 0) await dlq.commit(txn, params, t);
    const committed = await raw.commit(txn, { ...params, [CURSOR_PARAM]: JSON.stringify(next) }, t);
    log.info('load committed', {
      load_id: loadId,
      rows_loaded: loaded,
      rows_dead_lettered: dead,
      raw_version: committed.version,
      committed: committed.committed,
    });
    return report('loaded', committed.version, next);
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }

  async function report(
    status: LoadReport['status'],
    rawVersion: number | null,
    next?: CursorState,
  ): Promise<LoadReport> {
    const stagingVersion = await applyDisposition(opts, spec, raw.table, status === 'loaded' ? seq : lastSeq);
    return {
      stream: `${spec.sourceName}.${spec.streamName}`,
      loadId,
      loadSeq: status === 'loaded' ? seq : lastSeq,
      status,
      rowsRead: state.read,
      rowsLoaded: raw.rowsWritten,
      rowsDeadLettered: dlq.rowsWritten,
      rowsAlreadyLanded: state.alreadyLanded,
      bytes: raw.files.reduce((n, f) => n + f.bytes, 0),
      rawVersion,
      stagingVersion,
      cursor: next ?? cursor,
      childTables: [...state.children.keys()],
    };
  }
}

function timestampLiteral(d: Date): string {
  return `TIMESTAMPTZ ${quoteLiteral(d.toISOString())}`;
}

async function landChunk(state: LoadState, chunk: Chunk): Promise<void> {
  if (chunk.kind === 'records') await landRecords(state, chunk);
  else {
    try {
      await landTyped(state, chunk);
    } finally {
      await chunk.dispose();
    }
  }
}

// ---- records (JSON, CSV, REST): contract checked per value, in JS ----

interface Verdict {
  readonly row: Record<string, unknown>;
  readonly at: string;
}

async function landRecords(state: LoadState, chunk: RecordChunk): Promise<void> {
  const { spec, raw } = state;
  state.read += chunk.records.length + chunk.rejected.length;
  const dead: RejectedRecord[] = [...chunk.rejected];
  const accepted: Verdict[] = [];
  const childRows = new Map<string, Record<string, unknown>[]>();
  const first = raw.isNew && raw.columns.size === 0;
  const proposed = new Map<string, InferredType | null>();
  const widen = new Map<string, string>();
  const where = `${spec.sourceName}.${spec.streamName}`;

  for (const rec of chunk.records) {
    const flat = flattenRecord(rec.value, spec.nested, spec.primaryKey);
    const row = flat.row;
    let reject: string | undefined;
    if (!first) {
      for (const [k, v] of Object.entries(row)) {
        const vt = valueType(v);
        if (vt === null) continue;
        const col = raw.columns.get(k);
        if (col === undefined) {
          if (spec.schemaContract === 'evolve') proposed.set(k, unifyTypes(proposed.get(k) ?? null, vt));
          else if (spec.schemaContract === 'freeze') throw frozen(where, `new column '${k}'`, rec.at, spec);
          else if (spec.schemaContract === 'discard_value') delete row[k];
          else reject ??= `new column '${k}' (${vt}) not in the frozen schema`;
          continue;
        }
        if (fitsInto(vt, col)) continue;
        const widened = isWidening(col, vt);
        if (spec.schemaContract === 'evolve') {
          if (!widened)
            throw ingestError(
              'incompatibleType',
              `stream ${where}: column '${k}' is ${col} but ${rec.at} has ${vt} value ${JSON.stringify(v)}; only int -> bigint -> double widening is automatic`,
              {
                at: spec.at,
                hint: `use schema_contract discard_row (dead-letter such rows) or discard_value, or fix the source`,
              },
            );
          widen.set(k, vt);
        } else if (spec.schemaContract === 'freeze') {
          throw frozen(where, `column '${k}' ${col} receives ${vt} ${JSON.stringify(v)}`, rec.at, spec);
        } else if (spec.schemaContract === 'discard_value') {
          row[k] = null;
        } else {
          reject ??= `column '${k}' is ${col} but the value ${JSON.stringify(v)} is ${vt}`;
        }
      }
    }
    if (reject !== undefined) {
      dead.push({ reason: reject, payload: JSON.stringify(rec.value), at: rec.at });
      continue;
    }
    accepted.push({ row, at: rec.at });
    for (const [path, rows] of flat.children) {
      const list = childRows.get(path) ?? [];
      list.push(...rows);
      childRows.set(path, list);
    }
  }
  if (first) {
    for (const { row } of accepted)
      for (const [k, v] of Object.entries(row))
        proposed.set(k, unifyTypes(proposed.get(k) ?? null, valueType(v)));
  } else {
    // New columns only from accepted rows' values; a column seen only as null becomes VARCHAR.
    for (const { row } of accepted)
      for (const [k, v] of Object.entries(row))
        if (!raw.columns.has(k) && !proposed.has(k) && spec.schemaContract === 'evolve')
          proposed.set(k, valueType(v));
  }
  for (const [k, t] of widen) raw.columns.set(k, t);
  for (const [k, t] of proposed) if (!raw.columns.has(k)) raw.columns.set(k, t ?? 'VARCHAR');

  if (accepted.length > 0) {
    const file = await writeNdjson(
      state,
      accepted.map((a) => a.row),
      raw.columns,
    );
    const source = readJsonSql(file, raw.columns);
    await writeRaw(state, state.session, `SELECT * FROM ${source}`);
  }
  for (const [path, rows] of childRows) await writeChild(state, path, rows);
  if (dead.length > 0) await writeDead(state, dead);
}

function frozen(where: string, what: string, at: string, spec: StreamSpec): Error {
  return ingestError(
    'contractFrozen',
    `stream ${where}: ${what} at ${at} breaks the frozen schema contract`,
    {
      at: spec.at,
      hint: 'change schema_contract to evolve (accept it), discard_row or discard_value, or fix the source',
    },
  );
}

async function writeChild(state: LoadState, path: string, rows: Record<string, unknown>[]): Promise<void> {
  const name = `${streamTableName(state.spec)}__${path}`;
  let sink = state.children.get(name);
  if (!sink) {
    sink = await Sink.open(state.opts, `${RAW_SCHEMA}/${name}`);
    state.children.set(name, sink);
  }
  for (const row of rows)
    for (const [k, v] of Object.entries(row)) {
      const vt = valueType(v);
      const col = sink.columns.get(k);
      if (col === undefined) sink.columns.set(k, vt ?? 'VARCHAR');
      else if (vt !== null && !fitsInto(vt, col)) sink.columns.set(k, isWidening(col, vt) ? vt : 'VARCHAR');
    }
  const file = await writeNdjson(state, rows, sink.columns);
  await sink.write(
    state.session,
    `SELECT *, ${state.metaSql} FROM ${readJsonSql(file, sink.columns)}`,
    state.ingestDate,
  );
}

async function writeDead(state: LoadState, dead: readonly RejectedRecord[]): Promise<void> {
  const cols = new Map(DLQ_COLUMNS.filter((c) => !META_NAMES.has(c.name)).map((c) => [c.name, c.type]));
  const file = await writeNdjson(
    state,
    dead.map((d) => ({ reason: d.reason, payload: d.payload, location: d.at })),
    cols,
  );
  for (const [k, t] of cols) state.dlq.columns.set(k, t);
  await state.dlq.write(
    state.session,
    `SELECT *, ${state.metaSql} FROM ${readJsonSql(file, cols)}`,
    state.ingestDate,
  );
}

async function writeNdjson(
  state: LoadState,
  rows: readonly Record<string, unknown>[],
  columns: ReadonlyMap<string, string>,
): Promise<string> {
  const path = join(state.tempDir, `chunk-${state.tempSeq++}.ndjson`);
  const out = createWriteStream(path);
  const varchar = new Set([...columns].filter(([, t]) => normalizeType(t) === 'VARCHAR').map(([k]) => k));
  for (const row of rows) {
    const clean: Record<string, unknown> = {};
    for (const k of columns.keys()) {
      const v = row[k];
      if (v === undefined || v === null) continue;
      clean[k] =
        typeof v === 'bigint' ? v.toString() : varchar.has(k) && typeof v !== 'string' ? String(v) : v;
    }
    if (!out.write(`${JSON.stringify(clean)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return path;
}

function readJsonSql(file: string, columns: ReadonlyMap<string, string>): string {
  const spec = [...columns].map(([k, t]) => `${quoteLiteral(k)}: ${quoteLiteral(t)}`).join(', ');
  return `read_json(${quoteLiteral(file)}, format = 'newline_delimited', columns = {${spec}})`;
}

// ---- typed chunks (Postgres COPY): contract checked per column, in SQL ----

async function landTyped(state: LoadState, chunk: TypedChunk): Promise<void> {
  const { spec, raw } = state;
  const where = `${spec.sourceName}.${spec.streamName}`;
  state.read += chunk.rows;
  const first = raw.isNew && raw.columns.size === 0;
  const select: string[] = [];
  const rejectIf: { cond: string; reason: string }[] = [];
  if (first) {
    for (const c of chunk.columns) raw.columns.set(c.name, c.type);
  }
  for (const c of chunk.columns) {
    const id = quoteIdent(c.name);
    const col = raw.columns.get(c.name);
    if (col === undefined) {
      if (spec.schemaContract === 'evolve') {
        raw.columns.set(c.name, c.type);
        select.push(id);
      } else if (spec.schemaContract === 'freeze') {
        throw frozen(where, `new column '${c.name}' (${c.type})`, 'the source', spec);
      } else if (spec.schemaContract === 'discard_row') {
        rejectIf.push({
          cond: `${id} IS NOT NULL`,
          reason: `new column '${c.name}' (${c.type}) not in the frozen schema`,
        });
      }
      continue;
    }
    if (normalizeType(c.type) === normalizeType(col) || fitsInto(c.type, col)) {
      select.push(`CAST(${id} AS ${col}) AS ${id}`);
      continue;
    }
    const widened = isWidening(col, c.type);
    if (spec.schemaContract === 'evolve') {
      if (!widened)
        throw ingestError(
          'incompatibleType',
          `stream ${where}: column '${c.name}' is ${col} but the source now has ${c.type}`,
          {
            at: spec.at,
            hint: 'only int -> bigint -> double widening is automatic; use discard_row/discard_value or land into a new stream',
          },
        );
      raw.columns.set(c.name, c.type);
      select.push(id);
    } else if (spec.schemaContract === 'freeze') {
      throw frozen(where, `column '${c.name}' ${col} changes to ${c.type}`, 'the source', spec);
    } else {
      select.push(`TRY_CAST(${id} AS ${col}) AS ${id}`);
      if (spec.schemaContract === 'discard_row')
        rejectIf.push({
          cond: `(${id} IS NOT NULL AND TRY_CAST(${id} AS ${col}) IS NULL)`,
          reason: `column '${c.name}' is ${col} but the value does not fit`,
        });
    }
  }
  const bad = rejectIf.map((r) => r.cond).join(' OR ');
  // Row numbers (for dead-letter locations) need a window over the whole chunk: only when rows can be rejected.
  const src = bad
    ? `(SELECT *, row_number() OVER () AS __weir_row FROM (${chunk.sql}) AS __weir_c) AS __weir_s`
    : `(${chunk.sql}) AS __weir_s`;
  const keep = bad ? `WHERE NOT (${bad})` : '';
  const staged = `SELECT ${select.join(', ') || '1 AS __weir_empty'} FROM ${src} ${keep}`;
  if (bad) await writeDeadRows(state, src, rejectIf, where);
  const present = new Set(chunk.columns.map((c) => c.name).filter((n) => raw.columns.has(n)));
  await writeRaw(state, state.convert, staged, present);
}

async function writeDeadRows(
  state: LoadState,
  src: string,
  rejectIf: readonly { cond: string; reason: string }[],
  where: string,
): Promise<void> {
  const reason = `CASE ${rejectIf.map((r) => `WHEN ${r.cond} THEN ${quoteLiteral(r.reason)}`).join(' ')} END`;
  const sql = `SELECT ${reason} AS reason, to_json(__weir_s)::VARCHAR AS payload, ${quoteLiteral(`${where} row `)} || __weir_row AS location, ${state.metaSql} FROM ${src} WHERE ${rejectIf.map((r) => r.cond).join(' OR ')}`;
  for (const c of DLQ_COLUMNS) if (!META_NAMES.has(c.name)) state.dlq.columns.set(c.name, c.type);
  await state.dlq.write(state.convert, sql, state.ingestDate);
}

/**
 * Writes accepted rows into raw. Incremental streams with a key skip rows raw already holds with
 * the same key and cursor value: the lookback and the inclusive boundary re-read them on purpose.
 */
async function writeRaw(
  state: LoadState,
  session: EngineSession,
  staged: string,
  present?: ReadonlySet<string>,
): Promise<void> {
  const { spec, raw } = state;
  // A column the source no longer sends stays in raw as NULL.
  const casts = [...raw.columns].map(
    ([k, t]) => `CAST(${present && !present.has(k) ? 'NULL' : quoteIdent(k)} AS ${t}) AS ${quoteIdent(k)}`,
  );
  let body = `SELECT ${casts.join(', ')} FROM (${staged}) AS __weir_st`;
  const inc = spec.incremental;
  if (state.rawScan && inc && state.bounds?.lower !== undefined) {
    const keys = [...spec.primaryKey, inc.cursorField];
    const match = keys
      .map((k) => `__weir_r.${quoteIdent(k)} IS NOT DISTINCT FROM __weir_n.${quoteIdent(k)}`)
      .join(' AND ');
    const lower =
      state.bounds.kind === 'number'
        ? String(state.bounds.lower)
        : `TIMESTAMPTZ ${quoteLiteral(String(state.bounds.lower))}`;
    const seen = `EXISTS (SELECT 1 FROM (${state.rawScan}) AS __weir_r WHERE __weir_r.${quoteIdent(inc.cursorField)} >= ${lower} AND ${match})`;
    const dup = await session.query(`SELECT count(*) AS n FROM (${body}) AS __weir_n WHERE ${seen}`);
    state.alreadyLanded += Number(dup.rows[0]?.['n'] ?? 0);
    body = `SELECT * FROM (${body}) AS __weir_n WHERE NOT ${seen}`;
  }
  const files = await raw.write(
    session,
    `SELECT *, ${state.metaSql} FROM (${body}) AS __weir_b`,
    state.ingestDate,
  );
  if (inc && files.length > 0) await trackCursor(state, session, files, inc.cursorField);
}

async function trackCursor(
  state: LoadState,
  session: EngineSession,
  files: readonly WrittenFile[],
  field: string,
): Promise<void> {
  const type = state.raw.columns.get(field);
  if (type === undefined) {
    throw ingestError(
      'cursorMissing',
      `stream ${state.spec.sourceName}.${state.spec.streamName}: cursor_field '${field}' is not a column of the data (${[...state.raw.columns.keys()].join(', ')})`,
      { at: state.spec.at, hint: 'fix incremental.cursor_field' },
    );
  }
  const list = `[${files.map((f) => quoteLiteral(f.path)).join(', ')}]`;
  const t = normalizeType(type);
  const expr =
    t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMP'
      ? `strftime(max(${quoteIdent(field)})::TIMESTAMPTZ AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')`
      : t === 'DATE'
        ? `strftime(max(${quoteIdent(field)}), '%Y-%m-%d')`
        : `max(${quoteIdent(field)})`;
  const res = await session.query(`SELECT ${expr} AS m FROM read_parquet(${list}, union_by_name = true)`);
  const m = res.rows[0]?.['m'];
  if (m === null || m === undefined) return;
  const value = typeof m === 'bigint' ? Number(m) : typeof m === 'number' ? m : String(m);
  if (state.maxCursor === undefined || compareCursor(value, state.maxCursor) > 0) state.maxCursor = value;
}
