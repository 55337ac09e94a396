import { WeirError, errorMessage, isWeirError } from '../../core/errors.js';
import type { AttemptRecord, AttemptStatus, OrchestrationStore } from '../../core/orchestration-store.js';
import type { EventRecord } from '../../core/state-store.js';
import { runDag, type NodeOutcome } from '../dag-runner.js';
import { NO_RETRY, retryDelayMs, type StepPolicy, type TriggerRule } from './policy.js';

/**
 * The step executor: runs a plan of steps through the DAG runner with per-step policies (retry
 * with backoff, timeout, trigger rule, pool), records every attempt and every state change as an
 * event with run, step and attempt ids, and honours cancel requests polled from the store.
 *
 * A step is launched from its `StepDescriptor`, plain JSON: the in-process launcher is the
 * default; a launcher that sends the descriptor to another process runs the same plan.
 */
export const STEP_DESCRIPTOR_VERSION = 1;

export interface PartitionWindowJson {
  readonly key: string;
  /** ISO instant, inclusive (absent for static partitions). */
  readonly start?: string;
  /** ISO instant, exclusive. */
  readonly end?: string;
}

export interface StepDescriptor {
  readonly v: typeof STEP_DESCRIPTOR_VERSION;
  readonly runId: string;
  readonly stepId: string;
  /** `node` (a manifest node: model, seed, snapshot, test, source), `custom` (a TypeScript step), `noop`. */
  readonly kind: 'node' | 'custom' | 'noop';
  /** Node id, or custom step name. */
  readonly target: string;
  readonly pipeline?: string;
  readonly partition?: PartitionWindowJson;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly policy: StepPolicy;
}

