import type { EngineSession } from '../../core/engine.js';
import { isLakeError, lakeError } from '../errors.js';
import type { ObjectInfo, ObjectStore } from '../object-store.js';
import {
  deletionVectorId,
  type Action,
  type Add,
  type CommitInfo,
  type DomainMetadata,
  type Metadata,
  type Protocol,
  type Remove,
  type Txn,
} from './actions.js';
import { readCheckpointActions } from './checkpoint-reader.js';
import type { CheckpointRef, LogListing, LogStore } from './log-store.js';
import { canonicalFilePath } from './paths.js';
import { assertReadable } from './protocol.js';
import { parseSchemaString, type StructType } from './schema.js';

/** What log replay needs: where the table is and how to read Parquet checkpoints. */
export interface LogContext {
  readonly store: ObjectStore;
  readonly tablePath: string;
  readonly session: EngineSession;
  readonly log: LogStore;
}

export interface SnapshotAt {
  readonly version?: number;
  readonly timestamp?: Date;
}

/** The replayed state of the log, mutable while a snapshot is being built. */
export class ReplayState {
  files = new Map<string, Add>();
  tombstones = new Map<string, Remove>();
  txns = new Map<string, Txn>();
  domains = new Map<string, DomainMetadata>();
  protocol: Protocol | undefined;
  metadata: Metadata | undefined;

  constructor(private readonly tableRoot: string) {}

  clone(): ReplayState {
    const s = new ReplayState(this.tableRoot);
    s.files = new Map(this.files);
    s.tombstones = new Map(this.tombstones);
    s.txns = new Map(this.txns);
    s.domains = new Map(this.domains);
    s.protocol = this.protocol;
    s.metadata = this.metadata;
    return s;
  }

  key(path: string, dv: Add['deletionVector']): string {
    const canonical = canonicalFilePath(path, this.tableRoot);
    const dvId = deletionVectorId(dv);
    return dvId === '' ? canonical : `${canonical}\u0000${dvId}`;
  }

  apply(action: Action): void {
    if ('add' in action) {
      const key = this.key(action.add.path, action.add.deletionVector);
      this.files.set(key, action.add);
      this.tombstones.delete(key);
    } else if ('remove' in action) {
      const key = this.key(action.remove.path, action.remove.deletionVector);
      this.files.delete(key);
      this.tombstones.set(key, action.remove);
    } else if ('metaData' in action) {
      this.metadata = action.metaData;
    } else if ('protocol' in action) {
      this.protocol = action.protocol;
    } else if ('txn' in action) {
      this.txns.set(action.txn.appId, action.txn);
    } else if ('domainMetadata' in action) {
      if (action.domainMetadata.removed) this.domains.delete(action.domainMetadata.domain);
      else this.domains.set(action.domainMetadata.domain, action.domainMetadata);
    }
  }
}

export interface SnapshotInit {
  readonly tablePath: string;
  readonly version: number;
  readonly timestamp: number;
  readonly checkpointVersion: number | undefined;
  readonly state: ReplayState;
}

/**
 * One version of a Delta table: its protocol, metadata, schema, live data files, tombstones and
 * application transaction versions. Immutable once built.
 */
export class Snapshot {
  readonly tablePath: string;
  readonly version: number;
  /** Commit time of this version, ms since epoch (commitInfo timestamp, else the commit file's mtime). */
  readonly timestamp: number;
  /** The checkpoint this snapshot was replayed from, if any. */
  readonly checkpointVersion: number | undefined;
  readonly protocol: Protocol;
  readonly metadata: Metadata;
  readonly schema: StructType;
  /** Live data files (add actions), in log order. */
  readonly files: readonly Add[];
  /** Files removed but not yet vacuumed (remove actions). */
  readonly tombstones: readonly Remove[];
  readonly txns: ReadonlyMap<string, Txn>;
  readonly domains: ReadonlyMap<string, DomainMetadata>;
  /** @internal the replay state, kept so a newer snapshot can be built incrementally. */
  readonly state: ReplayState;

