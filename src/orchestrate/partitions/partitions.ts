import { WeirError } from '../../core/errors.js';

/**
 * Partition definitions and their math. Time partitions are computed on the wall clock of their
 * timezone: a daily partition `2024-03-31` is that calendar day in Europe/Berlin even though the
 * day has 23 hours. Keys: hourly `2024-03-31T05`, daily `2024-03-31`, weekly the Monday
 * `2024-03-25`, monthly `2024-03`. Pure: no IO.
 */
export const GRANULARITIES = ['hourly', 'daily', 'weekly', 'monthly'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export interface TimePartitionsDef {
  readonly kind: 'time';
  readonly granularity: Granularity;
  /** First partition start (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM`), local to `timezone`. */
  readonly start: string;
  /** No partition starts at or after this (default: none). */
  readonly end?: string;
  readonly timezone?: string;
}

export interface StaticPartitionsDef {
  readonly kind: 'static';
  readonly keys: readonly string[];
}

export type PartitionsDef = TimePartitionsDef | StaticPartitionsDef;

export interface PartitionWindowSpec {
  readonly key: string;
  /** Inclusive wall-clock start: `YYYY-MM-DD` for day-aligned partitions, else `YYYY-MM-DD HH:MM:SS`. */
  readonly start?: string;
  readonly end?: string;
}

export const PARTITION_INVALID = 'WEIR-O040';

export interface TimeOptions {
  readonly start: string;
  readonly end?: string;
  readonly timezone?: string;
}

export const hourly = (o: TimeOptions): TimePartitionsDef => ({ kind: 'time', granularity: 'hourly', ...o });
export const daily = (o: TimeOptions): TimePartitionsDef => ({ kind: 'time', granularity: 'daily', ...o });
export const weekly = (o: TimeOptions): TimePartitionsDef => ({ kind: 'time', granularity: 'weekly', ...o });
export const monthly = (o: TimeOptions): TimePartitionsDef => ({
  kind: 'time',
  granularity: 'monthly',
  ...o,
});
export const staticPartitions = (keys: readonly string[]): StaticPartitionsDef => ({
  kind: 'static',
  keys: [...keys],
});

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Wall-clock time held in a Date's UTC fields. */
function parseLocal(text: string, where: string): Date {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}))?)?)?$/.exec(text.trim());
  if (!m) {
    throw new WeirError(PARTITION_INVALID, `${where}: '${text}' is not a date`, {
      hint: "write dates as 'YYYY-MM-DD' (or 'YYYY-MM-DD HH:MM' for hourly partitions)",
    });
  }
  return new Date(
    Date.UTC(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3] ?? 1),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      Number(m[6] ?? 0),
    ),
  );
}

function floorTo(g: Granularity, d: Date): Date {
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const day = d.getUTCDate();
  switch (g) {
    case 'hourly':
      return new Date(Date.UTC(y, mo, day, d.getUTCHours()));
    case 'daily':
      return new Date(Date.UTC(y, mo, day));
    case 'weekly': {
      const base = new Date(Date.UTC(y, mo, day));
      const dow = (base.getUTCDay() + 6) % 7; // Monday = 0
      return new Date(base.getTime() - dow * 86_400_000);
    }
    case 'monthly':
      return new Date(Date.UTC(y, mo, 1));
  }
}

function next(g: Granularity, d: Date): Date {
  switch (g) {
    case 'hourly':
      return new Date(d.getTime() + 3_600_000);
    case 'daily':
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));
    case 'weekly':
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 7));
    case 'monthly':
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  }
}

function keyOf(g: Granularity, d: Date): string {
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (g === 'hourly') return `${date}T${pad(d.getUTCHours())}`;
  if (g === 'monthly') return date.slice(0, 7);
  return date;
}

function boundary(g: Granularity, d: Date): string {
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return g === 'hourly' ? `${date} ${pad(d.getUTCHours())}:00:00` : date;
}

function windowAt(g: Granularity, start: Date): PartitionWindowSpec {
  return { key: keyOf(g, start), start: boundary(g, start), end: boundary(g, next(g, start)) };
}

/** The window of one key, or an error naming the valid form. */
export function partitionForKey(def: PartitionsDef, key: string): PartitionWindowSpec {
  if (def.kind === 'static') {
    if (!def.keys.includes(key)) {
      throw new WeirError(PARTITION_INVALID, `'${key}' is not one of the partitions`, {
        hint: `partitions: ${def.keys.slice(0, 10).join(', ')}`,
      });
    }
    return { key };
  }
  const d = parseLocal(key.replace(/T(\d{2})$/, ' $1:00'), `partition '${key}'`);
  const start = floorTo(def.granularity, d);
  if (keyOf(def.granularity, start) !== key) {
    throw new WeirError(PARTITION_INVALID, `'${key}' is not a ${def.granularity} partition key`, {
      hint: `the ${def.granularity} partition holding it is '${keyOf(def.granularity, start)}'`,
    });
  }
  return windowAt(def.granularity, start);
}

/** Partitions whose start lies in [from, to] (inclusive, keys or dates), clipped to the definition. */
export function partitionsBetween(def: PartitionsDef, from?: string, to?: string): PartitionWindowSpec[] {
  if (def.kind === 'static') {
    return def.keys
      .filter((k) => (from === undefined || k >= from) && (to === undefined || k <= to))
      .map((key) => ({ key }));
  }
  const g = def.granularity;
  const first = floorTo(g, parseLocal(def.start, 'partitions.start'));
  const lo =
    from === undefined ? first : floorTo(g, parseLocal(from.replace(/T(\d{2})$/, ' $1:00'), '--from'));
  const begin = lo < first ? first : lo;
  const hiText = to ?? def.end;
  if (hiText === undefined) {
    throw new WeirError(PARTITION_INVALID, 'the range of partitions has no end', {
      hint: 'pass --to (or set an end on the partitions definition)',
    });
  }
  const hi = parseLocal(hiText.replace(/T(\d{2})$/, ' $1:00'), '--to');
  const endLimit = def.end !== undefined ? parseLocal(def.end, 'partitions.end') : undefined;
  const out: PartitionWindowSpec[] = [];
  for (let at = begin; at <= hi && (endLimit === undefined || at < endLimit); at = next(g, at)) {
    out.push(windowAt(g, at));
    if (out.length > 1_000_000) break;
  }
  return out;
}

/** Wall-clock fields of an instant in a timezone, as a Date holding them in its UTC fields. */
export function wallClock(instant: Date, timezone: string): Date {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return new Date(
    Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')),
  );
}

/** The last partition that has fully ended at `instant` (what a scheduled run builds). */
export function latestCompletePartition(
  def: TimePartitionsDef,
  instant: Date,
): PartitionWindowSpec | undefined {
  const local = wallClock(instant, def.timezone ?? 'UTC');
  const current = floorTo(def.granularity, local);
  const first = floorTo(def.granularity, parseLocal(def.start, 'partitions.start'));
  // The partition before the current one: step back by finding the start whose next is current.
  let prev = first;
  if (current <= first) return undefined;
  const g = def.granularity;
  const approx =
    g === 'monthly'
      ? new Date(Date.UTC(current.getUTCFullYear(), current.getUTCMonth() - 1, 1))
      : new Date(
          current.getTime() - (g === 'hourly' ? 3_600_000 : g === 'daily' ? 86_400_000 : 7 * 86_400_000),
        );
  prev = floorTo(g, approx) < first ? first : floorTo(g, approx);
  return windowAt(g, prev);
}
