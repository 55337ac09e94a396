import { quoteIdent, quoteLiteral, type ColumnSchema, type SqlValue } from '../core/engine.js';
import { WeirError } from '../core/errors.js';
import { suggest } from '../core/suggest.js';
import { QUALITY_CODES } from './codes.js';
import type { CheckSpec, CheckTarget, CompiledCheck, Evaluation } from './types.js';
import { WEIR_CHECKS, compileWeirCheck } from './weir-checks.js';

/*
 * The check compiler: each declared check becomes aggregate expressions for one shared table
 * scan (deduplicated across checks by the executor), separate queries only where the semantics
 * need them, and a pure evaluation of the metric values into a pass/fail with GE's result fields.
 */

export const DBT_TESTS = ['unique', 'not_null', 'accepted_values', 'relationships'] as const;

/** Great Expectations names Weir implements, with GE's semantics. */
export const EXPECTATIONS = [
  'expect_table_row_count_to_be_between',
  'expect_table_row_count_to_equal',
  'expect_table_column_count_to_equal',
  'expect_table_column_count_to_be_between',
  'expect_table_columns_to_match_set',
  'expect_table_columns_to_match_ordered_list',
  'expect_column_to_exist',
  'expect_column_values_to_not_be_null',
  'expect_column_values_to_be_null',
  'expect_column_values_to_be_in_set',
  'expect_column_values_to_not_be_in_set',
  'expect_column_values_to_be_between',
  'expect_column_values_to_be_unique',
  'expect_column_values_to_match_regex',
  'expect_column_values_to_not_match_regex',
  'expect_column_values_to_match_regex_list',
  'expect_column_values_to_match_like_pattern',
  'expect_column_values_to_not_match_like_pattern',
  'expect_column_value_lengths_to_be_between',
  'expect_column_value_lengths_to_equal',
  'expect_column_values_to_be_of_type',
  'expect_column_values_to_be_in_type_list',
  'expect_column_values_to_be_dateutil_parseable',
  'expect_column_values_to_be_json_parseable',
  'expect_column_values_to_be_increasing',
  'expect_column_values_to_be_decreasing',
  'expect_column_min_to_be_between',
  'expect_column_max_to_be_between',
  'expect_column_mean_to_be_between',
  'expect_column_median_to_be_between',
  'expect_column_sum_to_be_between',
  'expect_column_stdev_to_be_between',
  'expect_column_quantile_values_to_be_between',
  'expect_column_unique_value_count_to_be_between',
  'expect_column_proportion_of_unique_values_to_be_between',
  'expect_column_distinct_values_to_be_in_set',
  'expect_column_distinct_values_to_contain_set',
  'expect_column_distinct_values_to_equal_set',
  'expect_column_most_common_value_to_be_in_set',
  'expect_column_pair_values_a_to_be_greater_than_b',
  'expect_column_pair_values_to_be_equal',
  'expect_compound_columns_to_be_unique',
  'expect_multicolumn_sum_to_equal',
  'unexpected_rows_expectation',
] as const;

export const KNOWN_CHECKS: readonly string[] = [...DBT_TESTS, ...EXPECTATIONS, ...WEIR_CHECKS];

export function isKnownCheck(name: string): boolean {
  return KNOWN_CHECKS.includes(normalizeName(name));
}

/** GE spells the pair expectation with capital A/B; accept both, and a `dbt.`-style prefix. */
function normalizeName(name: string): string {
  const bare = name.startsWith('great_expectations.') ? name.slice('great_expectations.'.length) : name;
  return bare === 'expect_column_pair_values_A_to_be_greater_than_B'
    ? 'expect_column_pair_values_a_to_be_greater_than_b'
    : bare;
}

export function unknownCheckError(spec: Pick<CheckSpec, 'type' | 'at'>): WeirError {
  const close = suggest(spec.type, KNOWN_CHECKS, 3);
  return new WeirError(QUALITY_CODES.unknownCheck, `unknown check or expectation '${spec.type}'`, {
    ...(spec.at ? { at: spec.at } : {}),
    hint: close.length
      ? `did you mean ${close.map((c) => `'${c}'`).join(' or ')}? (docs/quality.md lists every check)`
      : `Weir knows ${DBT_TESTS.join(', ')} and the Great Expectations names listed in docs/quality.md`,
  });
}

/** A SQL literal for a YAML value. */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (v instanceof Date)
    return `TIMESTAMP ${quoteLiteral(v.toISOString().replace('T', ' ').replace('Z', ''))}`;
  return quoteLiteral(String(v));
}

/** A column reference: quoted unless it already is an expression. */
export function columnExpr(column: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(column) ? quoteIdent(column) : column;
}

function num(v: SqlValue | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'bigint' ? Number(v) : Number(v);
}

/** A value from DuckDB as something comparable with a YAML bound. */
function comparable(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = String(v);
  const n = Number(s);
  if (s.trim() !== '' && Number.isFinite(n)) return n;
  const d = Date.parse(s);
  if (/^\d{4}-\d{2}-\d{2}/.test(s) && Number.isFinite(d)) return d;
  return s;
}