  constructor(init: SnapshotInit) {
    const { state } = init;
    if (!state.protocol) {
      throw lakeError(
        'incompleteState',
        `No protocol found in the Delta log of table ${init.tablePath} at version ${init.version}`,
        {
          hint: 'The log does not start with a protocol action, so the table cannot be read safely. Restore the missing commit or checkpoint.',
        },
      );
    }
    if (!state.metadata) {
      throw lakeError(
        'incompleteState',
        `No metadata found in the Delta log of table ${init.tablePath} at version ${init.version}`,
        {
          hint: 'The log has no metaData action (schema), so the table cannot be read. Restore the missing commit or checkpoint.',
        },
      );
    }
    assertReadable(state.protocol, state.metadata, init.tablePath);
    this.tablePath = init.tablePath;
    this.version = init.version;
    this.timestamp = init.timestamp;
    this.checkpointVersion = init.checkpointVersion;
    this.protocol = state.protocol;
    this.metadata = state.metadata;
    this.schema = parseSchemaString(state.metadata.schemaString, `the metadata of table ${init.tablePath}`);
    this.files = [...state.files.values()];
    this.tombstones = [...state.tombstones.values()];
    this.txns = state.txns;
    this.domains = state.domains;
    this.state = state;
  }

  get partitionColumns(): readonly string[] {
    return this.metadata.partitionColumns;
  }

  get configuration(): Readonly<Record<string, string>> {
    return this.metadata.configuration;
  }

  /** The last version committed by an application (`txn` action), or undefined if it never committed. */
  txnVersion(appId: string): number | undefined {
    return this.txns.get(appId)?.version;
  }

  /** Total rows according to file stats, or undefined when some file has no stats. */
  get numRecords(): number | undefined {
    let total = 0;
    for (const f of this.files) {
      const n = statsOf(f)?.numRecords;
      if (typeof n !== 'number') return undefined;
      total += n;
    }
    return total;
  }

  get sizeInBytes(): number {
    return this.files.reduce((sum, f) => sum + f.size, 0);
  }
}

export interface FileStats {
  readonly numRecords?: number;
  readonly minValues?: Readonly<Record<string, unknown>>;
  readonly maxValues?: Readonly<Record<string, unknown>>;
  readonly nullCount?: Readonly<Record<string, unknown>>;
}

export function statsOf(add: Add): FileStats | undefined {
  if (!add.stats) return undefined;
  try {
    const v = JSON.parse(add.stats) as unknown;
    return typeof v === 'object' && v !== null ? (v as FileStats) : undefined;
  } catch {
    return undefined;
  }
}

/** Commit time: in-commit timestamp, else commitInfo.timestamp, else the file's modification time. */
export function commitTimestamp(actions: readonly Action[], mtimeMs: number): number {
  for (const a of actions) {
    if ('commitInfo' in a) {
      const info: CommitInfo = a.commitInfo;
      const ict = info['inCommitTimestamp'];
      if (typeof ict === 'number') return ict;
      if (typeof info.timestamp === 'number') return info.timestamp;
    }
  }
  return mtimeMs;
}

const READ_CONCURRENCY = 16;

async function readCommits(ctx: LogContext, versions: readonly number[]): Promise<Action[][]> {
  const out: Action[][] = new Array<Action[]>(versions.length);
  for (let i = 0; i < versions.length; i += READ_CONCURRENCY) {
    const batch = versions.slice(i, i + READ_CONCURRENCY);
    const read = await Promise.all(batch.map((v) => ctx.log.readCommit(v)));
    read.forEach((actions, j) => (out[i + j] = actions));
  }
  return out;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v++) out.push(v);
  return out;
}

function notADeltaTable(ctx: LogContext) {
  return lakeError(
    'notADeltaTable',
    `${ctx.tablePath} is not a Delta table: it has no Delta log (${ctx.store.localPath(ctx.log.logPrefix)} is missing or empty)`,
    {
      hint: 'Check the path. A Delta table is a folder with a _delta_log/ inside; create one by writing to it first.',
    },
  );
}

