import { randomUUID } from 'node:crypto';
import { lakeError } from '../errors.js';
import type { Action, Add, CommitInfo } from './actions.js';
import type { LogStore } from './log-store.js';
import { canonicalFilePath } from './paths.js';
import { assertWritable, isAppendOnly } from './protocol.js';
import type { Snapshot } from './snapshot.js';
import type { CommitOptions } from './table-handle.js';

/*
 * Optimistic concurrency (PROTOCOL.md "Optimistic Concurrency Control"): write version n+1 with
 * put-if-absent; when another writer got there first, read what it committed and either retry at
 * the next version (no logical conflict) or fail with WEIR-L010.
 */

export const ENGINE_INFO = 'Weir';
export const DEFAULT_MAX_COMMIT_ATTEMPTS = 50;

export interface TransactionContext {
  readonly tablePath: string;
  readonly tableRoot: string;
  readonly log: LogStore;
  readonly now: () => number;
  readonly maxAttempts: number;
}

export type TransactionOutcome =
  | {
      readonly committed: true;
      readonly version: number;
      readonly actions: readonly Action[];
      readonly timestamp: number;
    }
  | { readonly committed: false; readonly version: number };

/**
 * Commits `actions` on top of `latest` (the newest snapshot the caller knows, undefined for a new
 * table). Validates the protocol, skips duplicate application transactions, and resolves races.
 */
export async function commitTransaction(
  ctx: TransactionContext,
  latest: Snapshot | undefined,
  actions: readonly Action[],
  options: CommitOptions,
): Promise<TransactionOutcome> {
  const { readVersion, txn } = options;
  if (!Number.isInteger(readVersion) || readVersion < -1) {
    throw invalid(ctx, `readVersion must be -1 or a version number, got ${readVersion}`);
  }
  const latestVersion = latest?.version ?? -1;
  if (readVersion > latestVersion) {
    throw invalid(
      ctx,
      `readVersion ${readVersion} is newer than the table's latest version ${latestVersion}`,
    );
  }
  if (txn && latest) {
    const done = latest.txnVersion(txn.appId);
    if (done !== undefined && done >= txn.version) return { committed: false, version: latest.version };
  }
  const newProtocol = actions.find((a) => 'protocol' in a);
  const newMetadata = actions.find((a) => 'metaData' in a);
  const protocol = newProtocol && 'protocol' in newProtocol ? newProtocol.protocol : latest?.protocol;
  const metadata = newMetadata && 'metaData' in newMetadata ? newMetadata.metaData : latest?.metadata;
  if (!protocol || !metadata) {
    throw lakeError(
      'incompleteState',
      `The first commit of table ${ctx.tablePath} must contain protocol and metaData actions`,
      {
        hint: 'Create the table with create() or overwrite() before appending without columns.',
      },
    );
  }
  assertWritable(protocol, metadata, ctx.tablePath);
  if (isAppendOnly(protocol, metadata) && actions.some((a) => 'remove' in a && a.remove.dataChange)) {
    throw lakeError(
      'unsupportedWriterFeature',
      `Table ${ctx.tablePath} is append-only (delta.appendOnly = true); ${options.operation} would remove data`,
      {
        hint: 'Only append to this table, or unset delta.appendOnly first.',
      },
    );
  }

  const timestamp = ctx.now();
  const isBlindAppend = actions.every(
    (a) => ('add' in a && a.add.dataChange) || 'txn' in a || 'commitInfo' in a,
  );
  const commitInfo: CommitInfo = {
    timestamp,
    operation: options.operation,
    operationParameters: options.operationParameters ?? {},
    ...(readVersion >= 0 ? { readVersion } : {}),
    isolationLevel: 'Serializable',
    isBlindAppend,
    ...(options.operationMetrics ? { operationMetrics: options.operationMetrics } : {}),
    engineInfo: ENGINE_INFO,
    txnId: randomUUID(),
  };
  const body: Action[] = [{ commitInfo }, ...actions.filter((a) => !('commitInfo' in a))];
  if (txn) body.push({ txn: { appId: txn.appId, version: txn.version, lastUpdated: timestamp } });

  const conflictsWithAdds =
    options.conflictsWithAdds ??
    actions.some((a) => ('remove' in a && a.remove.dataChange) || 'metaData' in a);
  const ours = summarize(ctx, actions);

  let attempt = readVersion + 1;
  for (let i = 0; i < ctx.maxAttempts; i++) {
    if (await ctx.log.writeCommit(attempt, body))
      return { committed: true, version: attempt, actions: body, timestamp };
    const winner = await ctx.log.readCommit(attempt);
    const duplicate = checkConflict(ctx, attempt, winner, ours, readVersion, conflictsWithAdds, options);
    if (duplicate) return { committed: false, version: attempt };
    attempt++;
  }
  throw lakeError(
    'commitRetriesExhausted',
    `Gave up committing to table ${ctx.tablePath} after ${ctx.maxAttempts} attempts: other writers kept committing first`,
    {
      hint: 'Too many concurrent writers on one table. Retry later or serialise the writers.',
    },
  );
}

