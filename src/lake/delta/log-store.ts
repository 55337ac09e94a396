import { joinKey, type ObjectInfo, type ObjectStore } from '../object-store.js';
import { isLakeError, lakeError } from '../errors.js';
import { parseCommit, serializeCommit, type Action } from './actions.js';

/*
 * The `_delta_log` folder: commit files `%020d.json`, classic checkpoints `%020d.checkpoint.parquet`,
 * multi-part checkpoints `%020d.checkpoint.%010d.%010d.parquet`, and the `_last_checkpoint` hint.
 */

export const LOG_DIR = '_delta_log';

const COMMIT_RE = /^(\d{20})\.json$/;
const CLASSIC_CHECKPOINT_RE = /^(\d{20})\.checkpoint\.parquet$/;
const MULTIPART_CHECKPOINT_RE = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const V2_CHECKPOINT_RE = /^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$/;

export interface CheckpointRef {
  readonly version: number;
  /** `classic` (one file) or `multi-part`; `v2` checkpoints (UUID-named, with sidecars) are listed but not read. */
  readonly kind: 'classic' | 'multi-part' | 'v2';
  /** The files that make it up, in part order. */
  readonly files: readonly ObjectInfo[];
}

export interface LogListing {
  /** Commit files by version. */
  readonly commits: ReadonlyMap<number, ObjectInfo>;
  /** Complete checkpoints, oldest first. */
  readonly checkpoints: readonly CheckpointRef[];
  /** True when the listing found anything at all under _delta_log/. */
  readonly any: boolean;
}

export interface LastCheckpoint {
  readonly version: number;
  readonly size: number;
  readonly parts?: number;
  readonly sizeInBytes?: number;
  readonly numOfAddFiles?: number;
}

export function padVersion(version: number): string {
  return String(version).padStart(20, '0');
}

export class LogStore {
  readonly logPrefix: string;

  constructor(
    readonly store: ObjectStore,
    readonly tablePath: string,
  ) {
    this.logPrefix = `${joinKey(tablePath, LOG_DIR)}/`;
  }

  commitKey(version: number): string {
    return `${this.logPrefix}${padVersion(version)}.json`;
  }

  checkpointKey(version: number): string {
    return `${this.logPrefix}${padVersion(version)}.checkpoint.parquet`;
  }

  get lastCheckpointKey(): string {
    return `${this.logPrefix}_last_checkpoint`;
  }

  /** Lists the log, optionally only entries of versions >= `fromVersion`. */
  async list(fromVersion?: number): Promise<LogListing> {
    const startAfter =
      fromVersion !== undefined && fromVersion > 0
        ? `${this.logPrefix}${padVersion(fromVersion - 1)}.~`
        : undefined;
    const objects = await this.store.list(this.logPrefix, startAfter === undefined ? {} : { startAfter });
    const commits = new Map<number, ObjectInfo>();
    const multipart = new Map<string, { version: number; total: number; parts: Map<number, ObjectInfo> }>();
    const checkpoints: CheckpointRef[] = [];
    for (const info of objects) {
      const name = info.path.slice(this.logPrefix.length);
      if (name.includes('/')) continue; // _sidecars/, _staged_commits/, ...
      let m = COMMIT_RE.exec(name);
      if (m) {
        commits.set(Number(m[1]), info);
        continue;
      }
      m = CLASSIC_CHECKPOINT_RE.exec(name);
      if (m) {
        checkpoints.push({ version: Number(m[1]), kind: 'classic', files: [info] });
        continue;
      }
      m = MULTIPART_CHECKPOINT_RE.exec(name);
      if (m) {
        const version = Number(m[1]);
        const total = Number(m[3]);
        const id = `${version}/${total}`;
        const entry = multipart.get(id) ?? { version, total, parts: new Map<number, ObjectInfo>() };
        entry.parts.set(Number(m[2]), info);
        multipart.set(id, entry);
        continue;
      }
      m = V2_CHECKPOINT_RE.exec(name);
      if (m) checkpoints.push({ version: Number(m[1]), kind: 'v2', files: [info] });
    }
    for (const entry of multipart.values()) {
      // A multi-part checkpoint counts only when every part is there (a writer may have died midway).
      if (entry.parts.size !== entry.total) continue;
      const files: ObjectInfo[] = [];
      for (let i = 1; i <= entry.total; i++) {
        const part = entry.parts.get(i);
        if (part) files.push(part);
      }
      if (files.length === entry.total)
        checkpoints.push({ version: entry.version, kind: 'multi-part', files });
    }
    checkpoints.sort((a, b) => a.version - b.version || kindRank(a.kind) - kindRank(b.kind));
    return { commits, checkpoints, any: objects.length > 0 };
  }

  async readCommitText(version: number): Promise<string> {
    try {
      return new TextDecoder().decode(await this.store.get(this.commitKey(version)));
    } catch (err) {
      if (isLakeError(err, 'objectNotFound')) {
        throw lakeError(
          'logGap',
          `Commit ${version} of table ${this.tablePath} is missing (${this.commitKey(version)})`,
          {
            hint: 'The Delta log has a gap: a commit file was deleted by hand or by a log cleanup. Restore it, or read a version at or after the newest checkpoint.',
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  async readCommit(version: number): Promise<Action[]> {
    return parseCommit(await this.readCommitText(version), this.commitKey(version));
  }

  /** Writes commit `version` if no commit with that version exists. False when another writer won. */
  writeCommit(version: number, actions: readonly Action[]): Promise<boolean> {
    return this.store.putIfAbsent(this.commitKey(version), serializeCommit(actions));
  }

  /** The `_last_checkpoint` hint, or undefined when missing or unreadable (readers then list the log). */
  async readLastCheckpoint(): Promise<LastCheckpoint | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await this.store.get(this.lastCheckpointKey);
    } catch (err) {
      if (isLakeError(err, 'objectNotFound')) return undefined;
      throw err;
    }
    try {
      const value = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LastCheckpoint>;
      if (typeof value.version !== 'number' || !Number.isInteger(value.version) || value.version < 0)
        return undefined;
      return {
        version: value.version,
        size: typeof value.size === 'number' ? value.size : 0,
        ...(typeof value.parts === 'number' ? { parts: value.parts } : {}),
        ...(typeof value.sizeInBytes === 'number' ? { sizeInBytes: value.sizeInBytes } : {}),
        ...(typeof value.numOfAddFiles === 'number' ? { numOfAddFiles: value.numOfAddFiles } : {}),
      };
    } catch {
      return undefined;
    }
  }

  writeLastCheckpoint(value: LastCheckpoint): Promise<void> {
    return this.store.put(this.lastCheckpointKey, JSON.stringify(value));
  }
}

function kindRank(kind: CheckpointRef['kind']): number {
  return kind === 'classic' ? 0 : kind === 'multi-part' ? 1 : 2;
}
