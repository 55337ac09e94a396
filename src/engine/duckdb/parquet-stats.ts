import { relative, sep } from 'node:path';
import { DUCKDB_INTEGER_TYPES, type WrittenFile } from '../../core/engine.js';

/*
 * Converts DuckDB's COPY ... RETURN_STATS strings into the JSON values Delta `add.stats` expects.
 * Bounds must stay *bounds*: a reader skips a file when a predicate cannot match [min, max], so any
 * rounding must widen the range (min down, max up) or drop the bound, never narrow it.
 */

/** Delta truncates long string stats; a prefix is still a valid lower bound, a truncated max is not. */
export const MAX_STRING_STAT_CHARS = 32;

const INTEGER_TYPES = new Set<string>(DUCKDB_INTEGER_TYPES);
const FLOAT_TYPES = new Set(['FLOAT', 'DOUBLE']);
const NAIVE_TIMESTAMP_TYPES = new Set(['TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS']);

export type StatBound = 'min' | 'max';

/**
 * The Delta stats value of one min/max string for a column of this DuckDB type, or undefined when
 * the type has no usable bound (BOOLEAN, BLOB, nested types, ...) or the text cannot be read safely.
 */
export function statValue(duckdbType: string, raw: string, bound: StatBound): string | number | undefined {
  const type = duckdbType.trim().toUpperCase();
  const base = type.replace(/\(.*$/s, '').trim();
  if (type.endsWith(']')) return undefined;
  if (INTEGER_TYPES.has(base)) return integerStat(raw);
  if (FLOAT_TYPES.has(base)) {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? n : undefined;
  }
  if (base === 'DECIMAL' || base === 'NUMERIC') return decimalStat(raw, bound);
  if (base === 'VARCHAR') return stringStat(raw, bound);
  if (base === 'DATE') return /^\d{4}-\d\d-\d\d$/.test(raw) ? raw : undefined;
  if (base === 'TIMESTAMP WITH TIME ZONE' || base === 'TIMESTAMPTZ') return timestampStat(raw, bound, true);
  if (NAIVE_TIMESTAMP_TYPES.has(base)) return timestampStat(raw, bound, false);
  return undefined;
}

function integerStat(raw: string): number | undefined {
  if (!/^-?\d+$/.test(raw.trim())) return undefined;
  const n = BigInt(raw.trim());
  // A rounded 64-bit bound could land inside the data range; no bound is safer than a wrong one.
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  return Number(n);
}

function decimalStat(raw: string, bound: StatBound): number | undefined {
  const text = raw.trim();
  if (!/^-?\d+(\.\d+)?$/.test(text)) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) return undefined;
  const digits = text.replace(/[-.]/g, '').replace(/^0+/, '');
  // Up to 15 significant digits survive a double round trip exactly; beyond that widen by one ulp.
  if (digits.length <= 15) return n;
  return bound === 'min' ? nextDown(n) : nextUp(n);
}

function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}

function nextDown(x: number): number {
  return -nextUp(-x);
}

function stringStat(raw: string, bound: StatBound): string | undefined {
  const chars = Array.from(raw); // code points: never split a surrogate pair
  if (chars.length <= MAX_STRING_STAT_CHARS) return raw;
  return bound === 'min' ? chars.slice(0, MAX_STRING_STAT_CHARS).join('') : undefined;
}

const TIMESTAMP_RE =
  /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:(Z)|([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$/;

/**
 * Delta wants milliseconds: `YYYY-MM-DDTHH:MM:SS.sssZ` for TIMESTAMP WITH TIME ZONE and the same
 * without `Z` for timestamps without zone. Sub-millisecond bounds round outward.
 */
function timestampStat(raw: string, bound: StatBound, withZone: boolean): string | undefined {
  const m = TIMESTAMP_RE.exec(raw.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', z, sign, oh = '0', om = '0', os = '0'] = m;
  const nanos = Number((frac + '000000000').slice(0, 9));
  let ms = Math.floor(nanos / 1e6);
  if (bound === 'max' && nanos % 1e6 !== 0) ms += 1;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), ms);
  let t = date.getTime();
  if (!z && sign) {
    const offsetMs = (Number(oh) * 3600 + Number(om) * 60 + Number(os)) * 1000;
    t -= sign === '+' ? offsetMs : -offsetMs;
  }
  const out = new Date(t);
  if (Number.isNaN(t) || out.getUTCFullYear() < 0 || out.getUTCFullYear() > 9999) return undefined;
  const iso = out.toISOString();
  return withZone ? iso : iso.slice(0, -1);
}

/** `"a ""b"""` -> `a "b"`; undefined for a nested path such as `"s"."x"` (only top-level columns get stats). */
export function unquoteColumnKey(key: string): string | undefined {
  if (!key.startsWith('"')) return key.includes('.') ? undefined : key;
  let out = '';
  for (let i = 1; i < key.length; i++) {
    const ch = key[i];
    if (ch === '"') {
      if (key[i + 1] === '"') {
        out += '"';
        i++;
        continue;
      }
      return i === key.length - 1 ? out : undefined;
    }
    out += ch;
  }
  return undefined;
}

export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/** Partition values from the Hive folders between `dir` and the file (`k=v`, URL-escaped). */
export function partitionValuesFromPath(dir: string, file: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  const parts = relative(dir, file).split(sep).slice(0, -1);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = safeDecode(part.slice(0, eq));
    const value = safeDecode(part.slice(eq + 1));
    out[key] = value === HIVE_NULL ? null : value;
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Column stats of one file from COPY ... RETURN_STATS (`column_statistics`), as Delta stats. */
export function columnStats(value: unknown, types: ReadonlyMap<string, string>): WrittenFile['columns'] {
  const out: Record<string, { min?: unknown; max?: unknown; nullCount?: number }> = {};
  for (const { key, value: statsMap } of mapEntries(value)) {
    const name = unquoteColumnKey(String(key));
    if (name === undefined) continue;
    const stats: Record<string, string> = {};
    for (const { key: k, value: v } of mapEntries(statsMap)) if (v !== null) stats[String(k)] = String(v);
    const type = types.get(name) ?? '';
    const entry: { min?: unknown; max?: unknown; nullCount?: number } = {};
    if (stats['min'] !== undefined) {
      const min = statValue(type, stats['min'], 'min');
      if (min !== undefined) entry.min = min;
    }
    if (stats['max'] !== undefined) {
      const max = statValue(type, stats['max'], 'max');
      if (max !== undefined) entry.max = max;
    }
    if (stats['null_count'] !== undefined) entry.nullCount = Number(stats['null_count']);
    out[name] = entry;
  }
  return out;
}

type MapEntries = ReadonlyArray<{ readonly key: unknown; readonly value: unknown }>;

/** The entries of a DuckDB MAP value as the node API returns it. */
export function mapEntries(value: unknown): MapEntries {
  return Array.isArray(value) ? (value as MapEntries) : [];
}
