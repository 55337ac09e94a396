import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { WeirError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type {
  CatalogEntry,
  EventRecord,
  NodeResultRecord,
  NodeStatus,
  RunQuery,
  RunRecord,
  RunStatus,
  StateStore,
} from '../../core/state-store.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations.js';
import { preparedStatements } from './prepared.js';

export interface SqliteStateStoreOptions {
  readonly logger?: Logger;
  /** How long a writer waits for another process's write lock before failing (default 10 s). */
  readonly busyTimeoutMs?: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
export const DEFAULT_HISTORY_LIMIT = 100;

export const STATE_UNKNOWN_RUN_CODE = 'WEIR-S002';
export const STATE_SCHEMA_TOO_NEW_CODE = 'WEIR-S003';
export const STATE_NOT_INITIALISED_CODE = 'WEIR-S004';

type Db = Database.Database;

/**
 * The embedded default StateStore: one SQLite file in WAL mode shared by every Weir process on the
 * machine. Writers serialise on SQLite's write lock (BEGIN IMMEDIATE + busy_timeout) so concurrent
 * processes queue instead of failing with "database is locked".
 */
export async function openSqliteStateStore(
  path: string,
  options: SqliteStateStoreOptions = {},
): Promise<StateStore> {
  const logger = options.logger ?? silentLogger;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    // Switching to WAL needs a moment of exclusive access; another process doing the same can make
    // it fail fast with SQLITE_BUSY, without the busy handler, so retry for as long as we would wait.
    retryBusy(() => db.pragma('journal_mode = WAL'), busyTimeoutMs);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db.close();
    throw err;
  }
  logger.debug('state store opened', { path });
  return new SqliteStateStore(db, logger);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_LOCKED' ||
    (typeof code === 'string' && code.startsWith('SQLITE_BUSY_'))
  );
}

function retryBusy<T>(work: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      return work();
    } catch (err) {
      if (!isBusy(err) || Date.now() + delay > deadline) throw err;
      sleepSync(delay);
    }
  }
}

interface RunRow {
  run_id: string;
  command: string;
  status: string;
  args: string;
  started_at: string;
  finished_at: string | null;
  error: string | null;
}

interface NodeResultRow {
  run_id: string;
  node_id: string;
  asset: string | null;
  status: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  rows: number | null;
  bytes: number | null;
  version: number | null;
  message: string | null;
  error_code: string | null;
}

interface EventRow {
  seq: number;
  run_id: string;
  node_id: string | null;
  ts: string;
  type: string;
  data: string;
}

interface CatalogRow {
  asset: string;
  node_id: string;
  kind: string;
  location: string | null;
  sql: string | null;
  updated_at: string;
  run_id: string;
}

function toRun(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    command: row.command,
    status: row.status as RunStatus,
    args: JSON.parse(row.args) as Record<string, unknown>,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: row.error,
  };
}

function toNodeResult(row: NodeResultRow): NodeResultRecord {
  return {
    runId: row.run_id,
    nodeId: row.node_id,
    asset: row.asset,
    status: row.status as NodeStatus,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
    rows: row.rows,
    bytes: row.bytes,
    version: row.version,
    message: row.message,
    errorCode: row.error_code,
  };
}

