import type { OrchestrationStore } from '../../core/orchestration-store.js';
import type { StateStore } from '../../core/state-store.js';
import type { PipelineSpec } from '../pipeline/load-pipelines.js';
import { ticksBetween } from './ticks.js';

/**
 * SLA checks, pure functions of the stores and a clock (tests inject times). A deadline (`09:00`
 * in the pipeline's timezone) is missed when no run of the pipeline started that local day
 * succeeded by then; a day on which the schedule has no tick before the deadline has no SLA. A
 * maximum duration is missed by a run still running after that long. Each miss has a unique key
 * (`deadline:<local date>`, `duration:<run id>`): the daemon claims it before alerting, so an
 * alert is sent once per miss, even with two daemons or after a restart.
 */
export interface SlaMiss {
  readonly kind: 'deadline' | 'max_duration';
  readonly key: string;
  readonly pipeline: string;
  /** The late run (max duration), or the latest run of the day if any (deadline). */
  readonly runId: string | null;
  /** What the SLA said: `09:00 Europe/Berlin on 2024-03-31`, `max duration 30m`. */
  readonly sla: string;
  /** Status of that run, if any. */
  readonly status: string | null;
  readonly deadlineAt?: string;
}

export interface SlaDeps {
  readonly state: Pick<StateStore, 'listRuns' | 'getRun'>;
  readonly store: Pick<OrchestrationStore, 'listRunHeartbeats'>;
  /**
   * Deadlines before this are not checked (the daemon's start): a fresh daemon does not alert on
   * days it never scheduled.
   */
  readonly notBefore?: Date;
}

const DAY_MS = 86_400_000;

function localDate(at: Date, timezone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

function lastAtOrBefore(cron: string, timezone: string, now: Date): Date | undefined {
  const ticks = ticksBetween(
    { cron, timezone, catchup: true },
    new Date(now.getTime() - DAY_MS - 3_600_000),
    now,
  );
  return ticks[ticks.length - 1];
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The latest deadline at or before `now` and whether it was met. */
async function deadlineMiss(spec: PipelineSpec, deps: SlaDeps, now: Date): Promise<SlaMiss | undefined> {
  const sla = spec.sla;
  if (!sla?.deadline) return undefined;
  const [hh = '0', mm = '0'] = sla.deadline.split(':');
  const deadline = lastAtOrBefore(`${Number(mm)} ${Number(hh)} * * *`, sla.timezone, now);
  if (!deadline || (deps.notBefore && deadline < deps.notBefore)) return undefined;
  const midnight =
    lastAtOrBefore('0 0 * * *', sla.timezone, deadline) ?? new Date(deadline.getTime() - DAY_MS);
  if (spec.schedule) {
    const dayTicks = ticksBetween(spec.schedule, new Date(midnight.getTime() - 1), deadline, 1);
    if (dayTicks.length === 0) return undefined;
  }
  const from = midnight.toISOString();
  const by = deadline.toISOString();
  const runs = (await deps.state.listRuns({ limit: 500 })).filter(
    (r) => r.args['pipeline'] === spec.name && r.startedAt >= from && r.startedAt <= by,
  );
  const met = runs.some((r) => r.status === 'success' && r.finishedAt !== null && r.finishedAt <= by);
  if (met) return undefined;
  const day = localDate(deadline, sla.timezone);
  const latest = runs[0];
  return {
    kind: 'deadline',
    key: `deadline:${day}`,
    pipeline: spec.name,
    runId: latest?.runId ?? null,
    status: latest?.status ?? null,
    sla: `${sla.deadline} ${sla.timezone} on ${day}`,
    deadlineAt: by,
  };
}

async function durationMisses(spec: PipelineSpec, deps: SlaDeps, now: Date): Promise<SlaMiss[]> {
  const max = spec.sla?.maxDurationMs;
  if (max === undefined) return [];
  const out: SlaMiss[] = [];
  for (const hb of await deps.store.listRunHeartbeats()) {
    if (hb.pipeline !== spec.name && hb.pipeline !== `${spec.name}#backfill`) continue;
    const run = await deps.state.getRun(hb.runId);
    if (!run || run.status !== 'running') continue;
    if (now.getTime() - Date.parse(run.startedAt) <= max) continue;
    out.push({
      kind: 'max_duration',
      key: `duration:${run.runId}`,
      pipeline: spec.name,
      runId: run.runId,
      status: run.status,
      sla: `max duration ${formatDuration(max)} (running since ${run.startedAt})`,
    });
  }
  return out;
}

/** The SLA misses of a pipeline at `now` (already-alerted ones included: the caller claims keys). */
export async function findSlaMisses(spec: PipelineSpec, deps: SlaDeps, now: Date): Promise<SlaMiss[]> {
  if (!spec.sla) return [];
  const deadline = await deadlineMiss(spec, deps, now);
  return [...(deadline ? [deadline] : []), ...(await durationMisses(spec, deps, now))];
}