function cmp(a: unknown, b: unknown): number {
  const x = comparable(a);
  const y = comparable(b);
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
}

interface Bounds {
  readonly min: unknown;
  readonly max: unknown;
  readonly strictMin: boolean;
  readonly strictMax: boolean;
}

function boundsOf(kwargs: Readonly<Record<string, unknown>>): Bounds {
  return {
    min: kwargs['min_value'] ?? null,
    max: kwargs['max_value'] ?? null,
    strictMin: kwargs['strict_min'] === true,
    strictMax: kwargs['strict_max'] === true,
  };
}

function withinBounds(value: unknown, b: Bounds): boolean {
  if (b.min !== null) {
    const c = cmp(value, b.min);
    if (b.strictMin ? c <= 0 : c < 0) return false;
  }
  if (b.max !== null) {
    const c = cmp(value, b.max);
    if (b.strictMax ? c >= 0 : c > 0) return false;
  }
  return true;
}

function boundsSql(col: string, b: Bounds): string {
  const parts: string[] = [];
  if (b.min !== null) parts.push(`${col} ${b.strictMin ? '>' : '>='} ${sqlLiteral(b.min)}`);
  if (b.max !== null) parts.push(`${col} ${b.strictMax ? '<' : '<='} ${sqlLiteral(b.max)}`);
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

function describeBounds(b: Bounds): string {
  const lo = b.min === null ? '' : `${b.strictMin ? '>' : '>='} ${String(b.min)}`;
  const hi = b.max === null ? '' : `${b.strictMax ? '<' : '<='} ${String(b.max)}`;
  return [lo, hi].filter(Boolean).join(' and ') || 'any value';
}

function pct(part: number, whole: number): number | null {
  return whole === 0 ? null : (part / whole) * 100;
}

function listArg(spec: CheckSpec, key: string, alt?: string): unknown[] {
  const v = spec.kwargs[key] ?? (alt ? spec.kwargs[alt] : undefined);
  if (!Array.isArray(v)) {
    throw new WeirError(
      QUALITY_CODES.badArgument,
      `${spec.type} on ${spec.column ?? 'the table'} needs a list '${key}'`,
      {
        ...(spec.at ? { at: spec.at } : {}),
        hint: `write ${spec.type}: { ${key}: [a, b] }`,
      },
    );
  }
  return v;
}

function stringArg(spec: CheckSpec, key: string): string {
  const v = spec.kwargs[key];
  if (typeof v !== 'string' || v === '') {
    throw new WeirError(QUALITY_CODES.badArgument, `${spec.type} needs '${key}' (a string)`, {
      ...(spec.at ? { at: spec.at } : {}),
      hint: `write ${spec.type}: { ${key}: ... }`,
    });
  }
  return v;
}

function numberArg(spec: CheckSpec, key: string): number {
  const v = spec.kwargs[key];
  const n = typeof v === 'number' ? v : Number(v);
  if (v === undefined || v === null || !Number.isFinite(n)) {
    throw new WeirError(QUALITY_CODES.badArgument, `${spec.type} needs '${key}' (a number)`, {
      ...(spec.at ? { at: spec.at } : {}),
      hint: `write ${spec.type}: { ${key}: 10 }`,
    });
  }
  return n;
}

function requireColumn(spec: CheckSpec): string {
  const c =
    spec.column ??
    (spec.kwargs['column'] as string | undefined) ??
    (spec.kwargs['column_name'] as string | undefined);
  if (!c) {
    throw new WeirError(QUALITY_CODES.needsColumn, `check '${spec.type}' needs a column`, {
      ...(spec.at ? { at: spec.at } : {}),
      hint: 'declare it under a column in schema.yml, or pass column: <name>',
    });
  }
  return c;
}

function mostlyOf(spec: CheckSpec): number {
  const m = spec.kwargs['mostly'];
  if (m === undefined || m === null) return 1;
  const n = Number(m);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new WeirError(
      QUALITY_CODES.badArgument,
      `'mostly' must be a number between 0 and 1, not ${String(m)}`,
      {
        ...(spec.at ? { at: spec.at } : {}),
        hint: 'e.g. mostly: 0.95',
      },
    );
  }
  return n;
}

function base(spec: CheckSpec, family: CompiledCheck['family']): Omit<CompiledCheck, 'evaluate'> {
  return { spec, family, scan: {}, queries: {}, needsColumns: false };
}

/**
 * A GE column map expectation: `ok` holds for an expected non-null value. Nulls are missing
 * values, excluded from the denominator; zero non-null rows pass.
 */
function mapExpectation(spec: CheckSpec, col: string, ok: string): CompiledCheck {
  const mostly = mostlyOf(spec);
  const unexpected = `(${col} IS NOT NULL AND NOT coalesce(${ok}, FALSE))`;
  return {
    ...base(spec, 'ge'),
    scan: {
      n: { expr: 'count(*)' },
      nonnull: { expr: `count(${col})` },
      bad: { expr: `count(*) FILTER (WHERE ${unexpected})` },
    },
    unexpectedRow: unexpected,
    sampleValue: col,
    evaluate: (v) => mapEvaluation(num(v.get('n')), num(v.get('nonnull')), num(v.get('bad')), mostly),
  };
}

