import type { ColumnSchema, EngineSession, WrittenFile } from '../../core/engine.js';
import { errorMessage } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { lakeError } from '../errors.js';
import { joinKey, type ObjectStore } from '../object-store.js';
import type { Action } from './actions.js';
import { LogStore } from './log-store.js';
import { writeCheckpoint, type CheckpointResult } from './operations/checkpoint.js';
import { tableHistory, type HistoryEntry } from './operations/history.js';
import { replaceFiles, type ReplaceFilesOptions } from './operations/replace-files.js';
import { vacuumTable, type VacuumOptions, type VacuumResult } from './operations/vacuum.js';
import {
  appendToTable,
  createTable,
  overwriteTable,
  type AppendOptions,
  type WriteOptions,
} from './operations/write.js';
import { dataFiles, scanSql, type DataFile } from './scan.js';
import { deltaTypeToDuckDb } from './schema.js';
import {
  applyCommits,
  firstSnapshot,
  loadSnapshot,
  updateSnapshot,
  versionAtTimestamp,
  type LogContext,
  type Snapshot,
  type SnapshotAt,
} from './snapshot.js';
import type { CommitOptions, CommitResult, TableHandle } from './table-handle.js';
import { commitTransaction, DEFAULT_MAX_COMMIT_ATTEMPTS } from './transaction.js';

export const DEFAULT_CHECKPOINT_INTERVAL = 10;

export interface DeltaTableOptions {
  /** Write a checkpoint every N commits (default: the table's delta.checkpointInterval, else 10). */
  readonly checkpointInterval?: number;
  readonly logger?: Logger;
  /** Clock in ms since epoch (tests age files with it). */
  readonly now?: () => number;
  readonly maxCommitAttempts?: number;
}

/**
 * A Delta Lake table in an ObjectStore: snapshots (latest, by version, by timestamp), commits with
 * optimistic concurrency, and the write operations built on them. Parquet is read and written
 * through the EngineSession; the lake never talks to a database driver itself.
 */
export class DeltaTable implements TableHandle {
  readonly log: LogStore;
  readonly logger: Logger;
  private latest: Snapshot | undefined;
  /** Set when `exists()` found no table (see there). */
  private missing = false;
  private readonly ctx: LogContext;
  private readonly clock: () => number;

  private constructor(
    readonly store: ObjectStore,
    readonly tablePath: string,
    readonly session: EngineSession,
    private readonly options: DeltaTableOptions,
  ) {
    this.log = new LogStore(store, tablePath);
    this.logger = options.logger ?? silentLogger;
    this.clock = options.now ?? Date.now;
    this.ctx = { store, tablePath, session, log: this.log };
  }

  /** A handle on the table at `tablePath` (a key in `store`). Nothing is read until it is used. */
  static async open(
    store: ObjectStore,
    tablePath: string,
    session: EngineSession,
    options: DeltaTableOptions = {},
  ): Promise<DeltaTable> {
    const interval = options.checkpointInterval;
    if (interval !== undefined && !(Number.isInteger(interval) && interval > 0)) {
      throw lakeError('invalidArgument', `checkpointInterval must be a positive integer, got ${interval}`, {
        hint: 'Pass checkpointInterval >= 1 (default 10).',
      });
    }
    return new DeltaTable(store, joinKey(tablePath), session, options);
  }

  now(): number {
    return this.clock();
  }

  location(): string {
    return this.store.localPath(this.tablePath);
  }

  /**
   * True when the table has at least one commit or checkpoint. A table found missing stays
   * missing for this handle until it commits or `invalidate()` is called: a writer creating it
   * meanwhile is caught by the commit's put-if-absent, as any concurrent commit is.
   */
  async exists(): Promise<boolean> {
    if (this.latest) return true;
    if (this.missing) return false;
    // Cheap probes first: most tables have commit 0 or a checkpoint hint; listing is the fallback.
    if ((await this.log.readLastCheckpoint()) !== undefined) return true;
    if (await this.store.exists(this.log.commitKey(0))) return true;
    const listing = await this.log.list();
    const found = listing.commits.size > 0 || listing.checkpoints.some((c) => c.kind !== 'v2');
    this.missing = !found;
    return found;
  }

  /**
   * The latest snapshot, or the one at a version or point in time. The latest is cached and brought
   * up to date by replaying only the commits made since.
   */
  async snapshot(at: SnapshotAt = {}): Promise<Snapshot> {
    if (at.version !== undefined && at.timestamp !== undefined) {
      throw lakeError(
        'invalidArgument',
        `Time travel on ${this.tablePath} takes a version or a timestamp, not both`,
        {
          hint: 'Pass either { version } or { timestamp }.',
        },
      );
    }
    let version = at.version;
    if (at.timestamp !== undefined) version = await versionAtTimestamp(this.ctx, at.timestamp);
    if (version !== undefined) {
      if (!Number.isInteger(version) || version < 0) {
        throw lakeError('versionNotFound', `Table ${this.tablePath} has no version ${version}`, {
          hint: 'Versions are whole numbers from 0.',
        });
      }
      if (this.latest && this.latest.version === version) return this.latest;
      if (this.latest && this.latest.version < version) return updateSnapshot(this.ctx, this.latest, version);
      return loadSnapshot(this.ctx, version);
    }
    const next = this.latest ? await updateSnapshot(this.ctx, this.latest) : await loadSnapshot(this.ctx);
    // Concurrent calls may finish out of order; the cache only moves forward.
    if (!this.latest || next.version >= this.latest.version) this.latest = next;
    return next;
  }

