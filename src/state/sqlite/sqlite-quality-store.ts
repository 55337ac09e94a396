import type Database from 'better-sqlite3';
import { openFeatureDb } from './open-feature-db.js';
import { preparedStatements } from './prepared.js';
import type { ColumnSchema } from '../../core/engine.js';
import type { CheckRecord, QualityStore, TableRecord } from '../../core/quality-store.js';

export const QUALITY_STORE_NOT_INITIALISED = 'WEIR-Q030';
const DEFAULT_LIMIT = 100;

/**
 * Quality history in the state database file (migration 2), on its own connection like the
 * orchestration store. Each write is one short IMMEDIATE transaction.
 */
export async function openSqliteQualityStore(
  path: string,
  options: { busyTimeoutMs?: number } = {},
): Promise<QualityStore> {
  const db = openFeatureDb(path, {
    table: 'quality_tables',
    code: QUALITY_STORE_NOT_INITIALISED,
    what: 'quality',
    migration: 2,
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
  });
  return new SqliteQualityStore(db);
}

interface CheckRow {
  run_id: string;
  at: string;
  asset: string;
  check_id: string;
  name: string;
  type: string;
  column_name: string | null;
  severity: string;
  origin: string;
  status: string;
  observed: string | null;
  element_count: number | null;
  unexpected_count: number | null;
  failures: number | null;
  message: string;
  samples: string;
}

interface TableRow {
  run_id: string;
  at: string;
  asset: string;
  row_count: number;
  freshness: string | null;
  schema: string;
}

function json(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'bigint' ? Number(x) : x instanceof Uint8Array ? `<${x.length} bytes>` : x,
  );
}

function toCheck(r: CheckRow): CheckRecord {
  return {
    runId: r.run_id,
    at: r.at,
    asset: r.asset,
    checkId: r.check_id,
    name: r.name,
    type: r.type,
    column: r.column_name,
    severity: r.severity,
    origin: r.origin,
    status: r.status,
    observedValue: r.observed === null ? null : (JSON.parse(r.observed) as unknown),
    elementCount: r.element_count,
    unexpectedCount: r.unexpected_count,
    failures: r.failures,
    message: r.message,
    samples: JSON.parse(r.samples) as unknown[],
  };
}

function toTable(r: TableRow): TableRecord {
  return {
    runId: r.run_id,
    at: r.at,
    asset: r.asset,
    rowCount: r.row_count,
    freshness: r.freshness,
    schema: JSON.parse(r.schema) as ColumnSchema[],
  };
}

class SqliteQualityStore implements QualityStore {
  private readonly stmt: (sql: string) => Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.stmt = preparedStatements(db);
  }

  async recordChecks(records: readonly CheckRecord[]): Promise<void> {
    const insert = this.stmt(
      `INSERT OR REPLACE INTO quality_checks (run_id, at, asset, check_id, name, type, column_name, severity,
         origin, status, observed, element_count, unexpected_count, failures, message, samples)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db
      .transaction(() => {
        for (const r of records) {
          insert.run(
            r.runId,
            r.at,
            r.asset,
            r.checkId,
            r.name,
            r.type,
            r.column,
            r.severity,
            r.origin,
            r.status,
            r.observedValue === undefined ? null : json(r.observedValue),
            r.elementCount,
            r.unexpectedCount,
            r.failures,
            r.message,
            json(r.samples.slice(0, 20)),
          );
        }
      })
      .immediate();
  }

  async recordTable(r: TableRecord): Promise<void> {
    this.db
      .transaction(() =>
        this.stmt(
          `INSERT OR REPLACE INTO quality_tables (run_id, at, asset, row_count, freshness, schema)
             VALUES (?, ?, ?, ?, ?, ?)`,
        ).run(r.runId, r.at, r.asset, r.rowCount, r.freshness, json(r.schema)),
      )
      .immediate();
  }

  async tableHistory(asset: string, limit = DEFAULT_LIMIT): Promise<TableRecord[]> {
    const rows = this.stmt(
      'SELECT * FROM quality_tables WHERE asset = ? ORDER BY at DESC, run_id DESC LIMIT ?',
    ).all(asset, limit) as TableRow[];
    return rows.reverse().map(toTable);
  }

  async checkHistory(asset: string, checkId: string, limit = DEFAULT_LIMIT): Promise<CheckRecord[]> {
    const rows = this.stmt(
      'SELECT * FROM quality_checks WHERE asset = ? AND check_id = ? ORDER BY at DESC, run_id DESC LIMIT ?',
    ).all(asset, checkId, limit) as CheckRow[];
    return rows.reverse().map(toCheck);
  }

  async runChecks(runId: string, asset?: string): Promise<CheckRecord[]> {
    const rows = (
      asset === undefined
        ? this.db.prepare('SELECT * FROM quality_checks WHERE run_id = ? ORDER BY asset, check_id').all(runId)
        : this.db
            .prepare('SELECT * FROM quality_checks WHERE run_id = ? AND asset = ? ORDER BY check_id')
            .all(runId, asset)
    ) as CheckRow[];
    return rows.map(toCheck);
  }

  async runsOf(asset: string, limit = DEFAULT_LIMIT): Promise<{ runId: string; at: string }[]> {
    return this.db
      .prepare(
        `SELECT run_id AS runId, max(at) AS at FROM (
           SELECT run_id, at FROM quality_checks WHERE asset = ?
           UNION ALL SELECT run_id, at FROM quality_tables WHERE asset = ?)
         GROUP BY run_id ORDER BY at DESC, run_id DESC LIMIT ?`,
      )
      .all(asset, asset, limit) as { runId: string; at: string }[];
  }

  async assets(): Promise<string[]> {
    return this.db
      .prepare('SELECT asset FROM quality_checks UNION SELECT asset FROM quality_tables ORDER BY asset')
      .pluck()
      .all() as string[];
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
