import type { CheckRecord, QualityStore } from '../core/quality-store.js';

/*
 * The quality score of a table (0-100), defined in docs/quality.md:
 *   score = 100 × (1 − penalty / Σ weight)
 * weight by declared severity (error 3, warn 1); penalty: a `fail` or `error` costs the check's
 * weight, a `warn` costs 1 (the price of a warning, whatever the severity); `pass` costs nothing.
 * A run is scored on the checks it recorded for the table (one record per check id, the last).
 */

export const SEVERITY_WEIGHTS = { error: 3, warn: 1 } as const;
/** What a `warn` status costs: a warning, whatever the check's severity. */
export const WARN_PENALTY = 1;

export interface ScoredCheck {
  readonly checkId: string;
  readonly severity: string;
  readonly status: string;
}

export interface ScoreBreakdown {
  /** 0-100, one decimal; null when the table recorded no checks. */
  readonly score: number | null;
  readonly checks: number;
  readonly passed: number;
  readonly warned: number;
  readonly failed: number;
  readonly errored: number;
  readonly totalWeight: number;
  readonly penalty: number;
}

export function weightOf(severity: string): number {
  return severity === 'warn' ? SEVERITY_WEIGHTS.warn : SEVERITY_WEIGHTS.error;
}

export function scoreChecks(records: readonly ScoredCheck[]): ScoreBreakdown {
  const last = new Map<string, ScoredCheck>();
  for (const r of records) last.set(r.checkId, r);
  let total = 0;
  let penalty = 0;
  const counts = { pass: 0, warn: 0, fail: 0, error: 0 };
  for (const r of last.values()) {
    const w = weightOf(r.severity);
    total += w;
    if (r.status === 'pass') counts.pass++;
    else if (r.status === 'warn') {
      counts.warn++;
      penalty += Math.min(w, WARN_PENALTY);
    } else {
      if (r.status === 'fail') counts.fail++;
      else counts.error++;
      penalty += w;
    }
  }
  return {
    score: total === 0 ? null : Math.round(1000 * (1 - penalty / total)) / 10,
    checks: last.size,
    passed: counts.pass,
    warned: counts.warn,
    failed: counts.fail,
    errored: counts.error,
    totalWeight: total,
    penalty,
  };
}

export interface ScorePoint extends ScoreBreakdown {
  readonly runId: string;
  readonly at: string;
}

export interface TableScore {
  readonly asset: string;
  /** The newest scored run, or null when no run recorded checks. */
  readonly latest: ScorePoint | null;
  /** Scored runs, oldest first (at most the requested number). */
  readonly trend: readonly ScorePoint[];
  /** latest − previous scored run; null with fewer than two. */
  readonly change: number | null;
  /** The latest run's check records (for reports). */
  readonly checks: readonly CheckRecord[];
}

/** Score of an asset over its last `runs` runs that recorded checks. */
export async function tableScore(store: QualityStore, asset: string, runs = 10): Promise<TableScore> {
  // Runs that only recorded a table snapshot have no checks: look further back for `runs` scored ones.
  const candidates = await store.runsOf(asset, Math.max(runs * 4, 40));
  const points: ScorePoint[] = [];
  let latestChecks: CheckRecord[] = [];
  for (const run of candidates) {
    if (points.length >= runs) break;
    const records = await store.runChecks(run.runId, asset);
    if (records.length === 0) continue;
    if (points.length === 0) latestChecks = records;
    points.push({ runId: run.runId, at: records[records.length - 1]?.at ?? run.at, ...scoreChecks(records) });
  }
  points.reverse();
  const latest = points.at(-1) ?? null;
  const previous = points.at(-2);
  const change =
    latest?.score != null && previous?.score != null
      ? Math.round(10 * (latest.score - previous.score)) / 10
      : null;
  return { asset, latest, trend: points, change, checks: latestChecks };
}

const BARS = '▁▂▃▄▅▆▇█';

/** A text sparkline of values on a fixed 0..max scale (scores: 0..100). */
export function textSparkline(values: readonly (number | null)[], max = 100, min = 0): string {
  return values
    .map((v) => {
      if (v === null) return ' ';
      const f = max === min ? 1 : (Math.min(max, Math.max(min, v)) - min) / (max - min);
      return BARS[Math.round(f * (BARS.length - 1))] ?? ' ';
    })
    .join('');
}
