import type Database from 'better-sqlite3';
import { openFeatureDb } from './open-feature-db.js';
import { preparedStatements } from './prepared.js';
import type {
  AttemptRecord,
  AttemptStatus,
  FiringRecord,
  LeaseRecord,
  OrchestrationStore,
  PartitionRecord,
  PartitionStatus,
  RunHeartbeat,
  TickRecord,
} from '../../core/orchestration-store.js';

export interface SqliteOrchestrationStoreOptions {
  readonly busyTimeoutMs?: number;
}

export const ORCHESTRATION_SCHEMA_VERSION = 3;
export const ORCH_STORE_NOT_INITIALISED = 'WEIR-O001';

/**
 * The orchestration tables live in the state database file (migration 3), behind their own
 * connection, so the daemon and CLI commands share one file. Every write is one short IMMEDIATE
 * transaction: the daemon never holds SQLite's write lock across an await.
 */
export async function openSqliteOrchestrationStore(
  path: string,
  options: SqliteOrchestrationStoreOptions = {},
): Promise<OrchestrationStore> {
  const db = openFeatureDb(path, {
    table: 'orch_ticks',
    code: ORCH_STORE_NOT_INITIALISED,
    what: 'orchestration',
    migration: 3,
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
  });
  return new SqliteOrchestrationStore(db);
}

interface AttemptRow {
  attempt_id: string;
  run_id: string;
  step_id: string;
  attempt: number;
  status: string;
  started_at: string;
  finished_at: string | null;
  retry_delay_ms: number | null;
  error: string | null;
  error_code: string | null;
}

interface TickRow {
  pipeline: string;
  scheduled_at: string;
  fired_at: string;
  owner: string;
  run_id: string | null;
}

interface PartitionRow {
  owner: string;
  key: string;
  status: string;
  run_id: string | null;
  updated_at: string;
  error: string | null;
}

interface SlotRow {
  run_id: string;
  pipeline: string;
  owner: string;
  heartbeat_at: string;
}

const toAttempt = (r: AttemptRow): AttemptRecord => ({
  runId: r.run_id,
  stepId: r.step_id,
  attempt: r.attempt,
  attemptId: r.attempt_id,
  status: r.status as AttemptStatus,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  retryDelayMs: r.retry_delay_ms,
  error: r.error,
  errorCode: r.error_code,
});

const toTick = (r: TickRow): TickRecord => ({
  pipeline: r.pipeline,
  scheduledAt: r.scheduled_at,
  firedAt: r.fired_at,
  owner: r.owner,
  runId: r.run_id,
});

const toPartition = (r: PartitionRow): PartitionRecord => ({
  owner: r.owner,
  key: r.key,
  status: r.status as PartitionStatus,
  runId: r.run_id,
  updatedAt: r.updated_at,
  error: r.error,
});

const toSlot = (r: SlotRow): RunHeartbeat => ({
  runId: r.run_id,
  pipeline: r.pipeline,
  owner: r.owner,
  heartbeatAt: r.heartbeat_at,
});

