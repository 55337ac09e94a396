/**
 * Quality history: every check's observed values and every table's row count, freshness and schema,
 * per run. The monitors (row-volume anomaly, schema and distribution drift) and the quality score
 * trend read it. SQLite (state/sqlite, same file as the StateStore) is the embedded default; every
 * implementation passes test/quality-store-conformance.ts.
 */
import type { ColumnSchema } from './engine.js';

export interface CheckRecord {
  readonly runId: string;
  /** ISO time of the run's clock. */
  readonly at: string;
  readonly asset: string;
  readonly checkId: string;
  readonly name: string;
  readonly type: string;
  readonly column: string | null;
  readonly severity: string;
  readonly origin: string;
  /** pass | warn | fail | error */
  readonly status: string;
  /** JSON-serialisable observed value. */
  readonly observedValue: unknown;
  readonly elementCount: number | null;
  readonly unexpectedCount: number | null;
  readonly failures: number | null;
  readonly message: string;
  /** Up to 20 unexpected values or rows (JSON-serialisable). */
  readonly samples: readonly unknown[];
}

export interface TableRecord {
  readonly runId: string;
  readonly at: string;
  readonly asset: string;
  readonly rowCount: number;
  /** Latest value of the table's freshness column (ISO), when a freshness monitor names one. */
  readonly freshness: string | null;
  readonly schema: readonly ColumnSchema[];
}

export interface QualityStore {
  recordChecks(records: readonly CheckRecord[]): Promise<void>;
  /** One record per table per run; recording the same (run, asset) again replaces it. */
  recordTable(record: TableRecord): Promise<void>;
  /** Newest `limit` table records of an asset, oldest first. */
  tableHistory(asset: string, limit?: number): Promise<TableRecord[]>;
  /** Newest `limit` records of one check (by id) of an asset, oldest first. */
  checkHistory(asset: string, checkId: string, limit?: number): Promise<CheckRecord[]>;
  /** Every check record of one run of one asset (or all assets). */
  runChecks(runId: string, asset?: string): Promise<CheckRecord[]>;
  /** Run ids that recorded checks or tables for an asset, newest first. */
  runsOf(asset: string, limit?: number): Promise<{ runId: string; at: string }[]>;
  /** Assets with any record, sorted. */
  assets(): Promise<string[]>;
  close(): Promise<void>;
}
