import { stringify } from 'yaml';
import type { EngineSession, SqlValue } from '../core/engine.js';
import { quoteIdent, quoteLiteral } from '../core/engine.js';
import { displayValue } from './results.js';

/*
 * `weir profile`: per-column statistics of a table in one aggregate scan (counts, distinct, min/max,
 * mean/stddev/quantiles, pattern matches) plus one query for the top values of every column, and a
 * starter ODCS v3.1 contract derived from them.
 */

/** Value patterns recognised in text columns (RE2 syntax, as DuckDB's regexp_full_match reads it). */
export const PROFILE_PATTERNS = {
  email: '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}',
  phone: '\\+?[0-9]{0,3}[ .-]?\\(?[0-9]{2,4}\\)?[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,4}',
  uuid: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
  iso_date:
    '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?',
  us_date: '(0?[1-9]|1[0-2])/(0?[1-9]|[12][0-9]|3[01])/[0-9]{4}',
  url: 'https?://[^\\s/$.?#][^\\s]*',
} as const;
export type ProfilePattern = keyof typeof PROFILE_PATTERNS;
export const PROFILE_PATTERN_NAMES = Object.keys(PROFILE_PATTERNS) as ProfilePattern[];

/** Share of non-null values that must match for a pattern to be reported as the column's. */
export const PATTERN_THRESHOLD = 0.9;
export const TOP_VALUES = 5;

export const COLUMN_KINDS = ['numeric', 'temporal', 'string', 'boolean', 'uuid', 'other'] as const;
export type ColumnKind = (typeof COLUMN_KINDS)[number];

export interface ColumnProfile {
  readonly name: string;
  readonly type: string;
  readonly kind: ColumnKind;
  /** Rows in the table. */
  readonly count: number;
  readonly nulls: number;
  readonly nullPercent: number | null;
  readonly distinct: number;
  readonly min: unknown;
  readonly max: unknown;
  readonly mean: number | null;
  readonly stddev: number | null;
  /** p25, p50, p75 (numeric: interpolated; dates and times: nearest value). */
  readonly quantiles: { readonly p25: unknown; readonly p50: unknown; readonly p75: unknown } | null;
  readonly top: readonly { readonly value: string; readonly count: number }[];
  /** Non-null values matching each pattern (text columns only). */
  readonly patternMatches: Readonly<Partial<Record<ProfilePattern, number>>>;
  /** Patterns at least PATTERN_THRESHOLD of the non-null values match. */
  readonly patterns: readonly ProfilePattern[];
}

export interface TableProfile {
  readonly asset: string;
  readonly rows: number;
  readonly columns: readonly ColumnProfile[];
  /** Queries run: one scan for the statistics, one for the top values. */
  readonly queries: number;
}

export function columnKind(type: string): ColumnKind {
  const t = type.toUpperCase();
  if (
    /^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|REAL|DOUBLE|DECIMAL|NUMERIC)\b/.test(
      t,
    )
  )
    return 'numeric';
  if (/^(DATE|TIMESTAMP|TIME)\b/.test(t)) return 'temporal';
  if (/^(VARCHAR|TEXT|STRING|CHAR|BPCHAR)\b/.test(t)) return 'string';
  if (t === 'BOOLEAN' || t === 'BOOL') return 'boolean';
  if (t === 'UUID') return 'uuid';
  return 'other';
}

function num(v: SqlValue | undefined): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function plain(v: SqlValue | undefined): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  return v;
}