class SqliteOrchestrationStore implements OrchestrationStore {
  private readonly stmt: (sql: string) => Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.stmt = preparedStatements(db);
  }

  private write<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  async putAttempt(a: AttemptRecord): Promise<void> {
    this.write(() =>
      this.stmt(
        `INSERT INTO orch_attempts (attempt_id, run_id, step_id, attempt, status, started_at, finished_at,
           retry_delay_ms, error, error_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (attempt_id) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
           retry_delay_ms = excluded.retry_delay_ms, error = excluded.error, error_code = excluded.error_code`,
      ).run(
        a.attemptId,
        a.runId,
        a.stepId,
        a.attempt,
        a.status,
        a.startedAt,
        a.finishedAt,
        a.retryDelayMs,
        a.error,
        a.errorCode,
      ),
    );
  }

  async listAttempts(runId: string, stepId?: string): Promise<AttemptRecord[]> {
    const rows = (
      stepId === undefined
        ? this.stmt('SELECT * FROM orch_attempts WHERE run_id = ? ORDER BY step_id, attempt').all(runId)
        : this.stmt('SELECT * FROM orch_attempts WHERE run_id = ? AND step_id = ? ORDER BY attempt').all(
            runId,
            stepId,
          )
    ) as AttemptRow[];
    return rows.map(toAttempt);
  }

  async requestCancel(runId: string, requestedAt: string, reason?: string): Promise<void> {
    this.write(() =>
      this.stmt(
        'INSERT INTO orch_cancel_requests (run_id, requested_at, reason) VALUES (?, ?, ?) ON CONFLICT (run_id) DO NOTHING',
      ).run(runId, requestedAt, reason ?? null),
    );
  }

  async cancelRequest(runId: string): Promise<{ requestedAt: string; reason: string | null } | undefined> {
    const row = this.stmt('SELECT requested_at, reason FROM orch_cancel_requests WHERE run_id = ?').get(
      runId,
    ) as { requested_at: string; reason: string | null } | undefined;
    return row ? { requestedAt: row.requested_at, reason: row.reason } : undefined;
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: Date): Promise<boolean> {
    const nowIso = now.toISOString();
    const expires = new Date(now.getTime() + ttlMs).toISOString();
    return this.write(() => {
      const row = this.stmt('SELECT owner, expires_at FROM orch_leases WHERE name = ?').get(name) as
        { owner: string; expires_at: string } | undefined;
      if (row && row.owner !== owner && row.expires_at > nowIso) return false;
      this.stmt(
        `INSERT INTO orch_leases (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at`,
      ).run(name, owner, expires);
      return true;
    });
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.write(() => this.stmt('DELETE FROM orch_leases WHERE name = ? AND owner = ?').run(name, owner));
  }

  async getLease(name: string): Promise<LeaseRecord | undefined> {
    const row = this.stmt('SELECT * FROM orch_leases WHERE name = ?').get(name) as
      { name: string; owner: string; expires_at: string } | undefined;
    return row ? { name: row.name, owner: row.owner, expiresAt: row.expires_at } : undefined;
  }

  async claimTick(t: TickRecord): Promise<boolean> {
    return this.write(
      () =>
        this.stmt(
          `INSERT INTO orch_ticks (pipeline, scheduled_at, fired_at, owner, run_id) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (pipeline, scheduled_at) DO NOTHING`,
        ).run(t.pipeline, t.scheduledAt, t.firedAt, t.owner, t.runId).changes === 1,
    );
  }

  async setTickRun(pipeline: string, scheduledAt: string, runId: string): Promise<void> {
    this.write(() =>
      this.stmt('UPDATE orch_ticks SET run_id = ? WHERE pipeline = ? AND scheduled_at = ?').run(
        runId,
        pipeline,
        scheduledAt,
      ),
    );
  }

  async listTicks(pipeline: string, limit = 1000): Promise<TickRecord[]> {
    const rows = this.stmt(
      'SELECT * FROM orch_ticks WHERE pipeline = ? ORDER BY scheduled_at DESC LIMIT ?',
    ).all(pipeline, Math.max(0, Math.floor(limit))) as TickRow[];
    return rows.map(toTick);
  }

  async lastTick(pipeline: string): Promise<string | undefined> {
    const row = this.stmt('SELECT max(scheduled_at) AS t FROM orch_ticks WHERE pipeline = ?').get(
      pipeline,
    ) as {
      t: string | null;
    };
    return row.t ?? undefined;
  }

  async putPartition(p: PartitionRecord): Promise<void> {
    this.write(() =>
      this.stmt(
        `INSERT INTO orch_partitions (owner, key, status, run_id, updated_at, error) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (owner, key) DO UPDATE SET status = excluded.status, run_id = excluded.run_id,
           updated_at = excluded.updated_at, error = excluded.error`,
      ).run(p.owner, p.key, p.status, p.runId, p.updatedAt, p.error),
    );
  }

  async listPartitions(owner: string): Promise<PartitionRecord[]> {
    return (
      this.stmt('SELECT * FROM orch_partitions WHERE owner = ? ORDER BY key').all(owner) as PartitionRow[]
    ).map(toPartition);
  }

  async getCursor(sensor: string): Promise<string | undefined> {
    const row = this.stmt('SELECT cursor FROM orch_sensor_cursors WHERE sensor = ?').get(sensor) as
      { cursor: string } | undefined;
    return row?.cursor;
  }

  async setCursor(sensor: string, cursor: string, updatedAt: string): Promise<void> {
    this.write(() =>
      this.stmt(
        `INSERT INTO orch_sensor_cursors (sensor, cursor, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (sensor) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
      ).run(sensor, cursor, updatedAt),
    );
  }

  async claimFiring(f: FiringRecord, cursor?: string): Promise<boolean> {
    return this.write(() => {
      const inserted =
        this.stmt(
          `INSERT INTO orch_firings (source, key, fired_at, owner, run_id, data) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (source, key) DO NOTHING`,
        ).run(f.source, f.key, f.firedAt, f.owner, f.runId, JSON.stringify(f.data)).changes === 1;
      if (cursor !== undefined)
        this.stmt(
          `INSERT INTO orch_sensor_cursors (sensor, cursor, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (sensor) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
        ).run(f.source, cursor, f.firedAt);
      return inserted;
    });
  }

  async listFirings(source: string, limit = 1000): Promise<FiringRecord[]> {
    const rows = this.stmt(
      'SELECT * FROM orch_firings WHERE source = ? ORDER BY fired_at DESC, key DESC LIMIT ?',
    ).all(source, Math.max(0, Math.floor(limit))) as Array<{
      source: string;
      key: string;
      fired_at: string;
      owner: string;
      run_id: string | null;
      data: string;
    }>;
    return rows.map((r) => ({
      source: r.source,
      key: r.key,
      firedAt: r.fired_at,
      owner: r.owner,
      runId: r.run_id,
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
  }

  async claimRunSlot(h: RunHeartbeat, maxActive: number, staleMs: number, now: Date): Promise<boolean> {
    const fresh = new Date(now.getTime() - staleMs).toISOString();
    return this.write(() => {
      const row = this.stmt(
        'SELECT count(*) AS n FROM orch_run_slots WHERE pipeline = ? AND heartbeat_at > ? AND run_id <> ?',
      ).get(h.pipeline, fresh, h.runId) as { n: number };
      if (row.n >= maxActive) return false;
      this.stmt(
        `INSERT INTO orch_run_slots (run_id, pipeline, owner, heartbeat_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, heartbeat_at = excluded.heartbeat_at`,
      ).run(h.runId, h.pipeline, h.owner, h.heartbeatAt);
      return true;
    });
  }

  async heartbeat(runId: string, at: string): Promise<void> {
    this.write(() => this.stmt('UPDATE orch_run_slots SET heartbeat_at = ? WHERE run_id = ?').run(at, runId));
  }

  async releaseRunSlot(runId: string): Promise<void> {
    this.write(() => this.stmt('DELETE FROM orch_run_slots WHERE run_id = ?').run(runId));
  }

  async listRunHeartbeats(): Promise<RunHeartbeat[]> {
    return (this.stmt('SELECT * FROM orch_run_slots ORDER BY heartbeat_at').all() as SlotRow[]).map(toSlot);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