interface Summary {
  readonly removed: ReadonlySet<string>;
  readonly changesMetadata: boolean;
}

function summarize(ctx: TransactionContext, actions: readonly Action[]): Summary {
  const removed = new Set<string>();
  let changesMetadata = false;
  for (const a of actions) {
    if ('remove' in a) removed.add(canonicalFilePath(a.remove.path, ctx.tableRoot));
    if ('metaData' in a || 'protocol' in a) changesMetadata = true;
  }
  return { removed, changesMetadata };
}

/** Throws WEIR-L010 when the winning commit invalidates ours; true when it already did our txn. */
function checkConflict(
  ctx: TransactionContext,
  version: number,
  winner: readonly Action[],
  ours: Summary,
  readVersion: number,
  conflictsWithAdds: boolean | ((add: Add) => boolean),
  options: CommitOptions,
): boolean {
  const conflict = (what: string, hint: string) =>
    lakeError(
      'commitConflict',
      `Concurrent write to table ${ctx.tablePath}: version ${version} was committed by another writer while this ${options.operation} (read at version ${readVersion}) was running, and ${what}`,
      {
        hint,
        at: { file: ctx.log.commitKey(version) },
        data: { version, readVersion, operation: options.operation },
      },
    );
  const retry = 'Re-run the operation: it will read the new version first.';
  for (const a of winner) {
    if ('txn' in a && options.txn && a.txn.appId === options.txn.appId) {
      if (a.txn.version >= options.txn.version) return true;
      throw conflict(
        `it committed for the same application id "${options.txn.appId}"`,
        'Two writers are using the same txn appId at once; give each stream its own appId.',
      );
    }
  }
  for (const a of winner) {
    if ('protocol' in a) throw conflict('it changed the table protocol', retry);
    if ('metaData' in a) {
      if (readVersion < 0)
        throw conflict(
          'it created the table first',
          'The table now exists; append to it or overwrite it instead of creating it.',
        );
      throw conflict('it changed the table metadata (schema, partitioning or properties)', retry);
    }
    // Even a compaction's remove (dataChange false) conflicts: retrying would resurrect the rows.
    if ('remove' in a) {
      const path = canonicalFilePath(a.remove.path, ctx.tableRoot);
      if (ours.removed.has(path))
        throw conflict(`it removed the file ${a.remove.path} that this commit also removes`, retry);
    }
    if ('add' in a && a.add.dataChange) {
      const hit = typeof conflictsWithAdds === 'function' ? conflictsWithAdds(a.add) : conflictsWithAdds;
      if (hit)
        throw conflict(`it added data (${a.add.path}) that this ${options.operation} did not see`, retry);
    }
  }
  if (ours.changesMetadata && readVersion < 0) throw conflict('the table was created concurrently', retry);
  return false;
}

function invalid(ctx: TransactionContext, detail: string) {
  return lakeError('invalidArgument', `Cannot commit to table ${ctx.tablePath}: ${detail}`, {
    hint: 'Pass the version of the snapshot the write was based on (snapshot.version), or -1 for a new table.',
  });
}