  /** The latest snapshot, or undefined when the table does not exist yet. */
  async latestSnapshot(): Promise<Snapshot | undefined> {
    if (!this.latest && !(await this.exists())) return undefined;
    return this.snapshot();
  }

  /** Forgets the cached snapshot (the next read replays from the newest checkpoint). */
  invalidate(): void {
    this.latest = undefined;
    this.missing = false;
  }

  /**
   * Commits actions as version readVersion + 1 (or later, when concurrent commits do not conflict).
   * Writes a checkpoint after every checkpointInterval commits.
   */
  async commit(actions: readonly Action[], options: CommitOptions): Promise<CommitResult> {
    const latest = await this.latestSnapshot();
    const outcome = await commitTransaction(
      {
        tablePath: this.tablePath,
        tableRoot: this.location(),
        log: this.log,
        now: this.clock,
        maxAttempts: this.options.maxCommitAttempts ?? DEFAULT_MAX_COMMIT_ATTEMPTS,
      },
      latest,
      actions,
      options,
    );
    this.missing = false;
    if (!outcome.committed) return { version: outcome.version, committed: false };
    const { version } = outcome;
    if (latest && latest.version === version - 1) {
      this.latest = applyCommits(latest, [outcome.actions], outcome.timestamp);
    } else if (!latest && version === 0) {
      // A new table: its snapshot is this commit, no need to read it back from the log.
      this.latest = firstSnapshot(this.tablePath, this.location(), outcome.actions, outcome.timestamp);
    }
    this.logger.debug('delta commit', { table: this.tablePath, version, operation: options.operation });
    if (version > 0 && version % this.checkpointInterval() === 0) {
      try {
        await this.checkpoint(version);
      } catch (err) {
        // The commit is durable; a missing checkpoint only makes the next cold read slower.
        this.logger.warn('delta checkpoint failed', {
          table: this.tablePath,
          version,
          error: errorMessage(err),
        });
      }
    }
    return { version, committed: true };
  }

  private checkpointInterval(): number {
    if (this.options.checkpointInterval !== undefined) return this.options.checkpointInterval;
    const configured = Number(this.latest?.configuration['delta.checkpointInterval']);
    return Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_CHECKPOINT_INTERVAL;
  }

  /** Writes a checkpoint of the latest version (or of `version`). */
  async checkpoint(version?: number): Promise<CheckpointResult> {
    const snapshot = version === undefined ? await this.snapshot() : await this.snapshot({ version });
    const result = await writeCheckpoint(this, snapshot);
    this.logger.debug('delta checkpoint', { table: this.tablePath, version: result.version });
    return result;
  }

  /** DuckDB SELECT returning the snapshot's rows: the table's columns in schema order, DuckDB-typed. */
  scanSql(snapshot: Snapshot): string {
    return scanSql(this.store, snapshot);
  }

  /** The snapshot's columns with the DuckDB types scanSql returns them as. */
  columns(snapshot: Snapshot): ColumnSchema[] {
    return snapshot.schema.fields.map((f) => ({
      name: f.name,
      type: deltaTypeToDuckDb(f.type),
      nullable: f.nullable,
    }));
  }

  /** The snapshot's live data files: where the engine reads them, rows, bytes and partition values. */
  dataFiles(snapshot: Snapshot): Promise<DataFile[]> {
    return dataFiles(this.store, this.session, snapshot);
  }

  create(
    files: readonly WrittenFile[],
    columns: readonly ColumnSchema[],
    options?: WriteOptions,
  ): Promise<CommitResult> {
    return createTable(this, files, columns, options);
  }

  overwrite(
    files: readonly WrittenFile[],
    columns: readonly ColumnSchema[],
    options?: WriteOptions,
  ): Promise<CommitResult> {
    return overwriteTable(this, files, columns, options);
  }

  append(
    files: readonly WrittenFile[],
    columns?: readonly ColumnSchema[],
    options?: AppendOptions,
  ): Promise<CommitResult> {
    return appendToTable(this, files, columns, options);
  }

  replaceFiles(
    removePaths: readonly string[],
    addFiles: readonly WrittenFile[],
    columns?: readonly ColumnSchema[],
    options?: ReplaceFilesOptions,
  ): Promise<CommitResult> {
    return replaceFiles(this, removePaths, addFiles, columns, options);
  }

  history(limit?: number): Promise<HistoryEntry[]> {
    return tableHistory(this, limit);
  }

  vacuum(options?: VacuumOptions): Promise<VacuumResult> {
    return vacuumTable(this, options);
  }
}
