import type { EngineSession } from '../../core/engine.js';
import type { Logger } from '../../core/logger.js';
import type { ObjectStore } from '../object-store.js';
import type { Action, Add } from './actions.js';
import type { LogStore } from './log-store.js';
import type { Snapshot, SnapshotAt } from './snapshot.js';

/** An application transaction: the idempotency key of a write (`txn` action). */
export interface AppTransaction {
  readonly appId: string;
  readonly version: number;
}

export interface CommitOptions {
  /** Operation name recorded in commitInfo (`WRITE`, `CREATE TABLE`, `MERGE`, ...). */
  readonly operation: string;
  readonly operationParameters?: Readonly<Record<string, unknown>>;
  readonly operationMetrics?: Readonly<Record<string, string>>;
  /** The version the writer read; -1 for a new table. The commit goes to readVersion + 1 or later. */
  readonly readVersion: number;
  /** Skip the commit (committed: false) when this app already committed this version or a later one. */
  readonly txn?: AppTransaction;
  /**
   * Whether a file added by a concurrent commit invalidates this one (it would have been read had it
   * been there). Default: false for blind appends, true for anything that removes files or changes
   * metadata. A function decides per file (e.g. only files of the partitions this commit rewrote).
   */
  readonly conflictsWithAdds?: boolean | ((add: Add) => boolean);
}

export interface CommitResult {
  /** The version written, or the latest version when the commit was skipped. */
  readonly version: number;
  /** False when `txn` showed the work was already committed. */
  readonly committed: boolean;
}

/** What the operations need from a table: the log, snapshots, and the commit primitive. */
export interface TableHandle {
  readonly store: ObjectStore;
  readonly tablePath: string;
  readonly session: EngineSession;
  readonly log: LogStore;
  readonly logger: Logger;
  /** ms since epoch; injectable so tests can age files. */
  now(): number;
  /** Absolute local path (or URL) of the table root. */
  location(): string;
  /** The latest snapshot, or undefined when the table has no commits yet. */
  latestSnapshot(): Promise<Snapshot | undefined>;
  snapshot(at?: SnapshotAt): Promise<Snapshot>;
  commit(actions: readonly Action[], options: CommitOptions): Promise<CommitResult>;
}
