import { WeirError } from '../../core/errors.js';
import type { OrchestrationStore, PartitionRecord } from '../../core/orchestration-store.js';
import type { PipelineSpec } from '../pipeline/load-pipelines.js';
import { partitionsBetween, type PartitionWindowSpec } from './partitions.js';

export const BACKFILL_NOT_PARTITIONED = 'WEIR-O042';

export interface BackfillPlan {
  readonly pipeline: string;
  readonly all: readonly PartitionWindowSpec[];
  /** What this backfill runs: every partition in range not already succeeded (all of them with force). */
  readonly pending: readonly PartitionWindowSpec[];
  readonly skipped: readonly string[];
}

/** Plans a backfill: pure apart from reading the partitions already recorded. */
export async function planBackfill(
  store: Pick<OrchestrationStore, 'listPartitions'>,
  spec: PipelineSpec,
  range: { from?: string; to?: string; force?: boolean },
): Promise<BackfillPlan> {
  if (!spec.partitions) {
    throw new WeirError(BACKFILL_NOT_PARTITIONED, `pipeline ${spec.name} has no partitions to backfill`, {
      at: { file: spec.file },
      hint: "add .partitions(daily({ start: '2024-01-01' })) to it, or run it with `weir pipeline run`",
    });
  }
  const all = partitionsBetween(spec.partitions, range.from, range.to);
  const done = new Set(
    (await store.listPartitions(spec.name))
      .filter((p: PartitionRecord) => p.status === 'success')
      .map((p) => p.key),
  );
  const pending = range.force ? all : all.filter((p) => !done.has(p.key));
  return {
    pipeline: spec.name,
    all,
    pending,
    skipped: range.force ? [] : all.filter((p) => done.has(p.key)).map((p) => p.key),
  };
}

export interface BackfillResult {
  readonly succeeded: readonly string[];
  readonly failed: readonly string[];
  readonly skipped: readonly string[];
}

/**
 * Runs the planned partitions, `parallel` at a time. Each partition is its own run; its status is
 * recorded when it ends, so a killed backfill resumes with what did not succeed.
 */
export async function runBackfill(
  plan: BackfillPlan,
  parallel: number,
  runPartition: (p: PartitionWindowSpec) => Promise<boolean>,
  signal?: AbortSignal,
): Promise<BackfillResult> {
  const queue = [...plan.pending];
  // The first partition runs alone: it may create the tables the others then write into.
  const first = queue.shift();
  const succeeded: string[] = [];
  const failed: string[] = [];
  if (first !== undefined && !signal?.aborted) {
    if (await runPartition(first)) succeeded.push(first.key);
    else failed.push(first.key);
  }
  const worker = async (): Promise<void> => {
    for (let p = queue.shift(); p !== undefined && !signal?.aborted; p = queue.shift()) {
      if (await runPartition(p)) succeeded.push(p.key);
      else failed.push(p.key);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(parallel, plan.pending.length || 1)) }, worker),
  );
  return { succeeded: succeeded.sort(), failed: failed.sort(), skipped: plan.skipped };
}

/** Records the planned partitions as queued (what `weir partitions` shows while a backfill runs). */
export async function queueBackfill(
  store: Pick<OrchestrationStore, 'putPartition'>,
  plan: BackfillPlan,
  now = new Date(),
): Promise<void> {
  const at = now.toISOString();
  for (const p of plan.pending)
    await store.putPartition({
      owner: plan.pipeline,
      key: p.key,
      status: 'queued',
      runId: null,
      updatedAt: at,
      error: null,
    });
}
