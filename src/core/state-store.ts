/**
 * Run history, events and the asset catalog. SQLite (state/sqlite) is the embedded default;
 * Postgres follows. Every implementation passes the shared conformance suite in
 * test/state-store-conformance.ts.
 */
export const RUN_STATUSES = ['queued', 'running', 'success', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const NODE_STATUSES = [
  'pending',
  'running',
  'success',
  'error',
  'skipped',
  'pass',
  'warn',
  'fail',
] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export interface RunRecord {
  readonly runId: string;
  /** `build`, `run`, `seed`, `snapshot`, `test`, or a pipeline name. */
  readonly command: string;
  readonly status: RunStatus;
  /** The CLI arguments / selection that produced the run (never secrets). */
  readonly args: Readonly<Record<string, unknown>>;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly error: string | null;
}

export interface NodeResultRecord {
  readonly runId: string;
  /** Unique id, e.g. `model.shop.stg_orders`. */
  readonly nodeId: string;
  /** Asset address `schema.name` (null for tests). */
  readonly asset: string | null;
  readonly status: NodeStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly rows: number | null;
  readonly bytes: number | null;
  /** Delta version committed by this node, when it wrote a table. */
  readonly version: number | null;
  readonly message: string | null;
  readonly errorCode: string | null;
}

export interface EventRecord {
  readonly runId: string;
  readonly nodeId: string | null;
  /** Monotonic per store. Assigned by the store. */
  readonly seq?: number;
  readonly ts: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A catalog entry: what an asset is and where its data lives. Views keep their SQL here. */
export interface CatalogEntry {
  readonly asset: string;
  readonly nodeId: string;
  /** `table` (Delta), `view`, `incremental`, `seed`, `snapshot`. */
  readonly kind: string;
  /** Absolute path of the Delta table, or null for views. */
  readonly location: string | null;
  /** SQL of a view (null for tables). */
  readonly sql: string | null;
  readonly updatedAt: string;
  readonly runId: string;
}

export interface RunQuery {
  readonly limit?: number;
  readonly status?: RunStatus;
}

export interface StateStore {
  /** Creates tables/migrations if needed. Idempotent. */
  init(): Promise<void>;
  createRun(run: RunRecord): Promise<void>;
  updateRun(runId: string, patch: Partial<Pick<RunRecord, 'status' | 'finishedAt' | 'error'>>): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(query?: RunQuery): Promise<RunRecord[]>;
  /**
   * Inserts or replaces the result of one node in one run; with `catalogEntry`, also the entry of
   * the asset the node built, in the same write (both or neither).
   */
  putNodeResult(result: NodeResultRecord, catalogEntry?: CatalogEntry): Promise<void>;
  listNodeResults(runId: string): Promise<NodeResultRecord[]>;
  /** Results of one asset or node across runs, newest first. */
  nodeHistory(assetOrNodeId: string, limit?: number): Promise<NodeResultRecord[]>;
  appendEvent(event: EventRecord): Promise<void>;
  /** Appends several events in one write, in order: all of them or, on an error, none. */
  appendEvents(events: readonly EventRecord[]): Promise<void>;
  listEvents(runId: string, nodeId?: string): Promise<EventRecord[]>;
  putCatalogEntry(entry: CatalogEntry): Promise<void>;
  getCatalogEntry(asset: string): Promise<CatalogEntry | undefined>;
  listCatalog(): Promise<CatalogEntry[]>;
  deleteCatalogEntry(asset: string): Promise<void>;
  close(): Promise<void>;
}