/** Profiles `relation` (a table name or parenthesised query) with the given columns. */
export async function profileTable(
  session: EngineSession,
  relation: string,
  asset: string,
): Promise<TableProfile> {
  const columns = await session.describe(`SELECT * FROM ${relation}`);
  const exprs = ['count(*) AS "n"'];
  columns.forEach((col, i) => {
    const c = quoteIdent(col.name);
    const kind = columnKind(col.type);
    exprs.push(`count(${c}) AS "c${i}_nn"`);
    exprs.push(`count(DISTINCT ${c}) AS "c${i}_d"`);
    if (kind === 'numeric') {
      exprs.push(`min(${c})::DOUBLE AS "c${i}_min"`, `max(${c})::DOUBLE AS "c${i}_max"`);
      exprs.push(`avg(${c})::DOUBLE AS "c${i}_mean"`, `stddev_samp(${c})::DOUBLE AS "c${i}_sd"`);
      exprs.push(`quantile_cont(${c}::DOUBLE, [0.25, 0.5, 0.75]) AS "c${i}_q"`);
    } else if (kind === 'temporal') {
      exprs.push(`min(${c})::VARCHAR AS "c${i}_min"`, `max(${c})::VARCHAR AS "c${i}_max"`);
      exprs.push(`quantile_disc(${c}, [0.25, 0.5, 0.75])::VARCHAR[] AS "c${i}_q"`);
    } else if (kind !== 'other') {
      exprs.push(`min(${c})::VARCHAR AS "c${i}_min"`, `max(${c})::VARCHAR AS "c${i}_max"`);
    }
    if (kind === 'string') {
      for (const p of PROFILE_PATTERN_NAMES)
        exprs.push(
          `count_if(regexp_full_match(${c}, ${quoteLiteral(PROFILE_PATTERNS[p])})) AS "c${i}_p_${p}"`,
        );
    }
  });
  const stats = (await session.query(`SELECT ${exprs.join(', ')} FROM ${relation}`)).rows[0] ?? {};
  const tops =
    columns.length === 0
      ? []
      : (
          await session.query(
            columns
              .map((col, i) => {
                const c = quoteIdent(col.name);
                return `SELECT * FROM (SELECT ${i} AS col, CAST(${c} AS VARCHAR) AS value, count(*) AS n FROM ${relation} WHERE ${c} IS NOT NULL GROUP BY ${c} ORDER BY n DESC, value LIMIT ${TOP_VALUES})`;
              })
              .join(' UNION ALL '),
          )
        ).rows;
  const rows = num(stats['n']) ?? 0;
  const profiles = columns.map((col, i): ColumnProfile => {
    const kind = columnKind(col.type);
    const nonNull = num(stats[`c${i}_nn`]) ?? 0;
    const q = stats[`c${i}_q`];
    const quantiles = Array.isArray(q) ? { p25: plain(q[0]), p50: plain(q[1]), p75: plain(q[2]) } : null;
    const matches: Partial<Record<ProfilePattern, number>> = {};
    if (kind === 'string')
      for (const p of PROFILE_PATTERN_NAMES) matches[p] = num(stats[`c${i}_p_${p}`]) ?? 0;
    const patterns =
      kind === 'uuid'
        ? (['uuid'] as ProfilePattern[])
        : PROFILE_PATTERN_NAMES.filter(
            (p) => nonNull > 0 && (matches[p] ?? 0) / nonNull >= PATTERN_THRESHOLD,
          );
    return {
      name: col.name,
      type: col.type,
      kind,
      count: rows,
      nulls: rows - nonNull,
      nullPercent: rows ? ((rows - nonNull) / rows) * 100 : null,
      distinct: num(stats[`c${i}_d`]) ?? 0,
      min: plain(stats[`c${i}_min`]),
      max: plain(stats[`c${i}_max`]),
      mean: num(stats[`c${i}_mean`]),
      stddev: num(stats[`c${i}_sd`]),
      quantiles,
      top: tops
        .filter((r) => num(r['col']) === i)
        .map((r) => ({ value: String(r['value']), count: num(r['n']) ?? 0 })),
      patternMatches: matches,
      patterns,
    };
  });
  return { asset, rows, columns: profiles, queries: columns.length ? 2 : 1 };
}

/** ODCS logicalType of a DuckDB type. */
export function odcsLogicalType(type: string): string {
  const t = type.toUpperCase();
  if (/\[\]$|^LIST|^ARRAY/.test(t)) return 'array';
  if (/^(STRUCT|MAP|UNION|JSON)/.test(t)) return 'object';
  if (/^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)\b/.test(t))
    return 'integer';
  if (/^(FLOAT|REAL|DOUBLE|DECIMAL|NUMERIC)\b/.test(t)) return 'number';
  if (t === 'BOOLEAN' || t === 'BOOL') return 'boolean';
  if (t === 'DATE') return 'date';
  if (/^TIMESTAMP/.test(t)) return 'timestamp';
  if (/^TIME\b/.test(t)) return 'time';
  return 'string';
}

/**
 * A starter ODCS v3.1 contract (YAML) for a profiled table: every column as a property with its
 * logical and physical type, `required` where the table has no nulls, `unique` where every value is
 * distinct, and a `pattern` where a recognised pattern covers the column. `status: draft`: a human
 * should read it before it guards writes.
 */
export function suggestContract(profile: TableProfile, options: { id: string; name: string }): string {
  const dot = profile.asset.indexOf('.');
  const objectName = dot >= 0 ? profile.asset.slice(dot + 1) : profile.asset;
  const properties = profile.columns.map((c) => {
    const logicalType = odcsLogicalType(c.type);
    const prop: Record<string, unknown> = { name: c.name, logicalType, physicalType: c.type };
    if (profile.rows > 0 && c.nulls === 0) prop['required'] = true;
    if (profile.rows > 0 && c.nulls === 0 && c.distinct === c.count) prop['unique'] = true;
    const pattern = c.kind === 'string' ? c.patterns[0] : undefined;
    if (pattern && logicalType === 'string')
      prop['logicalTypeOptions'] = { pattern: `^${PROFILE_PATTERNS[pattern]}$` };
    const notes = [`profiled: ${c.distinct} distinct`, `${c.nulls} null`];
    if (c.min !== null) notes.push(`min ${displayValue(c.min)}`, `max ${displayValue(c.max)}`);
    if (pattern) notes.push(`looks like ${pattern}`);
    prop['description'] = notes.join(', ');
    return prop;
  });
  const doc = {
    apiVersion: 'v3.1.0',
    kind: 'DataContract',
    id: options.id,
    name: options.name,
    version: '0.1.0',
    status: 'draft',
    description: {
      purpose: `Starter contract for ${profile.asset}, suggested by weir profile from ${profile.rows} rows.`,
    },
    schema: [
      {
        name: objectName,
        physicalName: profile.asset,
        physicalType: 'table',
        logicalType: 'object',
        properties,
        ...(profile.rows > 0 ? { quality: [{ metric: 'rowCount', mustBeGreaterThan: 0 }] } : {}),
      },
    ],
  };
  return stringify(doc, { lineWidth: 0 });
}
