import { WeirError } from '../../core/errors.js';

/** When a step runs, given how its parents ended (Airflow's names). */
export const TRIGGER_RULES = ['all_success', 'all_done', 'one_failed', 'none_failed'] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

export const BACKOFFS = ['fixed', 'exponential'] as const;
export type Backoff = (typeof BACKOFFS)[number];

export interface RetryPolicy {
  /** Total tries, the first included (1 = no retry). */
  readonly attempts: number;
  readonly backoff: Backoff;
  /** Wait after the first failure. */
  readonly delayMs: number;
  /** Cap for exponential waits. */
  readonly maxDelayMs?: number;
  /** Randomise each wait within [delay/2, delay] so retries of many steps do not line up. */
  readonly jitter?: boolean;
}

export interface StepPolicy {
  readonly retry?: RetryPolicy;
  /** An attempt running longer is interrupted (its DuckDB query too) and counts as failed. */
  readonly timeoutMs?: number;
  readonly triggerRule?: TriggerRule;
  /** Named pool: at most `pools[name]` steps of it run at once. */
  readonly pool?: string;
}

export const NO_RETRY: RetryPolicy = { attempts: 1, backoff: 'fixed', delayMs: 0 };

export const POLICY_INVALID = 'WEIR-O010';

/**
 * Wait before attempt `failed + 1` after attempt `failed` (1-based) failed: `delay` (fixed) or
 * `delay * 2^(failed-1)` (exponential), capped by maxDelay, then jittered.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  failed: number,
  random: () => number = Math.random,
): number {
  const base =
    policy.backoff === 'exponential' ? policy.delayMs * 2 ** Math.max(0, failed - 1) : policy.delayMs;
  const capped = policy.maxDelayMs !== undefined ? Math.min(base, policy.maxDelayMs) : base;
  if (!policy.jitter) return Math.round(capped);
  return Math.round(capped / 2 + (random() * capped) / 2);
}

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `250ms`, `5s`, `5m`, `2h`, `1d`, `1h30m`, or a number of milliseconds. */
export function parseDuration(value: string | number, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const text = String(value).trim();
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1);
    matched = re.lastIndex;
  }
  if (text.length === 0 || matched !== text.length) {
    throw new WeirError(POLICY_INVALID, `${where}: '${String(value)}' is not a duration`, {
      hint: "write a duration like '250ms', '30s', '5m', '2h', '1d' or '1h30m'",
    });
  }
  return total;
}

export interface RetryInput {
  readonly attempts?: number;
  readonly backoff?: Backoff;
  readonly delay?: string | number;
  readonly maxDelay?: string | number;
  readonly jitter?: boolean;
}

export function toRetryPolicy(input: RetryInput, where: string): RetryPolicy {
  const attempts = input.attempts ?? 1;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new WeirError(
      POLICY_INVALID,
      `${where}: retries.attempts must be a whole number >= 1, not ${attempts}`,
      {
        hint: 'attempts counts every try, the first included: attempts: 3 retries twice',
      },
    );
  }
  const backoff = input.backoff ?? 'fixed';
  if (!(BACKOFFS as readonly string[]).includes(backoff)) {
    throw new WeirError(
      POLICY_INVALID,
      `${where}: retries.backoff must be fixed or exponential, not '${backoff}'`,
      {
        hint: "use backoff: 'fixed' or 'exponential'",
      },
    );
  }
  return {
    attempts,
    backoff,
    delayMs: input.delay === undefined ? 0 : parseDuration(input.delay, `${where}: retries.delay`),
    ...(input.maxDelay !== undefined
      ? { maxDelayMs: parseDuration(input.maxDelay, `${where}: retries.maxDelay`) }
      : {}),
    ...(input.jitter !== undefined ? { jitter: input.jitter } : {}),
  };
}
