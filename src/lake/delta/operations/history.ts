import type { CommitInfo } from '../actions.js';
import { commitTimestamp } from '../snapshot.js';
import type { TableHandle } from '../table-handle.js';

export interface HistoryEntry {
  readonly version: number;
  /** Commit time, ms since epoch. */
  readonly timestamp: number;
  readonly operation: string | undefined;
  readonly operationParameters: Readonly<Record<string, unknown>>;
  readonly readVersion: number | undefined;
  readonly isBlindAppend: boolean | undefined;
  readonly operationMetrics: Readonly<Record<string, string>>;
  /** The whole commitInfo as written (engine, user, txn id, ...). */
  readonly commitInfo: CommitInfo | undefined;
}

/** The table's commits, newest first, as far back as the log still holds them. */
export async function tableHistory(table: TableHandle, limit?: number): Promise<HistoryEntry[]> {
  const listing = await table.log.list();
  const versions = [...listing.commits.keys()].sort((a, b) => b - a);
  const wanted = limit === undefined ? versions : versions.slice(0, Math.max(0, limit));
  const out: HistoryEntry[] = [];
  // Bounded fan-out: a long log must not open thousands of files at once.
  for (let i = 0; i < wanted.length; i += READ_BATCH) {
    const batch = await Promise.all(
      wanted
        .slice(i, i + READ_BATCH)
        .map((version) => entry(table, version, listing.commits.get(version)?.mtimeMs ?? 0)),
    );
    out.push(...batch);
  }
  return out;
}

const READ_BATCH = 16;

async function entry(table: TableHandle, version: number, mtimeMs: number): Promise<HistoryEntry> {
  const actions = await table.log.readCommit(version);
  const info = actions.find((a) => 'commitInfo' in a);
  const commitInfo = info && 'commitInfo' in info ? info.commitInfo : undefined;
  return {
    version,
    timestamp: commitTimestamp(actions, mtimeMs),
    operation: commitInfo?.operation,
    operationParameters: commitInfo?.operationParameters ?? {},
    readVersion: commitInfo?.readVersion,
    isBlindAppend: commitInfo?.isBlindAppend,
    operationMetrics: commitInfo?.operationMetrics ?? {},
    commitInfo,
  };
}
