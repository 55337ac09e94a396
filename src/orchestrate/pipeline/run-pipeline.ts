import { hostname } from 'node:os';
import { WeirError } from '../../core/errors.js';
import type { OrchestrationStore } from '../../core/orchestration-store.js';
import { assetName } from '../manifest.js';
import { partitionForKey, type PartitionWindowSpec } from '../partitions/partitions.js';
import { executeRun, newRunId, type CustomStep, type RunDeps, type RunSummary } from '../run.js';
import { toRows } from './columnar.js';
import type { PipelineSpec } from './load-pipelines.js';

export const STEP_INPUT_UNKNOWN = 'WEIR-O006';
export const RUN_SLOT_TIMEOUT = 'WEIR-O007';
export const STEP_OUTPUT_CONFLICT = 'WEIR-O014';

/** What alerting sees after a run (the CLI wires the notifiers of src/observe/alerts). */
export interface RunOutcomeNotice {
  readonly pipeline: PipelineSpec;
  readonly summary: RunSummary;
  readonly partition?: string;
  /** Steps whose every retry failed. */
  readonly exhausted: readonly string[];
}

export interface PipelineRunDeps extends RunDeps {
  readonly orchestration: OrchestrationStore;
  readonly notify?: (notice: RunOutcomeNotice) => Promise<void>;
}

export interface PipelineRunOptions {
  readonly threads: number;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly partitionKey?: string;
  /** Reuse (resume) this run id. */
  readonly runId?: string;
  readonly only?: readonly string[];
  readonly params?: Readonly<Record<string, unknown>>;
  readonly signal?: AbortSignal;
  /** manual, schedule, backfill, retry, resume, sensor. */
  readonly trigger?: string;
  readonly scheduledAt?: string;
  /** The sensor (and its firing key) that triggered the run. */
  readonly sensor?: { readonly name: string; readonly key: string };
  /** Whether max_active_runs applies (backfills use their own --parallel). */
  readonly limitActiveRuns?: boolean;
  /** Heartbeats older than this mark a run dead (default 30 s). */
  readonly staleMs?: number;
  readonly fullRefresh?: boolean;
}

export const OWNER = `${hostname()}:${process.pid}`;

export function stepIdOf(pipeline: string, name: string): string {
  return `step.${pipeline}.${name}`;
}

/** The custom steps of a pipeline, their inputs resolved to plan step ids. */
export function customStepsOf(deps: Pick<RunDeps, 'manifest'>, spec: PipelineSpec): CustomStep[] {
  const { manifest } = deps;
  const byAsset = new Map<string, string>();
  for (const n of manifest.nodes.values()) {
    const a = assetName(n);
    if (a) byAsset.set(a, n.id);
  }
  const stepNames = new Set(spec.steps.map((s) => s.name));
  const outputs = new Map<string, string>();
  for (const s of spec.steps) {
    if (!s.output) continue;
    const owner = byAsset.get(s.output);
    const node = owner ? manifest.nodes.get(owner) : undefined;
    const other = outputs.get(s.output);
    if ((node && node.resourceType !== 'source') || other) {
      throw new WeirError(
        STEP_OUTPUT_CONFLICT,
        `${spec.file}: step '${s.name}' of pipeline ${spec.name} writes ${s.output}, which ${other ? `step '${other}' writes too` : `is the table of ${node?.id ?? ''}`}`,
        {
          at: { file: spec.file },
          hint: 'give the step an output of its own (schema.name); to read it from SQL, declare that table as a source',
        },
      );
    }
    outputs.set(s.output, s.name);
  }
  return spec.steps.map((s) => {
    const after = s.inputs.map((input) => {
      if (stepNames.has(input)) return stepIdOf(spec.name, input);
      const id =
        manifest.byName.get(input) ??
        byAsset.get(input) ??
        manifest.sourcesByName.get(input) ??
        (manifest.nodes.has(input) ? input : undefined);
      if (!id) {
        throw new WeirError(
          STEP_INPUT_UNKNOWN,
          `${spec.file}: step '${s.name}' of pipeline ${spec.name} reads '${input}', which is no model, asset or step`,
          {
            at: { file: spec.file },
            hint: 'inputs name a model (stg_orders), an asset (staging.stg_orders) or another step of the pipeline',
          },
        );
      }
      return id;
    });
    const [schema = '', identifier = ''] = s.output ? s.output.split('.') : [];
    return {
      id: stepIdOf(spec.name, s.name),
      name: s.name,
      after,
      policy: s.policy,
      ...(s.output ? { output: { schema, identifier } } : {}),
      // Columnar results (Arrow-like tables, { columns }) become rows only for a step with an output.
      run: async (ctx) => (s.output ? toRows(await s.run(ctx)) : s.run(ctx)),
    };
  });
}