function versionNotFound(ctx: LogContext, version: number, latest: number, earliest: number) {
  return lakeError(
    'versionNotFound',
    `Table ${ctx.tablePath} has no version ${version}: available versions are ${earliest}..${latest}`,
    { hint: `Ask for a version between ${earliest} and ${latest}.` },
  );
}

/** Versions from..to must all have commit files; the first missing one is a gap. */
function assertContiguous(ctx: LogContext, listing: LogListing, from: number, to: number): void {
  for (let v = from; v <= to; v++) {
    if (!listing.commits.has(v)) {
      throw lakeError(
        'logGap',
        `Commit ${v} of table ${ctx.tablePath} is missing: the Delta log is not contiguous (needed ${from}..${to})`,
        {
          at: { file: ctx.log.commitKey(v) },
          hint: 'A commit file was deleted or never fully written. Restore it from a backup; readers cannot skip a version.',
        },
      );
    }
  }
}

function latestVersionIn(listing: LogListing): number | undefined {
  let max: number | undefined;
  for (const v of listing.commits.keys()) if (max === undefined || v > max) max = v;
  for (const c of listing.checkpoints)
    if (c.kind !== 'v2' && (max === undefined || c.version > max)) max = c.version;
  return max;
}

/** The oldest version whose state can be rebuilt: 0 when commit 0 is there, else the oldest checkpoint. */
function earliestVersionIn(listing: LogListing): number {
  if (listing.commits.has(0)) return 0;
  const readable = listing.checkpoints.filter((c) => c.kind !== 'v2').map((c) => c.version);
  const earliest = Math.min(...readable);
  return Number.isFinite(earliest) ? earliest : 0;
}

async function listForLoad(
  ctx: LogContext,
  target: number | undefined,
): Promise<{ listing: LogListing; partial: boolean }> {
  const hint = await ctx.log.readLastCheckpoint();
  if (hint && (target === undefined || hint.version <= target)) {
    const partial = await ctx.log.list(hint.version);
    const usable = partial.checkpoints.some(
      (c) => c.kind !== 'v2' && (target === undefined || c.version <= target),
    );
    // A stale or wrong hint (checkpoint deleted, log rewritten) falls back to a full listing.
    if (usable) return { listing: partial, partial: true };
  }
  return { listing: await ctx.log.list(), partial: false };
}

/** Builds a snapshot from scratch: newest usable checkpoint at or before the target, then JSON commits. */
export async function loadSnapshot(ctx: LogContext, target?: number): Promise<Snapshot> {
  const { listing, partial } = await listForLoad(ctx, target);
  if (!listing.any) throw notADeltaTable(ctx);
  const latest = latestVersionIn(listing);
  if (latest === undefined) {
    throw lakeError('logGap', `The Delta log of table ${ctx.tablePath} has no commit or checkpoint files`, {
      hint: 'The _delta_log folder exists but holds no commits; the table was never created successfully. Remove the folder and write the table again.',
    });
  }
  const end = target ?? latest;
  if (end > latest || end < 0)
    throw versionNotFound(ctx, end, latest, earliestVersionIn(await ctx.log.list()));
  try {
    return await loadFrom(ctx, listing, end);
  } catch (err) {
    // The hinted checkpoint is unreadable: older checkpoints or the JSON log need the full listing.
    if (partial && (isLakeError(err, 'corruptCheckpoint') || isLakeError(err, 'logGap'))) {
      return loadFrom(ctx, await ctx.log.list(), end);
    }
    throw err;
  }
}

