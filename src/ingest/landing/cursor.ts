import type { CursorState, IncrementalSpec } from '../types.js';
import { ingestError } from '../errors.js';

export type CursorKind = 'timestamp' | 'number';

const UNITS: Readonly<Record<string, number>> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

/** `'2 hours'`, `'30 minutes'`, `'1 day'` -> milliseconds. */
export function parseInterval(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week)s?\s*$/i.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 0);
}

/** ISO 8601 UTC with microseconds, the one spelling cursors are stored in (so text order is time order). */
export function isoMicros(ms: number, micros = 0): string {
  const base = new Date(ms).toISOString(); // ...sss Z
  return `${base.slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

function kindOf(v: string | number): CursorKind {
  return typeof v === 'number' ? 'number' : 'timestamp';
}

/** Parses an ISO timestamp keeping microseconds: [ms since epoch, extra micros]. */
function parseTs(text: string): [number, number] {
  const ms = Date.parse(text);
  const frac = /\.(\d+)/.exec(text)?.[1] ?? '';
  const micros = Number(frac.padEnd(6, '0').slice(3, 6));
  return [ms, micros];
}

export interface Bounds {
  readonly kind: CursorKind;
  /** Inclusive lower bound, or undefined to read from the start. */
  readonly lower?: string | number;
  /** Inclusive upper bound (end_value). */
  readonly upper?: string | number;
}

/**
 * The cursor window of the next read: from the last committed cursor minus the lookback (or the
 * initial value), inclusive, so rows sharing the boundary value are re-read rather than lost; the
 * landing drops the ones already in raw by primary key and cursor value.
 */
export function cursorBounds(inc: IncrementalSpec, cursor: CursorState | undefined, where: string): Bounds {
  const last = cursor?.value ?? undefined;
  const sample = last ?? inc.initialValue ?? inc.endValue;
  const kind: CursorKind =
    sample === undefined || sample === null
      ? typeof inc.lookback === 'number'
        ? 'number'
        : 'timestamp'
      : kindOf(sample);
  let lower: string | number | undefined;
  if (last !== undefined && last !== null) {
    lower = last;
    if (inc.lookback !== undefined) {
      if (kind === 'number') {
        const n = typeof inc.lookback === 'number' ? inc.lookback : Number(inc.lookback);
        if (!Number.isFinite(n)) throw badLookback(inc.lookback, where);
        lower = Number(last) - n;
      } else {
        const ms = typeof inc.lookback === 'number' ? inc.lookback * 1000 : parseInterval(inc.lookback);
        if (ms === undefined) throw badLookback(inc.lookback, where);
        const [t, micros] = parseTs(String(last));
        lower = isoMicros(t - ms, micros);
      }
    }
    if (inc.initialValue !== undefined && compareCursor(lower, inc.initialValue) < 0)
      lower = inc.initialValue;
  } else if (inc.initialValue !== undefined) {
    lower = inc.initialValue;
  }
  if (kind === 'timestamp' && typeof lower === 'string') lower = normalizeTs(lower);
  const upper =
    inc.endValue === undefined
      ? undefined
      : kind === 'timestamp'
        ? normalizeTs(String(inc.endValue))
        : inc.endValue;
  return { kind, ...(lower !== undefined ? { lower } : {}), ...(upper !== undefined ? { upper } : {}) };
}

function normalizeTs(text: string): string {
  const [ms, micros] = parseTs(text);
  return Number.isNaN(ms) ? text : isoMicros(ms, micros);
}

function badLookback(value: unknown, where: string): Error {
  return ingestError(
    'invalidConfig',
    `stream ${where}: lookback ${JSON.stringify(value)} is not a duration`,
    {
      hint: "write it as '2 hours', '30 minutes', '1 day' (timestamp cursors) or a number (integer cursors)",
    },
  );
}

/** Orders two cursor values (numbers numerically, ISO timestamps by instant). */
export function compareCursor(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [am, au] = parseTs(String(a));
  const [bm, bu] = parseTs(String(b));
  if (!Number.isNaN(am) && !Number.isNaN(bm)) return am - bm || au - bu;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}
