/**
 * What the orchestrator keeps besides run history (StateStore): attempts of steps, cancel
 * requests, leases (one daemon acts at a time), schedule ticks (each fires once), partition
 * status and sensor cursors. SQLite (state/sqlite) is the embedded default; every implementation
 * passes test/orchestration-store-conformance.ts. Times are ISO-8601 UTC strings.
 */
export const ATTEMPT_STATUSES = ['running', 'success', 'failed', 'timed_out', 'cancelled'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export interface AttemptRecord {
  readonly runId: string;
  readonly stepId: string;
  /** 1-based. */
  readonly attempt: number;
  /** `${runId}:${stepId}:${attempt}`: unique across runs. */
  readonly attemptId: string;
  readonly status: AttemptStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** Wait before the next attempt, when this one failed and another follows. */
  readonly retryDelayMs: number | null;
  readonly error: string | null;
  readonly errorCode: string | null;
}

export const PARTITION_STATUSES = ['queued', 'running', 'success', 'failed'] as const;
export type PartitionStatus = (typeof PARTITION_STATUSES)[number];

export interface PartitionRecord {
  /** A pipeline name or an asset address: what the partition belongs to. */
  readonly owner: string;
  /** `2024-01-31`, `2024-01-31T05`, `2024-W05`, `2024-01`, or a static key. */
  readonly key: string;
  readonly status: PartitionStatus;
  readonly runId: string | null;
  readonly updatedAt: string;
  readonly error: string | null;
}

export interface TickRecord {
  readonly pipeline: string;
  /** The scheduled time (UTC ISO) this tick stands for: with the pipeline, its unique key. */
  readonly scheduledAt: string;
  readonly firedAt: string;
  /** The daemon that fired it. */
  readonly owner: string;
  readonly runId: string | null;
}

/**
 * Something the daemon did once for a unique key: a sensor firing (source `sensor:<pipeline>.<name>`,
 * key from the sensor's new state) or an SLA alert (source `sla:<pipeline>`, key per miss).
 */
export interface FiringRecord {
  readonly source: string;
  readonly key: string;
  readonly firedAt: string;
  /** The daemon that fired it. */
  readonly owner: string;
  readonly runId: string | null;
  /** JSON-serialisable details (sensor params, SLA kind). */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface LeaseRecord {
  readonly name: string;
  readonly owner: string;
  readonly expiresAt: string;
}

export interface RunHeartbeat {
  readonly runId: string;
  /** Pipeline (or command) the run belongs to: max_active_runs counts per pipeline. */
  readonly pipeline: string;
  readonly owner: string;
  readonly heartbeatAt: string;
}

export interface OrchestrationStore {
  /** Inserts or replaces one attempt (keyed by attemptId). */
  putAttempt(attempt: AttemptRecord): Promise<void>;
  /** Attempts of a run (or one of its steps), in step then attempt order. */
  listAttempts(runId: string, stepId?: string): Promise<AttemptRecord[]>;

  /** Records that someone asked to cancel a run (idempotent). */
  requestCancel(runId: string, requestedAt: string, reason?: string): Promise<void>;
  /** The cancel request of a run, if any. */
  cancelRequest(runId: string): Promise<{ requestedAt: string; reason: string | null } | undefined>;

  /**
   * Takes or renews the lease `name` for `owner` until `now + ttlMs`, atomically. Succeeds when
   * nobody holds it, the holder is `owner`, or the holder's lease expired before `now`.
   */
  acquireLease(name: string, owner: string, ttlMs: number, now: Date): Promise<boolean>;
  /** Gives the lease up if `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
  getLease(name: string): Promise<LeaseRecord | undefined>;

  /**
   * Records a tick once: true when this call inserted it, false when (pipeline, scheduledAt) was
   * already recorded (by anyone): the caller must then not fire it.
   */
  claimTick(tick: TickRecord): Promise<boolean>;
  setTickRun(pipeline: string, scheduledAt: string, runId: string): Promise<void>;
  listTicks(pipeline: string, limit?: number): Promise<TickRecord[]>;
  /** The latest scheduled time recorded for a pipeline. */
  lastTick(pipeline: string): Promise<string | undefined>;

  putPartition(record: PartitionRecord): Promise<void>;
  listPartitions(owner: string): Promise<PartitionRecord[]>;

  getCursor(sensor: string): Promise<string | undefined>;
  setCursor(sensor: string, cursor: string, updatedAt: string): Promise<void>;

  /**
   * Records a firing once, atomically with the cursor of its source when `cursor` is given: true
   * when this call inserted it, false when (source, key) was already recorded (by anyone); the
   * cursor is stored either way, so a source whose firing was claimed elsewhere moves on too.
   */
  claimFiring(firing: FiringRecord, cursor?: string): Promise<boolean>;
  /** Firings of a source, newest first. */
  listFirings(source: string, limit?: number): Promise<FiringRecord[]>;

  /**
   * Makes `runId` an active run of `pipeline` when fewer than `maxActive` other runs of it have a
   * heartbeat newer than `now - staleMs`. Atomic across processes. True when the slot was taken.
   */
  claimRunSlot(heartbeat: RunHeartbeat, maxActive: number, staleMs: number, now: Date): Promise<boolean>;
  /** Renews a run's heartbeat (a run whose heartbeat stops is considered dead). */
  heartbeat(runId: string, at: string): Promise<void>;
  releaseRunSlot(runId: string): Promise<void>;
  /** Runs with a heartbeat row: live ones and those whose process died without releasing. */
  listRunHeartbeats(): Promise<RunHeartbeat[]>;

  close(): Promise<void>;
}