async function loadFrom(ctx: LogContext, listing: LogListing, end: number): Promise<Snapshot> {
  const tableRoot = ctx.store.localPath(ctx.tablePath);
  const candidates = listing.checkpoints.filter((c) => c.version <= end && c.kind !== 'v2').reverse();
  let lastError: unknown;
  for (const checkpoint of candidates) {
    if (!commitsAvailable(listing, checkpoint.version + 1, end)) continue;
    let actions: Action[];
    try {
      actions = await readCheckpointActions(ctx.session, ctx.store, checkpoint, ctx.tablePath);
    } catch (err) {
      if (isLakeError(err, 'corruptCheckpoint')) {
        lastError = err;
        continue; // an older checkpoint or the JSON log may still do
      }
      throw err;
    }
    const state = new ReplayState(tableRoot);
    for (const a of actions) state.apply(a);
    return finish(ctx, listing, state, checkpoint, end);
  }
  if (!listing.commits.has(0)) {
    if (lastError) throw lastError;
    if (listing.checkpoints.some((c) => c.kind !== 'v2' && c.version > end)) {
      throw versionNotFound(ctx, end, latestVersionIn(listing) ?? end, earliestVersionIn(listing));
    }
    const v2 = listing.checkpoints.find((c) => c.kind === 'v2' && c.version <= end);
    if (v2) {
      // Refuse with the protocol's own reason when a readable commit tells us the features.
      throw lakeError(
        'unsupportedReaderFeature',
        `Table ${ctx.tablePath} can only be read from a V2 checkpoint (version ${v2.version}), which Weir cannot read`,
        {
          hint: 'V2 checkpoints are not supported yet; read the table with Spark or drop the v2Checkpoint feature.',
        },
      );
    }
    const earliest = Math.min(...listing.commits.keys());
    throw lakeError(
      'logGap',
      `The Delta log of table ${ctx.tablePath} starts at commit ${Number.isFinite(earliest) ? earliest : '?'} and has no checkpoint to start from`,
      {
        at: { file: ctx.log.commitKey(0) },
        hint: 'Commit 0 (or a checkpoint) is needed to rebuild the table state. Restore the deleted log files.',
      },
    );
  }
  return finish(ctx, listing, new ReplayState(tableRoot), undefined, end);
}

function commitsAvailable(listing: LogListing, from: number, to: number): boolean {
  for (let v = from; v <= to; v++) if (!listing.commits.has(v)) return false;
  return true;
}

async function finish(
  ctx: LogContext,
  listing: LogListing,
  state: ReplayState,
  checkpoint: CheckpointRef | undefined,
  end: number,
): Promise<Snapshot> {
  const from = checkpoint ? checkpoint.version + 1 : 0;
  assertContiguous(ctx, listing, from, end);
  const commits = await readCommits(ctx, range(from, end));
  let timestamp: number | undefined;
  commits.forEach((actions, i) => {
    for (const a of actions) state.apply(a);
    if (from + i === end) timestamp = commitTimestamp(actions, listing.commits.get(end)?.mtimeMs ?? 0);
  });
  if (timestamp === undefined) timestamp = await timestampOf(ctx, listing, end, checkpoint);
  return new Snapshot({
    tablePath: ctx.tablePath,
    version: end,
    timestamp,
    checkpointVersion: checkpoint?.version,
    state,
  });
}

async function timestampOf(
  ctx: LogContext,
  listing: LogListing,
  version: number,
  checkpoint: CheckpointRef | undefined,
): Promise<number> {
  const info = listing.commits.get(version);
  if (info) {
    try {
      return commitTimestamp(await ctx.log.readCommit(version), info.mtimeMs);
    } catch (err) {
      if (!isLakeError(err, 'logGap')) throw err;
    }
  }
  return checkpoint?.files[0]?.mtimeMs ?? 0;
}

/**
 * A newer snapshot from an older one by replaying only the commits after it. Returns `base` itself
 * when nothing was committed since. `target` caps the version.
 */
