import type { ColumnSchema, WrittenFile } from '../../../core/engine.js';
import { lakeError } from '../../errors.js';
import type { Action, Add } from '../actions.js';
import { canonicalFilePath } from '../paths.js';
import type { AppTransaction, CommitResult, TableHandle } from '../table-handle.js';
import { removeFromAdd } from './files.js';
import { adds, evolveSchema, nextMetadata } from './write.js';
import { deltaSchemaFromColumns } from '../schema.js';

export interface ReplaceFilesOptions {
  /** Operation name for the commit (default `REPLACE FILES`; e.g. `MERGE`, `DELETE`). */
  readonly operation?: string;
  readonly operationParameters?: Readonly<Record<string, unknown>>;
  readonly txn?: AppTransaction;
  /** The version the removed files were chosen from (default: the latest). Concurrent commits after it are checked. */
  readonly readVersion?: number;
  /**
   * Whether files appended concurrently invalidate this commit (default true: the rewrite may have
   * needed to see them, as a MERGE or a partition replace would). A function decides per file.
   */
  readonly conflictsWithAdds?: boolean | ((add: Add) => boolean);
  /** False for rewrites that keep the same rows (compaction): readers of changes skip them. */
  readonly dataChange?: boolean;
}

/**
 * Removes some files and adds others in one commit: the primitive under merge, delete+insert and
 * partition replace. `removePaths` are add paths as they appear in the snapshot (or absolute paths of
 * the files); each must be live, else WEIR-L015. `columns` (of the new files) lets the rewrite add
 * columns, as append does.
 */
export async function replaceFiles(
  table: TableHandle,
  removePaths: readonly string[],
  addFiles: readonly WrittenFile[],
  columns?: readonly ColumnSchema[],
  options: ReplaceFilesOptions = {},
): Promise<CommitResult> {
  const base =
    options.readVersion === undefined
      ? await table.latestSnapshot()
      : await table.snapshot({ version: options.readVersion });
  if (!base) {
    throw lakeError(
      'notADeltaTable',
      `Cannot replace files in ${table.tablePath}: the table does not exist`,
      {
        hint: 'Create the table first (create() or overwrite()).',
      },
    );
  }
  const root = table.location();
  const live = new Map(base.files.map((f) => [canonicalFilePath(f.path, root), f]));
  const now = table.now();
  const dataChange = options.dataChange ?? true;
  const actions: Action[] = [];
  const seen = new Set<string>();
  for (const path of removePaths) {
    const key = canonicalFilePath(path, root);
    const add = live.get(key);
    if (!add) {
      throw lakeError(
        'fileNotInTable',
        `Cannot remove ${path} from table ${table.tablePath}: it is not a live file at version ${base.version}`,
        {
          hint: 'Pick files from the snapshot the rewrite was based on (snapshot.files[].path), and pass that snapshot version as readVersion.',
        },
      );
    }
    if (seen.has(key)) continue;
    seen.add(key);
    actions.push({ remove: removeFromAdd(add, now, dataChange) });
  }
  const schema = columns
    ? evolveSchema(base.schema, deltaSchemaFromColumns(columns), table.tablePath)
    : base.schema;
  if (schema !== base.schema) {
    const metadata = nextMetadata(base.metadata, schema, base.partitionColumns, undefined, now);
    if (metadata) actions.push({ metaData: metadata });
  }
  for (const a of adds(table, addFiles, schema, base.partitionColumns, now)) {
    actions.push('add' in a ? { add: { ...a.add, dataChange } } : a);
  }
  return table.commit(actions, {
    operation: options.operation ?? 'REPLACE FILES',
    operationParameters: options.operationParameters ?? {},
    operationMetrics: {
      numRemovedFiles: String(seen.size),
      numAddedFiles: String(addFiles.length),
      numOutputRows: String(addFiles.reduce((n, f) => n + f.rows, 0)),
    },
    readVersion: base.version,
    conflictsWithAdds: options.conflictsWithAdds ?? true,
    ...(options.txn ? { txn: options.txn } : {}),
  });
}