function mapEvaluation(n: number, nonnull: number, bad: number, mostly: number): Evaluation {
  const missing = n - nonnull;
  const success = nonnull === 0 || 1 - bad / nonnull >= mostly - 1e-12;
  return {
    success,
    elementCount: n,
    unexpectedCount: bad,
    unexpectedPercent: pct(bad, nonnull),
    missingCount: missing,
    missingPercent: pct(missing, n),
    failures: bad,
    message: `${bad} unexpected of ${nonnull} non-null value${nonnull === 1 ? '' : 's'}`,
  };
}

/** A GE aggregate expectation: one observed value compared with min/max bounds. */
function statBetween(spec: CheckSpec, expr: string): CompiledCheck {
  const b = boundsOf(spec.kwargs);
  return {
    ...base(spec, 'ge'),
    scan: { v: { expr } },
    evaluate: (v) => {
      const observed = v.get('v') ?? null;
      // Zero rows (no values) pass, as GE's row-level checks do; the observed value is null.
      const success = observed === null || withinBounds(observed, b);
      return {
        success,
        observedValue: observed,
        failures: success ? 0 : 1,
        message: `observed ${formatObserved(observed)}, expected ${describeBounds(b)}`,
      };
    },
  };
}

export function formatObserved(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object')
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

function valueSetSql(values: readonly unknown[]): string {
  return values.map(sqlLiteral).join(', ');
}

function distinctSet(
  spec: CheckSpec,
  col: string,
  decide: (observed: string[], wanted: string[]) => boolean,
): CompiledCheck {
  const wanted = listArg(spec, 'value_set').map((x) => String(x));
  return {
    ...base(spec, 'ge'),
    scan: { v: { expr: `list(DISTINCT ${col}) FILTER (WHERE ${col} IS NOT NULL)` } },
    evaluate: (v) => {
      const raw = v.get('v');
      const observed = (Array.isArray(raw) ? raw : []).map((x) => formatObserved(x)).sort();
      const success = decide(observed, wanted);
      return {
        success,
        observedValue: observed,
        failures: success ? 0 : 1,
        message: `observed ${JSON.stringify(observed.slice(0, 20))}`,
      };
    },
  };
}

const TYPE_ALIASES: Record<string, string> = {
  INT: 'INTEGER',
  INT4: 'INTEGER',
  SIGNED: 'INTEGER',
  INT8: 'BIGINT',
  LONG: 'BIGINT',
  INT2: 'SMALLINT',
  SHORT: 'SMALLINT',
  INT1: 'TINYINT',
  FLOAT8: 'DOUBLE',
  NUMERIC: 'DECIMAL',
  FLOAT4: 'FLOAT',
  REAL: 'FLOAT',
  TEXT: 'VARCHAR',
  STRING: 'VARCHAR',
  CHAR: 'VARCHAR',
  BPCHAR: 'VARCHAR',
  BOOL: 'BOOLEAN',
  LOGICAL: 'BOOLEAN',
  DATETIME: 'TIMESTAMP',
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  BYTEA: 'BLOB',
  BINARY: 'BLOB',
};

/** A type name without parameters, with aliases folded (DECIMAL(18,2) -> DECIMAL, TEXT -> VARCHAR). */
export function normalizeType(t: string): string {
  const bare = t
    .trim()
    .toUpperCase()
    .replace(/\(.*\)$/, '')
    .trim();
  return TYPE_ALIASES[bare] ?? bare;
}

function columnType(columns: readonly ColumnSchema[], name: string): string | undefined {
  return columns.find((c) => c.name === name || c.name.toLowerCase() === name.toLowerCase())?.type;
}

const DATE_FORMATS = [
  '%Y-%m-%d',
  '%Y/%m/%d',
  '%m/%d/%Y',
  '%d.%m.%Y',
  '%d %B %Y',
  '%B %d, %Y',
  '%b %d, %Y',
  '%d %b %Y',
  '%Y-%m-%dT%H:%M:%S',
  '%Y-%m-%d %H:%M:%S',
  '%Y%m%d',
  '%a, %d %b %Y %H:%M:%S',
];

function parseableAsDate(col: string): string {
  const s = `CAST(${col} AS VARCHAR)`;
  return `(TRY_CAST(${s} AS TIMESTAMP) IS NOT NULL OR TRY_CAST(${s} AS TIMESTAMPTZ) IS NOT NULL OR try_strptime(${s}, [${DATE_FORMATS.map(quoteLiteral).join(', ')}]) IS NOT NULL)`;
}

function dbtThresholdCheck(
  spec: CheckSpec,
  compiled: Omit<CompiledCheck, 'evaluate'>,
  failuresKey: string,
): CompiledCheck {
  return {
    ...compiled,
    evaluate: (v) => {
      const failures = num(v.get(failuresKey));
      return {
        success: failures === 0,
        failures,
        unexpectedCount: failures,
        message: `${failures} failing row${failures === 1 ? '' : 's'}`,
      };
    },
  };
}

/**
 * Compiles one check against a target table. Throws WEIR-Q001 for an unknown name and WEIR-Q002/3
 * for bad arguments: problems in the declaration, reported where it was written.
 */
export function compileCheck(spec: CheckSpec, target: CheckTarget): CompiledCheck {
  const name = normalizeName(spec.type);
  const rel = target.relation;
  const k = spec.kwargs;
  switch (name) {
    // ---- dbt generic tests: failures = rows the dbt test query would return ----
    case 'not_null': {
      const col = columnExpr(requireColumn(spec));
      return {
        ...dbtThresholdCheck(
          spec,
          { ...base(spec, 'dbt'), scan: { f: { expr: `count(*) FILTER (WHERE ${col} IS NULL)` } } },
          'f',
        ),
        unexpectedRow: `(${col} IS NULL)`,
        sampleValue: col,
      };
    }
    case 'unique': {
      const col = columnExpr(requireColumn(spec));
      const groupSql = `SELECT ${col} AS unique_field, count(*) AS n_records FROM ${rel}${spec.where ? ` WHERE ${spec.where}` : ''} GROUP BY ${col} HAVING ${col} IS NOT NULL AND count(*) > 1`;
      return {
        ...base(spec, 'dbt'),
        scan: { nonnull: { expr: `count(${col})` }, distinct: { expr: `count(DISTINCT ${col})` } },
        unexpectedRow: `(${col} IS NOT NULL AND count(*) OVER (PARTITION BY ${col}) > 1)`,
        sampleValue: col,
        failingRowsSql: groupSql,
        evaluate: (v) => {
          const extra = num(v.get('nonnull')) - num(v.get('distinct'));
          return {
            success: extra === 0,
            failures: extra === 0 ? 0 : 1,
            message: extra === 0 ? 'no duplicates' : `${extra} duplicate rows`,
          };
        },
        refine: {
          sql: `SELECT count(*) AS groups, coalesce(sum(n_records), 0) AS rows FROM (${groupSql}) AS d`,
          apply: (row) => {
            const groups = num(row['groups']);
            return {
              success: groups === 0,
              failures: groups,
              unexpectedCount: num(row['rows']),
              message: `${groups} duplicated value${groups === 1 ? '' : 's'} in ${num(row['rows'])} rows`,
            };
          },
        },
      };
    }
    case 'accepted_values': {
      const col = columnExpr(requireColumn(spec));
      const values = listArg(spec, 'values');
      if (values.length === 0)
        throw new WeirError(
          QUALITY_CODES.badArgument,
          `accepted_values on ${col} needs a non-empty 'values' list`,
          { ...(spec.at ? { at: spec.at } : {}), hint: 'write accepted_values: { values: [a, b] }' },
        );
      const quote = k['quote'] !== false;
      const list = values.map((x) => (quote ? quoteLiteral(String(x)) : String(x))).join(', ');
      const bad = `(${col} IS NOT NULL AND ${col} NOT IN (${list}))`;
      return {
        ...dbtThresholdCheck(
          spec,
          { ...base(spec, 'dbt'), scan: { f: { expr: `count(DISTINCT ${col}) FILTER (WHERE ${bad})` } } },
          'f',
        ),
        unexpectedRow: bad,
        sampleValue: col,
      };
    }
    case 'relationships': {
      const col = columnExpr(requireColumn(spec));
      const to = k['to'];
      const field = k['field'];
      if (typeof to !== 'string' || typeof field !== 'string' || !target.resolveRelation) {
        throw new WeirError(QUALITY_CODES.badArgument, `relationships on ${col} needs 'to' and 'field'`, {
          ...(spec.at ? { at: spec.at } : {}),
          hint: "write relationships: { to: ref('customers'), field: id }",
        });
      }
      const parent = target.resolveRelation(to);
      const failing = `SELECT child.from_field FROM (SELECT ${col} AS from_field FROM ${rel}${spec.where ? ` WHERE ${spec.where}` : ''}) AS child LEFT JOIN (SELECT ${columnExpr(field)} AS to_field FROM ${parent}) AS parent ON child.from_field = parent.to_field WHERE child.from_field IS NOT NULL AND parent.to_field IS NULL`;
      return {
        ...dbtThresholdCheck(
          spec,
          { ...base(spec, 'dbt'), queries: { f: { sql: `SELECT count(*) AS f FROM (${failing}) AS r` } } },
          'f',
        ),
        failingRowsSql: failing,
      };
    }

    // ---- table-level expectations ----
    case 'expect_table_row_count_to_be_between':
      return statBetween(spec, 'count(*)');
    case 'expect_table_row_count_to_equal': {
      const value = numberArg(spec, 'value');
      return {
        ...base(spec, 'ge'),
        scan: { v: { expr: 'count(*)' } },
        evaluate: (v) => {
          const observed = num(v.get('v'));
          return {
            success: observed === value,
            observedValue: observed,
            failures: observed === value ? 0 : 1,
            message: `observed ${observed} rows, expected ${value}`,
          };
        },
      };
    }
    case 'expect_table_column_count_to_equal':
    case 'expect_table_column_count_to_be_between': {
      const exact = name.endsWith('_equal');
      const value = exact ? numberArg(spec, 'value') : 0;
      const b = boundsOf(k);
      return {
        ...base(spec, 'ge'),
        needsColumns: true,
        evaluate: (_v, cols) => {
          const observed = cols.length;
          const success = exact ? observed === value : withinBounds(observed, b);
          return {
            success,
            observedValue: observed,
            failures: success ? 0 : 1,
            message: `observed ${observed} columns`,
          };
        },
      };
    }
    case 'expect_table_columns_to_match_set': {
      const wanted = listArg(spec, 'column_set').map(String);
      const exactMatch = k['exact_match'] !== false;
      return {
        ...base(spec, 'ge'),
        needsColumns: true,
        evaluate: (_v, cols) => {
          const observed = cols.map((c) => c.name);
          const missing = wanted.filter((w) => !observed.includes(w));
          const unexpected = observed.filter((o) => !wanted.includes(o));
          const success = missing.length === 0 && (!exactMatch || unexpected.length === 0);
          return {
            success,
            observedValue: observed,
            failures: success ? 0 : missing.length + (exactMatch ? unexpected.length : 0),
            message: success
              ? 'columns match'
              : `missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(unexpected)}`,
          };
        },
      };
    }
    case 'expect_table_columns_to_match_ordered_list': {
      const wanted = listArg(spec, 'column_list').map(String);
      return {
        ...base(spec, 'ge'),
        needsColumns: true,
        evaluate: (_v, cols) => {
          const observed = cols.map((c) => c.name);
          const success = observed.length === wanted.length && observed.every((o, i) => o === wanted[i]);
          return {
            success,
            observedValue: observed,
            failures: success ? 0 : 1,
            message: `observed ${JSON.stringify(observed)}`,
          };
        },
      };
    }
    case 'expect_column_to_exist': {
      const col = requireColumn(spec);
      return {
        ...base(spec, 'ge'),
        needsColumns: true,
        evaluate: (_v, cols) => {
          const success = columnType(cols, col) !== undefined;
          return {
            success,
            failures: success ? 0 : 1,
            message: success ? `column ${col} exists` : `column ${col} is missing`,
          };
        },
      };
    }

    // ---- column map expectations (row-level, `mostly`) ----
    case 'expect_column_values_to_not_be_null':
    case 'expect_column_values_to_be_null': {
      const col = columnExpr(requireColumn(spec));
      const mostly = mostlyOf(spec);
      const wantNull = name === 'expect_column_values_to_be_null';
      const unexpected = wantNull ? `(${col} IS NOT NULL)` : `(${col} IS NULL)`;
      return {
        ...base(spec, 'ge'),
        scan: { n: { expr: 'count(*)' }, nonnull: { expr: `count(${col})` } },
        unexpectedRow: unexpected,
        sampleValue: col,
        evaluate: (v) => {
          const n = num(v.get('n'));
          const nonnull = num(v.get('nonnull'));
          const bad = wantNull ? nonnull : n - nonnull;
          const success = n === 0 || 1 - bad / n >= mostly - 1e-12;
          return {
            success,
            elementCount: n,
            unexpectedCount: bad,
            unexpectedPercent: pct(bad, n),
            failures: bad,
            message: `${bad} unexpected of ${n} rows`,
          };
        },
      };
    }
    case 'expect_column_values_to_be_in_set':
    case 'expect_column_values_to_not_be_in_set': {
      const col = columnExpr(requireColumn(spec));
      const set = valueSetSql(listArg(spec, 'value_set'));
      const inSet = set === '' ? 'FALSE' : `${col} IN (${set})`;
      return mapExpectation(spec, col, name.includes('_not_') ? `NOT (${inSet})` : inSet);
    }
    case 'expect_column_values_to_be_between': {
      const col = columnExpr(requireColumn(spec));
      return mapExpectation(spec, col, boundsSql(col, boundsOf(k)));
    }
    case 'expect_column_values_to_be_unique': {
      const col = columnExpr(requireColumn(spec));
      const mostly = mostlyOf(spec);
      const where = spec.where ? ` WHERE ${spec.where}` : '';
      return {
        ...base(spec, 'ge'),
        scan: {
          n: { expr: 'count(*)' },
          nonnull: { expr: `count(${col})` },
          distinct: { expr: `count(DISTINCT ${col})` },
        },
        unexpectedRow: `(${col} IS NOT NULL AND count(*) OVER (PARTITION BY ${col}) > 1)`,
        sampleValue: col,
        // Equal distinct and non-null counts prove there is no duplicate; otherwise count exactly.
        evaluate: (v) => {
          const n = num(v.get('n'));
          const nonnull = num(v.get('nonnull'));
          const dupes = nonnull - num(v.get('distinct'));
          if (dupes === 0) return mapEvaluation(n, nonnull, 0, mostly);
          return { ...mapEvaluation(n, nonnull, dupes, mostly), success: false };
        },
        refine: {
          sql: `SELECT count(*) AS n, count(${col}) AS nonnull, (SELECT coalesce(sum(c), 0) FROM (SELECT count(*) AS c FROM ${rel}${where ? `${where} AND` : ' WHERE'} ${col} IS NOT NULL GROUP BY ${col} HAVING count(*) > 1) AS d) AS bad FROM ${rel}${where}`,
          apply: (row) => mapEvaluation(num(row['n']), num(row['nonnull']), num(row['bad']), mostly),
        },
      };
    }
    case 'expect_column_values_to_match_regex':
    case 'expect_column_values_to_not_match_regex': {
      const col = columnExpr(requireColumn(spec));
      const m = `regexp_matches(CAST(${col} AS VARCHAR), ${quoteLiteral(stringArg(spec, 'regex'))})`;
      return mapExpectation(spec, col, name.includes('_not_') ? `NOT ${m}` : m);
    }
    case 'expect_column_values_to_match_regex_list': {
      const col = columnExpr(requireColumn(spec));
      const list = listArg(spec, 'regex_list').map(
        (r) => `regexp_matches(CAST(${col} AS VARCHAR), ${quoteLiteral(String(r))})`,
      );
      const any = k['match_on'] === 'all' ? list.join(' AND ') : list.join(' OR ');
      return mapExpectation(spec, col, list.length ? `(${any})` : 'FALSE');
    }
    case 'expect_column_values_to_match_like_pattern':
    case 'expect_column_values_to_not_match_like_pattern': {
      const col = columnExpr(requireColumn(spec));
      const m = `CAST(${col} AS VARCHAR) LIKE ${quoteLiteral(stringArg(spec, 'like_pattern'))}`;
      return mapExpectation(spec, col, name.includes('_not_') ? `NOT (${m})` : m);
    }
    case 'expect_column_value_lengths_to_be_between': {
      const col = columnExpr(requireColumn(spec));
      return mapExpectation(spec, col, boundsSql(`length(CAST(${col} AS VARCHAR))`, boundsOf(k)));
    }
    case 'expect_column_value_lengths_to_equal': {
      const col = columnExpr(requireColumn(spec));
      return mapExpectation(spec, col, `length(CAST(${col} AS VARCHAR)) = ${numberArg(spec, 'value')}`);
    }
    case 'expect_column_values_to_be_dateutil_parseable': {
      const col = columnExpr(requireColumn(spec));
      return mapExpectation(spec, col, parseableAsDate(col));
    }
    case 'expect_column_values_to_be_json_parseable': {
      const col = columnExpr(requireColumn(spec));
      return mapExpectation(spec, col, `json_valid(CAST(${col} AS VARCHAR))`);
    }
    case 'expect_column_values_to_be_of_type':
    case 'expect_column_values_to_be_in_type_list': {
      const col = requireColumn(spec);
      const wanted = name.endsWith('_type')
        ? [stringArg(spec, 'type_')]
        : listArg(spec, 'type_list').map(String);
      return {
        ...base(spec, 'ge'),
        needsColumns: true,
        evaluate: (_v, cols) => {
          const observed = columnType(cols, col) ?? null;
          const success =
            observed !== null &&
            wanted.some(
              (w) =>
                normalizeType(w) === normalizeType(observed) || w.toUpperCase() === observed.toUpperCase(),
            );
          return {
            success,
            observedValue: observed,
            failures: success ? 0 : 1,
            message: `observed type ${observed ?? '(no such column)'}, expected ${wanted.join(' or ')}`,
          };
        },
      };
    }
    case 'expect_column_values_to_be_increasing':
    case 'expect_column_values_to_be_decreasing': {
      const col = columnExpr(requireColumn(spec));
      const op = name.endsWith('increasing')
        ? k['strictly'] === true
          ? '>'
          : '>='
        : k['strictly'] === true
          ? '<'
          : '<=';
      const order = typeof k['order_by'] === 'string' ? `ORDER BY ${columnExpr(k['order_by'])}` : '';
      const prev = `lag(${col}) OVER (${order})`;
      const unexpected = `(${col} IS NOT NULL AND ${prev} IS NOT NULL AND NOT (${col} ${op} ${prev}))`;
      const mostly = mostlyOf(spec);
      const where = spec.where ? ` WHERE ${spec.where}` : '';
      return {
        ...base(spec, 'ge'),
        queries: {
          m: {
            sql: `SELECT count(*) AS n, count(${col}) AS nonnull, count(*) FILTER (WHERE __u) AS bad FROM (SELECT *, ${unexpected} AS __u FROM (SELECT * FROM ${rel}${where}) AS w) AS t`,
          },
        },
        unexpectedRow: unexpected,
        sampleValue: col,
        evaluate: (v) => {
          const row = v.get('m') as Record<string, SqlValue> | null;
          return mapEvaluation(num(row?.['n']), num(row?.['nonnull']), num(row?.['bad']), mostly);
        },
      };
    }

    // ---- column aggregate expectations ----
    case 'expect_column_min_to_be_between':
      return statBetween(spec, `min(${columnExpr(requireColumn(spec))})`);
    case 'expect_column_max_to_be_between':
      return statBetween(spec, `max(${columnExpr(requireColumn(spec))})`);
    case 'expect_column_mean_to_be_between':
      return statBetween(spec, `avg(${columnExpr(requireColumn(spec))})`);
    case 'expect_column_median_to_be_between':
      return statBetween(spec, `median(${columnExpr(requireColumn(spec))})`);
    case 'expect_column_sum_to_be_between':
      return statBetween(spec, `sum(${columnExpr(requireColumn(spec))})`);
    case 'expect_column_stdev_to_be_between':
      return statBetween(spec, `stddev_samp(${columnExpr(requireColumn(spec))})`);
    case 'expect_column_unique_value_count_to_be_between':
      return statBetween(spec, `count(DISTINCT ${columnExpr(requireColumn(spec))})`);
    case 'expect_column_proportion_of_unique_values_to_be_between': {
      const col = columnExpr(requireColumn(spec));
      return statBetween(spec, `(count(DISTINCT ${col}) / nullif(count(${col}), 0))::DOUBLE`);
    }
    case 'expect_column_quantile_values_to_be_between': {
      const col = columnExpr(requireColumn(spec));
      const ranges = k['quantile_ranges'] as { quantiles?: unknown; value_ranges?: unknown } | undefined;
      const qs = Array.isArray(ranges?.quantiles) ? ranges.quantiles.map(Number) : [];
      const vr = Array.isArray(ranges?.value_ranges) ? (ranges.value_ranges as unknown[]) : [];
      if (qs.length === 0 || qs.length !== vr.length || qs.some((q) => !(q >= 0 && q <= 1))) {
        throw new WeirError(
          QUALITY_CODES.badArgument,
          `${spec.type} needs quantile_ranges: {quantiles: [...], value_ranges: [[min, max], ...]} of equal length`,
          {
            ...(spec.at ? { at: spec.at } : {}),
            hint: 'e.g. quantile_ranges: { quantiles: [0.5], value_ranges: [[10, 20]] }',
          },
        );
      }
      return {
        ...base(spec, 'ge'),
        scan: { v: { expr: `quantile_disc(${col}, [${qs.join(', ')}])` } },
        evaluate: (v) => {
          const raw = v.get('v');
          const values = Array.isArray(raw) ? raw : [];
          const bad = qs.filter((_q, i) => {
            const r = vr[i];
            const [lo, hi] = Array.isArray(r) ? r : [null, null];
            return (
              values[i] !== undefined &&
              values[i] !== null &&
              !withinBounds(values[i], {
                min: lo ?? null,
                max: hi ?? null,
                strictMin: false,
                strictMax: false,
              })
            );
          });
          return {
            success: bad.length === 0,
            observedValue: { quantiles: qs, values },
            failures: bad.length,
            message: `quantiles ${JSON.stringify(values.map(formatObserved))}`,
          };
        },
      };
    }
    case 'expect_column_distinct_values_to_be_in_set':
      return distinctSet(spec, columnExpr(requireColumn(spec)), (o, w) => o.every((x) => w.includes(x)));
    case 'expect_column_distinct_values_to_contain_set':
      return distinctSet(spec, columnExpr(requireColumn(spec)), (o, w) => w.every((x) => o.includes(x)));
    case 'expect_column_distinct_values_to_equal_set':
      return distinctSet(
        spec,
        columnExpr(requireColumn(spec)),
        (o, w) => w.every((x) => o.includes(x)) && o.every((x) => w.includes(x)),
      );
    case 'expect_column_most_common_value_to_be_in_set': {
      const col = columnExpr(requireColumn(spec));
      const wanted = listArg(spec, 'value_set').map(String);
      const tiesOkay = k['ties_okay'] === true;
      const where = spec.where ? ` AND (${spec.where})` : '';
      return {
        ...base(spec, 'ge'),
        queries: {
          m: {
            sql: `SELECT list(v ORDER BY v) AS modes FROM (SELECT ${col} AS v, count(*) AS c, max(count(*)) OVER () AS top FROM ${rel} WHERE ${col} IS NOT NULL${where} GROUP BY ${col}) AS t WHERE c = top`,
          },
        },
        evaluate: (v) => {
          const row = v.get('m') as Record<string, SqlValue> | null;
          const modes = (Array.isArray(row?.['modes']) ? (row['modes'] as SqlValue[]) : []).map((x) =>
            formatObserved(x),
          );
          const inSet = modes.filter((m) => wanted.includes(m));
          const success = modes.length === 0 || (tiesOkay ? inSet.length > 0 : inSet.length === modes.length);
          return {
            success,
            observedValue: modes,
            failures: success ? 0 : 1,
            message: `most common ${JSON.stringify(modes)}`,
          };
        },
      };
    }

    // ---- multi-column ----
    case 'expect_column_pair_values_a_to_be_greater_than_b':
    case 'expect_column_pair_values_to_be_equal': {
      const a = columnExpr(stringArg(spec, 'column_A'));
      const b = columnExpr(stringArg(spec, 'column_B'));
      const ok = name.endsWith('_equal') ? `${a} = ${b}` : `${a} ${k['or_equal'] === true ? '>=' : '>'} ${b}`;
      const ignored =
        k['ignore_row_if'] === 'either_value_is_missing'
          ? `(${a} IS NULL OR ${b} IS NULL)`
          : `(${a} IS NULL AND ${b} IS NULL)`;
      return pairLike(spec, ignored, ok, `struct_pack(a := ${a}, b := ${b})`);
    }
    case 'expect_multicolumn_sum_to_equal': {
      const cols = listArg(spec, 'column_list').map((c) => columnExpr(String(c)));
      const total = numberArg(spec, 'sum_total');
      const ignored = `(${cols.map((c) => `${c} IS NULL`).join(' AND ')})`;
      return pairLike(
        spec,
        ignored,
        `${cols.map((c) => `coalesce(${c}, 0)`).join(' + ')} = ${total}`,
        `struct_pack(${cols.map((c, i) => `c${i} := ${c}`).join(', ')})`,
      );
    }
    case 'expect_compound_columns_to_be_unique': {
      const cols = listArg(spec, 'column_list').map((c) => columnExpr(String(c)));
      const mostly = mostlyOf(spec);
      const ignored = `(${cols.map((c) => `${c} IS NULL`).join(' AND ')})`;
      const tuple = `row(${cols.join(', ')})`;
      const where = spec.where ? ` WHERE ${spec.where}` : '';
      return {
        ...base(spec, 'ge'),
        scan: {
          n: { expr: 'count(*)' },
          considered: { expr: `count(*) FILTER (WHERE NOT ${ignored})` },
          distinct: { expr: `count(DISTINCT ${tuple}) FILTER (WHERE NOT ${ignored})` },
        },
        unexpectedRow: `(NOT ${ignored} AND count(*) OVER (PARTITION BY ${cols.join(', ')}) > 1)`,
        sampleValue: `struct_pack(${cols.map((c, i) => `c${i} := ${c}`).join(', ')})`,
        evaluate: (v) => {
          const n = num(v.get('n'));
          const considered = num(v.get('considered'));
          const dupes = considered - num(v.get('distinct'));
          return {
            ...mapEvaluation(n, considered, dupes, mostly),
            success: dupes === 0 || mapEvaluation(n, considered, dupes, mostly).success,
            missingCount: n - considered,
          };
        },
        refine: {
          sql: `SELECT count(*) AS n, count(*) FILTER (WHERE NOT ${ignored}) AS considered, (SELECT coalesce(sum(c), 0) FROM (SELECT count(*) AS c FROM ${rel}${where ? `${where} AND` : ' WHERE'} NOT ${ignored} GROUP BY ${cols.join(', ')} HAVING count(*) > 1) AS d) AS bad FROM ${rel}${where}`,
          apply: (row) => ({
            ...mapEvaluation(num(row['n']), num(row['considered']), num(row['bad']), mostly),
            missingCount: num(row['n']) - num(row['considered']),
          }),
        },
      };
    }
    case 'unexpected_rows_expectation': {
      const query = stringArg(spec, 'unexpected_rows_query').replaceAll('{batch}', rel);
      return {
        ...base(spec, 'ge'),
        queries: { m: { sql: `SELECT count(*) AS n FROM (${query}) AS q` } },
        failingRowsSql: query,
        evaluate: (v) => {
          const n = num((v.get('m') as Record<string, SqlValue> | null)?.['n']);
          return {
            success: n === 0,
            observedValue: n,
            unexpectedCount: n,
            failures: n,
            message: `${n} unexpected row${n === 1 ? '' : 's'}`,
          };
        },
      };
    }
    default: {
      const weir = compileWeirCheck(spec, target);
      if (weir) return weir;
      throw unknownCheckError(spec);
    }
  }
}

function pairLike(spec: CheckSpec, ignored: string, ok: string, sample: string): CompiledCheck {
  const mostly = mostlyOf(spec);
  const unexpected = `(NOT ${ignored} AND NOT coalesce(${ok}, FALSE))`;
  return {
    ...base(spec, 'ge'),
    scan: {
      n: { expr: 'count(*)' },
      considered: { expr: `count(*) FILTER (WHERE NOT ${ignored})` },
      bad: { expr: `count(*) FILTER (WHERE ${unexpected})` },
    },
    unexpectedRow: unexpected,
    sampleValue: sample,
    evaluate: (v) => {
      const n = num(v.get('n'));
      const considered = num(v.get('considered'));
      return { ...mapEvaluation(n, considered, num(v.get('bad')), mostly), missingCount: n - considered };
    },
  };
}

/** A singular test (or any SQL returning failing rows) as a check. */
export function compileSqlCheck(spec: CheckSpec, failingRowsSql: string): CompiledCheck {
  return {
    ...base(spec, 'dbt'),
    queries: {
      m: {
        sql: `SELECT count(*) AS f FROM (${failingRowsSql}${spec.limit !== undefined ? ` LIMIT ${spec.limit}` : ''}) AS weir_test`,
      },
    },
    failingRowsSql,
    evaluate: (v) => {
      const f = num((v.get('m') as Record<string, SqlValue> | null)?.['f']);
      return {
        success: f === 0,
        failures: f,
        unexpectedCount: f,
        message: `${f} failing row${f === 1 ? '' : 's'}`,
      };
    },
  };
}