function toEvent(row: EventRow): EventRecord {
  return {
    seq: row.seq,
    runId: row.run_id,
    nodeId: row.node_id,
    ts: row.ts,
    type: row.type,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}

function toCatalog(row: CatalogRow): CatalogEntry {
  return {
    asset: row.asset,
    nodeId: row.node_id,
    kind: row.kind,
    location: row.location,
    sql: row.sql,
    updatedAt: row.updated_at,
    runId: row.run_id,
  };
}

function unknownRun(runId: string, cause?: unknown): WeirError {
  return new WeirError(STATE_UNKNOWN_RUN_CODE, `Run ${runId} does not exist in the state store`, {
    hint: 'Create the run (createRun) before recording its node results or events.',
    ...(cause === undefined ? {} : { cause }),
  });
}

function isForeignKeyError(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

class SqliteStateStore implements StateStore {
  private initialised = false;
  private readonly stmt: (sql: string) => Database.Statement;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {
    this.stmt = preparedStatements(db);
  }

  /** The one write path: an IMMEDIATE transaction takes the write lock up front, so it waits (busy_timeout) rather than failing mid-way. */
  private write<T>(work: () => T): T {
    this.assertInitialised();
    return this.db.transaction(work).immediate();
  }

  private assertInitialised(): void {
    if (this.initialised) return;
    // Another process may have created the schema; reading the version is cheap.
    if (this.schemaVersion() >= LATEST_SCHEMA_VERSION) {
      this.initialised = true;
      return;
    }
    throw new WeirError(STATE_NOT_INITIALISED_CODE, 'The state store has no schema yet', {
      hint: 'Call init() on the state store before using it (the CLI does this on start).',
    });
  }

  private schemaVersion(): number {
    const exists = this.db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    if (!exists) return 0;
    const row = this.db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as {
      v: number | null;
    };
    return row.v ?? 0;
  }

  async init(): Promise<void> {
    const applied = this.db
      .transaction(() => {
        this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version    INTEGER PRIMARY KEY,
          name       TEXT NOT NULL,
          applied_at TEXT NOT NULL
        )`);
        const current = this.schemaVersion();
        if (current > LATEST_SCHEMA_VERSION) {
          throw new WeirError(
            STATE_SCHEMA_TOO_NEW_CODE,
            `The state database has schema version ${current}; this Weir knows up to ${LATEST_SCHEMA_VERSION}`,
            {
              hint: 'Upgrade Weir to the version that last wrote this state database, or point at another state path.',
            },
          );
        }
        const record = this.db.prepare(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
        );
        // Apply every migration not yet recorded, not only those above the highest: migrations
        // of different features may reach a database in any order.
        const applied = new Set(
          (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
            (r) => r.version,
          ),
        );
        const done: number[] = [];
        for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
          if (applied.has(m.version)) continue;
          this.db.exec(m.sql);
          record.run(m.version, m.name, new Date().toISOString());
          done.push(m.version);
        }
        return done;
      })
      .immediate();
    this.initialised = true;
    if (applied.length > 0) this.logger.debug('state store migrated', { applied });
  }

  async createRun(run: RunRecord): Promise<void> {
    this.write(() =>
      this.stmt(
        `INSERT INTO runs (run_id, command, status, args, started_at, finished_at, error)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        run.runId,
        run.command,
        run.status,
        JSON.stringify(run.args),
        run.startedAt,
        run.finishedAt,
        run.error,
      ),
    );
  }

  async updateRun(
    runId: string,
    patch: Partial<Pick<RunRecord, 'status' | 'finishedAt' | 'error'>>,
  ): Promise<void> {
    const sets: string[] = [];
    const values: Array<string | null> = [];
    if (patch.status !== undefined) {
      sets.push('status = ?');
      values.push(patch.status);
    }
    if (patch.finishedAt !== undefined) {
      sets.push('finished_at = ?');
      values.push(patch.finishedAt);
    }
    if (patch.error !== undefined) {
      sets.push('error = ?');
      values.push(patch.error);
    }
    this.write(() => {
      const sql =
        sets.length === 0
          ? 'SELECT 1 FROM runs WHERE run_id = ?'
          : `UPDATE runs SET ${sets.join(', ')} WHERE run_id = ? RETURNING 1`;
      if (!this.stmt(sql).get(...values, runId)) throw unknownRun(runId);
    });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    this.assertInitialised();
    const row = this.stmt('SELECT * FROM runs WHERE run_id = ?').get(runId) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    this.assertInitialised();
    const where = query.status === undefined ? '' : 'WHERE status = ?';
    const params: Array<string | number> = query.status === undefined ? [] : [query.status];
    const limit = query.limit === undefined ? '' : 'LIMIT ?';
    if (query.limit !== undefined) params.push(Math.max(0, Math.floor(query.limit)));
    // rowid breaks ties between runs started in the same millisecond: later insert = newer.
    const rows = this.stmt(`SELECT * FROM runs ${where} ORDER BY started_at DESC, rowid DESC ${limit}`).all(
      ...params,
    ) as RunRow[];
    return rows.map(toRun);
  }

  async putNodeResult(r: NodeResultRecord, catalogEntry?: CatalogEntry): Promise<void> {
    try {
      this.write(() => {
        this.stmt(
          `INSERT INTO node_results (run_id, node_id, asset, status, started_at, finished_at, duration_ms, rows, bytes,
               version, message, error_code)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (run_id, node_id) DO UPDATE SET
               asset = excluded.asset, status = excluded.status, started_at = excluded.started_at,
               finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, rows = excluded.rows,
               bytes = excluded.bytes, version = excluded.version, message = excluded.message,
               error_code = excluded.error_code`,
        ).run(
          r.runId,
          r.nodeId,
          r.asset,
          r.status,
          r.startedAt,
          r.finishedAt,
          r.durationMs,
          r.rows,
          r.bytes,
          r.version,
          r.message,
          r.errorCode,
        );
        if (catalogEntry) this.upsertCatalogEntry(catalogEntry);
      });
    } catch (err) {
      if (isForeignKeyError(err)) throw unknownRun(r.runId, err);
      throw err;
    }
  }

  async listNodeResults(runId: string): Promise<NodeResultRecord[]> {
    this.assertInitialised();
    const rows = this.stmt(
      'SELECT * FROM node_results WHERE run_id = ? ORDER BY started_at IS NULL, started_at, rowid',
    ).all(runId) as NodeResultRow[];
    return rows.map(toNodeResult);
  }

  async nodeHistory(assetOrNodeId: string, limit = DEFAULT_HISTORY_LIMIT): Promise<NodeResultRecord[]> {
    this.assertInitialised();
    const rows = this.stmt(
      `SELECT n.* FROM node_results n JOIN runs r ON r.run_id = n.run_id
         WHERE n.asset = ? OR n.node_id = ?
         ORDER BY coalesce(n.started_at, r.started_at) DESC, r.rowid DESC, n.rowid DESC
         LIMIT ?`,
    ).all(assetOrNodeId, assetOrNodeId, Math.max(0, Math.floor(limit))) as NodeResultRow[];
    return rows.map(toNodeResult);
  }

  appendEvent(event: EventRecord): Promise<void> {
    return this.appendEvents([event]);
  }

  async appendEvents(events: readonly EventRecord[]): Promise<void> {
    if (events.length === 0) return;
    let current: EventRecord | undefined;
    try {
      this.write(() => {
        const insert = this.stmt(
          'INSERT INTO events (run_id, node_id, ts, type, data) VALUES (?, ?, ?, ?, ?)',
        );
        for (current of events)
          insert.run(current.runId, current.nodeId, current.ts, current.type, JSON.stringify(current.data));
      });
    } catch (err) {
      if (isForeignKeyError(err)) throw unknownRun(current?.runId ?? '', err);
      throw err;
    }
  }

  async listEvents(runId: string, nodeId?: string): Promise<EventRecord[]> {
    this.assertInitialised();
    const rows = (
      nodeId === undefined
        ? this.stmt('SELECT * FROM events WHERE run_id = ? ORDER BY seq').all(runId)
        : this.stmt('SELECT * FROM events WHERE run_id = ? AND node_id = ? ORDER BY seq').all(runId, nodeId)
    ) as EventRow[];
    return rows.map(toEvent);
  }

  async putCatalogEntry(e: CatalogEntry): Promise<void> {
    this.write(() => this.upsertCatalogEntry(e));
  }

  private upsertCatalogEntry(e: CatalogEntry): void {
    this.stmt(
      `INSERT INTO catalog (asset, node_id, kind, location, sql, updated_at, run_id)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (asset) DO UPDATE SET
           node_id = excluded.node_id, kind = excluded.kind, location = excluded.location, sql = excluded.sql,
           updated_at = excluded.updated_at, run_id = excluded.run_id`,
    ).run(e.asset, e.nodeId, e.kind, e.location, e.sql, e.updatedAt, e.runId);
  }

  async getCatalogEntry(asset: string): Promise<CatalogEntry | undefined> {
    this.assertInitialised();
    const row = this.stmt('SELECT * FROM catalog WHERE asset = ?').get(asset) as CatalogRow | undefined;
    return row ? toCatalog(row) : undefined;
  }

  async listCatalog(): Promise<CatalogEntry[]> {
    this.assertInitialised();
    return (this.stmt('SELECT * FROM catalog ORDER BY asset').all() as CatalogRow[]).map(toCatalog);
  }

  async deleteCatalogEntry(asset: string): Promise<void> {
    this.write(() => this.stmt('DELETE FROM catalog WHERE asset = ?').run(asset));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