export async function updateSnapshot(ctx: LogContext, base: Snapshot, target?: number): Promise<Snapshot> {
  if (target !== undefined && target === base.version) return base;
  const listing = await ctx.log.list(base.version + 1);
  let latest = base.version;
  while (listing.commits.has(latest + 1)) latest++;
  const newest = Math.max(base.version, ...listing.commits.keys());
  // A later commit behind a missing one is a damaged log, not a table that stopped at `latest`.
  if (newest > latest) assertContiguous(ctx, listing, base.version + 1, newest);
  const end = target ?? latest;
  if (end === base.version) return base;
  if (end > latest) {
    const any = latestVersionIn(listing);
    if (target !== undefined && (any === undefined || target > any)) {
      throw versionNotFound(ctx, target, Math.max(any ?? base.version, base.version), 0);
    }
    assertContiguous(ctx, listing, base.version + 1, end);
  }
  const commits = await readCommits(ctx, range(base.version + 1, end));
  return applyCommits(base, commits, listing.commits.get(end)?.mtimeMs ?? 0);
}

/** The snapshot of a table's first commit (version 0), from that commit's own actions. */
export function firstSnapshot(
  tablePath: string,
  tableRoot: string,
  actions: readonly Action[],
  mtimeMs: number,
): Snapshot {
  const state = new ReplayState(tableRoot);
  for (const a of actions) state.apply(a);
  return new Snapshot({
    tablePath,
    version: 0,
    timestamp: commitTimestamp(actions, mtimeMs),
    checkpointVersion: undefined,
    state,
  });
}

/** A snapshot with already-read commits (versions base.version+1, +2, ...) applied on top of `base`. */
export function applyCommits(
  base: Snapshot,
  commits: ReadonlyArray<readonly Action[]>,
  lastMtimeMs: number,
): Snapshot {
  if (commits.length === 0) return base;
  const state = base.state.clone();
  for (const actions of commits) for (const a of actions) state.apply(a);
  const last = commits[commits.length - 1] ?? [];
  return new Snapshot({
    tablePath: base.tablePath,
    version: base.version + commits.length,
    timestamp: commitTimestamp(last, lastMtimeMs),
    checkpointVersion: base.checkpointVersion,
    state,
  });
}

export interface CommitTime {
  readonly version: number;
  /** Commit time in ms, made monotonic: never earlier than the previous commit's (as Delta does). */
  readonly timestamp: number;
}

/** Commit times of every commit still in the log, oldest first. */
export async function commitTimes(ctx: LogContext, listing?: LogListing): Promise<CommitTime[]> {
  const l = listing ?? (await ctx.log.list());
  const versions = [...l.commits.keys()].sort((a, b) => a - b);
  const commits = await readCommits(ctx, versions);
  const out: CommitTime[] = [];
  let previous = -Infinity;
  versions.forEach((version, i) => {
    const info = l.commits.get(version) as ObjectInfo;
    const raw = commitTimestamp(commits[i] ?? [], info.mtimeMs);
    const ts = raw <= previous ? previous + 1 : raw;
    previous = ts;
    out.push({ version, timestamp: ts });
  });
  return out;
}

/** The newest version committed at or before `at`. Before the first commit is WEIR-L007. */
export async function versionAtTimestamp(ctx: LogContext, at: Date): Promise<number> {
  const listing = await ctx.log.list();
  if (!listing.any) throw notADeltaTable(ctx);
  const times = await commitTimes(ctx, listing);
  const t = at.getTime();
  if (Number.isNaN(t)) {
    throw lakeError('invalidArgument', `Invalid timestamp for time travel on table ${ctx.tablePath}`, {
      hint: 'Pass a valid Date.',
    });
  }
  let found: number | undefined;
  for (const c of times) {
    if (c.timestamp <= t) found = c.version;
    else break;
  }
  const first = times[0];
  if (found === undefined || first === undefined) {
    const firstText = first ? new Date(first.timestamp).toISOString() : 'unknown';
    throw lakeError(
      'timestampOutOfRange',
      `Table ${ctx.tablePath} did not exist yet at ${at.toISOString()}: its earliest available commit (version ${first?.version ?? '?'}) is from ${firstText}`,
      { hint: `Ask for a time at or after ${firstText}, or time travel by version.` },
    );
  }
  return found;
}
