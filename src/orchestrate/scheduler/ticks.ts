import { Cron } from 'croner';
import { WeirError, errorMessage } from '../../core/errors.js';

/**
 * Tick computation: pure functions of a schedule and a clock, so DST and catch-up behaviour is
 * tested with injected times. croner does the cron and timezone arithmetic.
 */
export interface ScheduleSpec {
  /** 5-field cron or @hourly/@daily/@weekly/@monthly. */
  readonly cron: string;
  readonly timezone: string;
  readonly catchup: boolean;
  readonly start?: string;
  readonly end?: string;
}

export const SCHEDULE_INVALID = 'WEIR-O050';
/** The most ticks one call returns: a schedule missed for years fires in batches, not all at once. */
export const MAX_TICKS_PER_CALL = 1000;

export function cronOf(schedule: ScheduleSpec, where = 'schedule'): Cron {
  const fields = schedule.cron.trim().split(/\s+/);
  // 6 fields (seconds first) are accepted too: fast schedules for tests and demos.
  if (!schedule.cron.trim().startsWith('@') && fields.length !== 5 && fields.length !== 6) {
    throw new WeirError(SCHEDULE_INVALID, `${where}: '${schedule.cron}' is not a 5-field cron expression`, {
      hint: "write minute hour day-of-month month day-of-week, e.g. '0 6 * * *', or @hourly/@daily/@weekly/@monthly",
    });
  }
  try {
    return new Cron(schedule.cron, { timezone: schedule.timezone, paused: true, legacyMode: true });
  } catch (err) {
    throw new WeirError(
      SCHEDULE_INVALID,
      `${where}: '${schedule.cron}' is not a valid cron expression: ${errorMessage(err)}`,
      {
        hint: "e.g. '0 6 * * *' (every day at 06:00) or '*/15 * * * *'",
      },
    );
  }
}

/** Scheduled times in (after, until], in order, at most `limit`. */
export function ticksBetween(
  schedule: ScheduleSpec,
  after: Date,
  until: Date,
  limit = MAX_TICKS_PER_CALL,
): Date[] {
  const cron = cronOf(schedule);
  const startAt = schedule.start ? new Date(schedule.start) : undefined;
  const endAt = schedule.end ? new Date(schedule.end) : undefined;
  const out: Date[] = [];
  let from = after;
  if (startAt && startAt.getTime() - 1 > from.getTime()) from = new Date(startAt.getTime() - 1);
  for (;;) {
    const next = cron.nextRun(from);
    if (!next || next > until || (endAt && next > endAt) || out.length >= limit) break;
    out.push(next);
    from = next;
  }
  return out;
}

/**
 * The ticks a daemon should fire now. `last` is the latest tick recorded for the pipeline;
 * `since` the earliest moment to consider when none is (the daemon's first start). With catchup
 * every missed tick fires, oldest first; without it only the latest missed one does.
 */
export function dueTicks(schedule: ScheduleSpec, now: Date, last: Date | undefined, since: Date): Date[] {
  const after = last ?? new Date(since.getTime() - 1);
  const due = ticksBetween(
    schedule,
    after,
    now,
    schedule.catchup ? MAX_TICKS_PER_CALL : Number.MAX_SAFE_INTEGER,
  );
  if (schedule.catchup) return due;
  const latest = due[due.length - 1];
  return latest ? [latest] : [];
}

export function nextTick(schedule: ScheduleSpec, after: Date): Date | undefined {
  return ticksBetween(schedule, after, new Date(8640000000000000), 1)[0];
}
