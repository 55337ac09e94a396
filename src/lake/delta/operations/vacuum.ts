import { lakeError } from '../../errors.js';
import { joinKey } from '../../object-store.js';
import { LOG_DIR } from '../log-store.js';
import { canonicalFilePath } from '../paths.js';
import { assertWritable } from '../protocol.js';
import type { TableHandle } from '../table-handle.js';

export interface VacuumOptions {
  /** Files removed from the table less than this long ago are kept, for time travel and running readers. Default 168 (one week). */
  readonly retentionHours?: number;
  /** List what would be deleted without deleting it. */
  readonly dryRun?: boolean;
}

export interface VacuumResult {
  readonly dryRun: boolean;
  /** Store keys of the files deleted (or that would be, on a dry run). */
  readonly files: readonly string[];
  readonly bytes: number;
}

/**
 * Deletes data files no version within the retention window needs: not live in the latest snapshot,
 * not removed within the window, and older than the window themselves (so files of a writer that has
 * not committed yet survive). Hidden files and folders (`_*`, `.*`, except partition folders) and the
 * log are never touched.
 */
export async function vacuumTable(table: TableHandle, options: VacuumOptions = {}): Promise<VacuumResult> {
  const retentionHours = options.retentionHours ?? 168;
  if (!(retentionHours >= 0)) {
    throw lakeError('invalidArgument', `Vacuum retention must be zero or more hours, got ${retentionHours}`, {
      hint: 'Pass retentionHours >= 0 (default 168).',
    });
  }
  const snapshot = await table.snapshot();
  // vacuumProtocolCheck: a vacuum must understand every writer feature, or it may delete files it should keep.
  assertWritable(snapshot.protocol, snapshot.metadata, table.tablePath);
  const now = table.now();
  const cutoff = now - retentionHours * 3_600_000;
  const root = table.location();
  const keep = new Set<string>();
  for (const f of snapshot.files) keep.add(canonicalFilePath(f.path, root));
  for (const r of snapshot.tombstones) {
    if ((r.deletionTimestamp ?? 0) > cutoff) keep.add(canonicalFilePath(r.path, root));
  }
  const partitionColumns = new Set(snapshot.partitionColumns);
  const prefix = `${joinKey(table.tablePath)}/`;
  const objects = await table.store.list(prefix);
  const doomed: { key: string; size: number }[] = [];
  for (const obj of objects) {
    const rel = obj.path.slice(prefix.length);
    const segments = rel.split('/');
    if (segments[0] === LOG_DIR) continue;
    if (segments.some((s, i) => isHidden(s, i === segments.length - 1, partitionColumns))) continue;
    if (keep.has(rel)) continue;
    if (obj.mtimeMs >= cutoff) continue;
    doomed.push({ key: obj.path, size: obj.size });
  }
  if (!options.dryRun) {
    for (const d of doomed) await table.store.delete(d.key);
  }
  table.logger.info('delta vacuum', {
    table: table.tablePath,
    files: doomed.length,
    dryRun: options.dryRun ?? false,
    retentionHours,
  });
  return {
    dryRun: options.dryRun ?? false,
    files: doomed.map((d) => d.key),
    bytes: doomed.reduce((n, d) => n + d.size, 0),
  };
}

function isHidden(segment: string, isFile: boolean, partitionColumns: ReadonlySet<string>): boolean {
  if (!segment.startsWith('_') && !segment.startsWith('.')) return false;
  if (isFile) return true;
  const eq = segment.indexOf('=');
  return !(eq > 0 && partitionColumns.has(segment.slice(0, eq)));
}
