import { randomBytes } from 'node:crypto';

/**
 * Run ids and table paths on their own, so that `weir compile` can name its invocation and look
 * for incremental tables without loading the runner (materializations, Delta, quality checks).
 */

/** Sortable, unique run ids: `20261122T021500Z-a1b2c3`. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Folder of an asset's Delta table below the lake root. */
export function tablePathOf(relation: { schema: string; identifier: string }): string {
  return `${relation.schema}/${relation.identifier}`;
}