async function waitForSlot(
  store: OrchestrationStore,
  spec: PipelineSpec,
  runId: string,
  staleMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (;;) {
    const now = new Date();
    const ok = await store.claimRunSlot(
      { runId, pipeline: spec.name, owner: OWNER, heartbeatAt: now.toISOString() },
      spec.maxActiveRuns,
      staleMs,
      now,
    );
    if (ok) return;
    if (signal?.aborted) {
      throw new WeirError(
        RUN_SLOT_TIMEOUT,
        `pipeline ${spec.name} already has ${spec.maxActiveRuns} active run(s)`,
        {
          hint: 'wait for the active run to finish, cancel it with `weir runs cancel <id>`, or raise maxActiveRuns',
        },
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs one pipeline (one partition of it, when partitioned), recording partitions and slots. */
export async function runPipeline(
  deps: PipelineRunDeps,
  spec: PipelineSpec,
  options: PipelineRunOptions,
): Promise<RunSummary> {
  const store = deps.orchestration;
  let window: PartitionWindowSpec | undefined;
  if (options.partitionKey !== undefined) {
    if (!spec.partitions) {
      throw new WeirError('WEIR-O041', `pipeline ${spec.name} has no partitions`, {
        at: { file: spec.file },
        hint: 'add .partitions(daily({ start })) to the pipeline, or leave out --partition',
      });
    }
    window = partitionForKey(spec.partitions, options.partitionKey);
  }
  // Before taking a run slot: an invalid step must not leave a slot held.
  const customSteps = customStepsOf(deps, spec);
  const runId = options.runId ?? newRunId();
  const staleMs = options.staleMs ?? 30_000;
  if (options.limitActiveRuns !== false) await waitForSlot(store, spec, runId, staleMs, options.signal);
  else
    await store.claimRunSlot(
      { runId, pipeline: `${spec.name}#backfill`, owner: OWNER, heartbeatAt: new Date().toISOString() },
      Number.MAX_SAFE_INTEGER,
      staleMs,
      new Date(),
    );
  if (window)
    await store.putPartition({
      owner: spec.name,
      key: window.key,
      status: 'running',
      runId,
      updatedAt: new Date().toISOString(),
      error: null,
    });
  let summary: RunSummary;
  try {
    summary = await executeRun(deps, {
      command: 'build',
      label: spec.name,
      runId,
      select: spec.select.length ? spec.select : ['*'],
      ...(spec.exclude.length ? { exclude: spec.exclude } : {}),
      threads: spec.concurrency ?? options.threads,
      vars: options.vars,
      env: options.env,
      fullRefresh: options.fullRefresh === true,
      args: {
        pipeline: spec.name,
        trigger: options.trigger ?? 'manual',
        ...(window ? { partition: window.key } : {}),
        ...(options.scheduledAt ? { scheduled_at: options.scheduledAt } : {}),
        ...(options.sensor ? { sensor: options.sensor.name, sensor_key: options.sensor.key } : {}),
        ...(options.only ? { only: options.only } : {}),
      },
      policy: () => ({
        ...(spec.retry ? { retry: spec.retry } : {}),
        ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
      }),
      pools: spec.pools,
      customSteps,
      ...(options.only ? { only: options.only } : {}),
      ...(window ? { partition: window } : {}),
      params: { ...spec.params, ...(options.params ?? {}) },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (window)
      await store.putPartition({
        owner: spec.name,
        key: window.key,
        status: 'failed',
        runId,
        updatedAt: new Date().toISOString(),
        error: String(err),
      });
    await store.releaseRunSlot(runId);
    throw err;
  }
  const now = new Date().toISOString();
  if (window) {
    await store.putPartition({
      owner: spec.name,
      key: window.key,
      status: summary.status === 'success' ? 'success' : 'failed',
      runId,
      updatedAt: now,
      error: summary.status === 'success' ? null : summary.status,
    });
    for (const r of summary.results) {
      if (!r.asset || r.resourceType === 'test') continue;
      const ok = r.status === 'success';
      if (ok || r.status === 'error')
        await store.putPartition({
          owner: r.asset,
          key: window.key,
          status: ok ? 'success' : 'failed',
          runId,
          updatedAt: now,
          error: ok ? null : r.message,
        });
    }
  }
  await store.releaseRunSlot(runId);
  if (deps.notify) {
    const attempts = await store.listAttempts(runId);
    const policyAttempts = new Map<string, number>();
    for (const s of customSteps) policyAttempts.set(s.id, s.policy?.retry?.attempts ?? 1);
    const exhausted = summary.results
      .filter((r) => r.status === 'error')
      .map((r) => r.nodeId)
      .filter((id) => {
        const max = policyAttempts.get(id) ?? spec.retry?.attempts ?? 1;
        return max > 1 && attempts.filter((a) => a.stepId === id).length >= max;
      });
    await deps.notify({ pipeline: spec, summary, ...(window ? { partition: window.key } : {}), exhausted });
  }
  return summary;
}