export const STEP_STATUSES = ['success', 'warn', 'pass', 'error', 'fail', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export interface StepResult<T> {
  readonly status: StepStatus;
  readonly value?: T;
  readonly error?: unknown;
}

export interface AttemptContext {
  readonly descriptor: StepDescriptor;
  readonly attempt: number;
  readonly attemptId: string;
  /** Aborted on timeout or cancellation: interrupt the running query when it fires. */
  readonly signal: AbortSignal;
}

/** Runs one attempt of a step. A throw counts as `error`. */
export type StepLauncher<T> = (ctx: AttemptContext) => Promise<StepResult<T>>;

export interface PlanStep {
  readonly id: string;
  /** Steps of the plan this one waits for. */
  readonly parents: readonly string[];
  readonly descriptor: StepDescriptor;
}

export interface ExecutorEvents {
  appendEvent(event: EventRecord): Promise<void>;
}

export interface ExecutePlanOptions<T> {
  readonly runId: string;
  readonly steps: readonly PlanStep[];
  /** Global limit: steps running at once. */
  readonly concurrency: number;
  /** Named pools and their sizes. */
  readonly pools?: Readonly<Record<string, number>>;
  readonly launch: StepLauncher<T>;
  readonly events?: ExecutorEvents;
  readonly orchestration?: OrchestrationStore;
  readonly signal?: AbortSignal;
  /** How often cancel requests are polled (default 200 ms). */
  readonly pollMs?: number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  /** Called when a step's final result is known (or it was skipped). */
  readonly onStepFinished?: (step: PlanStep, result: FinishedStep<T>) => void | Promise<void>;
  readonly onStepStarted?: (step: PlanStep) => void | Promise<void>;
}

export interface FinishedStep<T> {
  readonly status: StepStatus;
  readonly value?: T;
  readonly error?: unknown;
  readonly attempts: number;
  /** Why a step did not run: the parent that blocked it, or the trigger rule. */
  readonly skipReason?: string;
  /** Skipped because a parent failed under all_success: counts as a failure of the run. */
  readonly blockedByFailure?: boolean;
}

export interface PlanResult<T> {
  readonly status: 'success' | 'failed' | 'cancelled';
  readonly steps: ReadonlyMap<string, FinishedStep<T>>;
}

export const STEP_TIMEOUT = 'WEIR-O011';
export const RUN_CANCELLED = 'WEIR-O012';

const FAILED: ReadonlySet<StepStatus> = new Set(['error', 'fail']);

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = Math.max(1, size);
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

/** Whether a step may run given its parents' statuses, and if not why. */
export function triggerDecision(
  rule: TriggerRule,
  parents: ReadonlyArray<{ id: string; status: StepStatus }>,
): { run: true } | { run: false; reason: string; blockedByFailure: boolean } {
  const failed = parents.find((p) => FAILED.has(p.status));
  const skipped = parents.find((p) => p.status === 'skipped');
  switch (rule) {
    case 'all_done':
      return { run: true };
    case 'one_failed':
      return failed
        ? { run: true }
        : { run: false, reason: 'trigger rule one_failed: no upstream step failed', blockedByFailure: false };
    case 'none_failed':
      return failed
        ? { run: false, reason: `upstream ${failed.id} failed`, blockedByFailure: true }
        : { run: true };
    case 'all_success':
      if (failed) return { run: false, reason: `upstream ${failed.id} failed`, blockedByFailure: true };
      if (skipped)
        return { run: false, reason: `upstream ${skipped.id} was skipped`, blockedByFailure: false };
      return { run: true };
  }
}

export function attemptIdOf(runId: string, stepId: string, attempt: number): string {
  return `${runId}:${stepId}:${attempt}`;
}

export async function executePlan<T>(options: ExecutePlanOptions<T>): Promise<PlanResult<T>> {
  const { runId, launch, events, orchestration } = options;
  const byId = new Map(options.steps.map((s) => [s.id, s]));
  const finished = new Map<string, FinishedStep<T>>();
  const pools = new Map<string, Semaphore>();
  for (const [name, size] of Object.entries(options.pools ?? {})) pools.set(name, new Semaphore(size));
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const cancel = new AbortController();
  let cancelReason: string | undefined;
  const running = new Set<AbortController>();
  const doCancel = (reason: string): void => {
    if (cancel.signal.aborted) return;
    cancelReason = reason;
    cancel.abort(new WeirError(RUN_CANCELLED, `run ${runId} was cancelled: ${reason}`));
    for (const c of running) c.abort(cancel.signal.reason);
  };
  const external = options.signal;
  const onExternal = (): void => doCancel(errorMessage(external?.reason ?? 'aborted'));
  if (external?.aborted) onExternal();
  else external?.addEventListener('abort', onExternal, { once: true });

  const emit = async (stepId: string | null, type: string, data: Record<string, unknown>): Promise<void> => {
    if (!events) return;
    await events.appendEvent({ runId, nodeId: stepId, ts: new Date().toISOString(), type, data });
  };

  let poller: NodeJS.Timeout | undefined;
  if (orchestration) {
    let polling = false;
    poller = setInterval(() => {
      if (polling || cancel.signal.aborted) return;
      polling = true;
      orchestration
        .cancelRequest(runId)
        .then(async (req) => {
          if (req && !cancel.signal.aborted) {
            doCancel(req.reason ?? 'cancel requested');
            await emit(null, 'run_cancelled', { reason: req.reason, requested_at: req.requestedAt });
          }
          await orchestration.heartbeat(runId, new Date().toISOString());
        })
        .catch(() => undefined)
        .finally(() => {
          polling = false;
        });
    }, options.pollMs ?? 200);
    poller.unref();
  }

  const putAttempt = async (a: AttemptRecord): Promise<void> => {
    if (orchestration) await orchestration.putAttempt(a);
  };

  const runStep = async (step: PlanStep): Promise<FinishedStep<T>> => {
    const { descriptor } = step;
    const policy = descriptor.policy;
    const retry = policy.retry ?? NO_RETRY;
    const pool = policy.pool !== undefined ? pools.get(policy.pool) : undefined;
    if (pool) await pool.acquire();
    try {
      await options.onStepStarted?.(step);
      let attempt = 0;
      for (;;) {
        attempt++;
        const attemptId = attemptIdOf(runId, step.id, attempt);
        const startedAt = new Date().toISOString();
        const base = { runId, stepId: step.id, attempt, attemptId, startedAt };
        await putAttempt({
          ...base,
          status: 'running',
          finishedAt: null,
          retryDelayMs: null,
          error: null,
          errorCode: null,
        });
        await emit(step.id, 'attempt_started', { step_id: step.id, attempt, attempt_id: attemptId });
        const controller = new AbortController();
        running.add(controller);
        let timedOut = false;
        let timer: NodeJS.Timeout | undefined;
        const timeout =
          policy.timeoutMs !== undefined
            ? new Promise<StepResult<T>>((resolve) => {
                timer = setTimeout(() => {
                  timedOut = true;
                  const error = new WeirError(
                    STEP_TIMEOUT,
                    `step ${step.id} timed out after ${policy.timeoutMs} ms (attempt ${attempt})`,
                    {
                      node: descriptor.target,
                      hint: 'raise the timeout of the step or pipeline, or make the step faster',
                    },
                  );
                  controller.abort(error);
                  resolve({ status: 'error', error });
                }, policy.timeoutMs);
              })
            : undefined;
        let result: StepResult<T>;
        try {
          const work = launch({ descriptor, attempt, attemptId, signal: controller.signal }).catch(
            (error: unknown): StepResult<T> => ({ status: 'error', error }),
          );
          result = await (timeout ? Promise.race([work, timeout]) : work);
          if (timedOut) await Promise.race([work, sleep(2000, new AbortController().signal)]);
        } finally {
          if (timer) clearTimeout(timer);
          running.delete(controller);
        }
        const cancelled = cancel.signal.aborted && !timedOut && FAILED.has(result.status);
        const failed = FAILED.has(result.status);
        const status: AttemptStatus = cancelled
          ? 'cancelled'
          : timedOut
            ? 'timed_out'
            : failed
              ? 'failed'
              : 'success';
        const error = failed ? (cancelled ? cancel.signal.reason : result.error) : undefined;
        const errorText = error === undefined ? null : errorMessage(error);
        const errorCode = isWeirError(error) ? error.code : error === undefined ? null : 'WEIR-X001';
        const more = failed && !cancelled && attempt < retry.attempts && !cancel.signal.aborted;
        const delay = more ? retryDelayMs(retry, attempt, random) : null;
        await putAttempt({
          ...base,
          status,
          finishedAt: new Date().toISOString(),
          retryDelayMs: delay,
          error: errorText,
          errorCode,
        });
        await emit(step.id, 'attempt_finished', {
          step_id: step.id,
          attempt,
          attempt_id: attemptId,
          status,
          ...(errorText !== null ? { error: errorText, error_code: errorCode } : {}),
        });
        if (more && delay !== null) {
          await emit(step.id, 'retry_scheduled', {
            step_id: step.id,
            attempt,
            attempt_id: attemptId,
            next_attempt: attempt + 1,
            delay_ms: delay,
          });
          await sleep(delay, cancel.signal);
          if (!cancel.signal.aborted) continue;
        }
        if (failed && !cancelled && retry.attempts > 1 && attempt >= retry.attempts) {
          await emit(step.id, 'retries_exhausted', {
            step_id: step.id,
            attempt,
            attempt_id: attemptId,
            error: errorText,
          });
        }
        return {
          status: result.status,
          ...(result.value !== undefined ? { value: result.value } : {}),
          ...(error !== undefined ? { error } : {}),
          attempts: attempt,
        };
      }
    } finally {
      pool?.release();
    }
  };

  const toOutcome = (s: StepStatus): NodeOutcome =>
    FAILED.has(s) ? 'error' : s === 'skipped' ? 'skipped' : s === 'warn' ? 'warn' : 'success';

  try {
    await runDag<FinishedStep<T>>({
      graph: { parents: (id) => byId.get(id)?.parents ?? [] },
      ids: options.steps.map((s) => s.id),
      concurrency: Math.max(1, options.concurrency),
      signal: cancel.signal,
      blocking: () => false,
      run: async (id) => {
        const step = byId.get(id) as PlanStep;
        const parents = step.parents.map((p) => ({ id: p, status: finished.get(p)?.status ?? 'skipped' }));
        const decision = triggerDecision(step.descriptor.policy.triggerRule ?? 'all_success', parents);
        let result: FinishedStep<T>;
        if (!decision.run) {
          result = {
            status: 'skipped',
            attempts: 0,
            skipReason: decision.reason,
            blockedByFailure: decision.blockedByFailure,
          };
          await emit(id, 'step_skipped', { step_id: id, reason: decision.reason });
        } else if (cancel.signal.aborted) {
          result = { status: 'skipped', attempts: 0, skipReason: `cancelled: ${cancelReason ?? ''}` };
        } else {
          result = await runStep(step);
        }
        finished.set(id, result);
        await options.onStepFinished?.(step, result);
        return { outcome: toOutcome(result.status), value: result };
      },
    });
  } finally {
    if (poller) clearInterval(poller);
    external?.removeEventListener('abort', onExternal);
  }
  // Steps the DAG runner never started because of a cancel.
  for (const step of options.steps) {
    if (finished.has(step.id)) continue;
    const result: FinishedStep<T> = {
      status: 'skipped',
      attempts: 0,
      skipReason: `cancelled: ${cancelReason ?? ''}`,
    };
    finished.set(step.id, result);
    await options.onStepFinished?.(step, result);
  }
  const failed = [...finished.values()].some((r) => FAILED.has(r.status) || r.blockedByFailure === true);
  return {
    status: cancel.signal.aborted ? 'cancelled' : failed ? 'failed' : 'success',
    steps: finished,
  };
}
