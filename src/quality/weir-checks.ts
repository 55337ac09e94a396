import { DUCKDB_INTEGER_TYPES, quoteLiteral, type ColumnSchema, type SqlValue } from '../core/engine.js';
import { WeirError } from '../core/errors.js';
import { QUALITY_CODES } from './codes.js';
import type {
  CheckSpec,
  CheckTarget,
  CompiledCheck,
  Evaluation,
  HistoryPoint,
  MetricValues,
} from './types.js';

/** Weir's own checks: contract rules and the history monitors. */
export const WEIR_CHECKS = [
  'contract_column_type',
  'contract_metric',
  'contract_sql',
  'weir_freshness',
  'weir_row_count_anomaly',
  'weir_schema_drift',
  'weir_distribution_drift',
] as const;
export type WeirCheckName = (typeof WEIR_CHECKS)[number];

const INTEGER_TYPES: readonly string[] = DUCKDB_INTEGER_TYPES;
const LOGICAL_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  integer: INTEGER_TYPES,
  number: [...INTEGER_TYPES, 'FLOAT', 'DOUBLE', 'DECIMAL'],
  string: ['VARCHAR', 'UUID', 'ENUM'],
  boolean: ['BOOLEAN'],
  date: ['DATE'],
  timestamp: ['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS'],
  time: ['TIME', 'TIME WITH TIME ZONE'],
  object: ['STRUCT', 'MAP', 'JSON', 'UNION'],
  array: ['LIST', 'ARRAY'],
};
const KNOWN_PHYSICAL = new Set([...Object.values(LOGICAL_FAMILIES).flat(), 'BLOB', 'INTERVAL', 'BIT']);
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  INT: 'INTEGER',
  INT4: 'INTEGER',
  INT8: 'BIGINT',
  LONG: 'BIGINT',
  INT2: 'SMALLINT',
  INT1: 'TINYINT',
  FLOAT8: 'DOUBLE',
  FLOAT4: 'FLOAT',
  REAL: 'FLOAT',
  NUMERIC: 'DECIMAL',
  TEXT: 'VARCHAR',
  STRING: 'VARCHAR',
  CHAR: 'VARCHAR',
  BPCHAR: 'VARCHAR',
  BOOL: 'BOOLEAN',
  DATETIME: 'TIMESTAMP',
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  BYTEA: 'BLOB',
};

/** A type's family name: parameters dropped, aliases folded, `INTEGER[]` -> `LIST`. */
export function typeBase(t: string): string {
  const u = t.trim().toUpperCase();
  if (u.endsWith(']')) return 'LIST';
  const bare = u.replace(/\(.*\)$/s, '').trim();
  return TYPE_ALIASES[bare] ?? bare;
}

/** Whether an engine column type satisfies an ODCS logicalType / physicalType. */
export function typeMatches(actual: string, logical?: string, physical?: string): boolean {
  const a = typeBase(actual);
  if (physical && KNOWN_PHYSICAL.has(typeBase(physical))) return typeBase(physical) === a;
  if (logical) return (LOGICAL_FAMILIES[logical] ?? []).includes(a);
  return true;
}

function colRef(c: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(c) ? `"${c}"` : c;
}

function num(v: SqlValue | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}

function numOrNull(v: SqlValue | undefined): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return quoteLiteral(String(v));
}

function bad(spec: CheckSpec, message: string, hint: string): WeirError {
  return new WeirError(QUALITY_CODES.badArgument, `${spec.name}: ${message}`, {
    ...(spec.at ? { at: spec.at } : {}),
    hint,
  });
}

function requireCol(spec: CheckSpec): string {
  const c = spec.column ?? (spec.kwargs['column'] as string | undefined);
  if (!c)
    throw new WeirError(QUALITY_CODES.needsColumn, `check '${spec.type}' needs a column`, {
      ...(spec.at ? { at: spec.at } : {}),
      hint: 'declare it under a column in schema.yml, or pass column: <name>',
    });
  return c;
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `500ms`, `30s`, `15m`, `2h`, `1d`, `2w`, or `{count, period}` as dbt writes source freshness. */
export function parseDuration(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const period = String(o['period'] ?? '');
    const unit = { minute: 'm', hour: 'h', day: 'd' }[period];
    const count = Number(o['count']);
    return unit && Number.isFinite(count) ? count * (DURATION_UNITS[unit] ?? 0) : undefined;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(String(v));
  return m ? Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? 0) : undefined;
}

/** Compares an observed metric with an ODCS operator. */
export function odcsCompare(observed: number, operator: string, threshold: unknown): boolean {
  const t = Number(threshold);
  const pair = Array.isArray(threshold) ? threshold.map(Number) : [];
  const [lo = NaN, hi = NaN] = pair;
  switch (operator) {
    case 'mustBe':
      return typeof threshold === 'number' ? observed === t : String(observed) === String(threshold);
    case 'mustNotBe':
      return typeof threshold === 'number' ? observed !== t : String(observed) !== String(threshold);
    case 'mustBeGreaterThan':
      return observed > t;
    case 'mustBeGreaterOrEqualTo':
      return observed >= t;
    case 'mustBeLessThan':
      return observed < t;
    case 'mustBeLessOrEqualTo':
      return observed <= t;
    case 'mustBeBetween':
      return observed >= lo && observed <= hi;
    case 'mustNotBeBetween':
      return observed < lo || observed > hi;
    default:
      return false;
  }
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

function stddev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

function base(spec: CheckSpec): Omit<CompiledCheck, 'evaluate'> {
  return { spec, family: 'weir', scan: {}, queries: {}, needsColumns: false };
}

/** Compiles a Weir check; undefined when `spec.type` is not one. */
export function compileWeirCheck(spec: CheckSpec, target: CheckTarget): CompiledCheck | undefined {
  const k = spec.kwargs;
  switch (spec.type as WeirCheckName) {
    case 'contract_column_type': {
      const col = requireCol(spec);
      const logical = k['logical_type'] as string | undefined;
      const physical = k['physical_type'] as string | undefined;
      const where = `contract ${String(k['contract'])}: property '${String(k['property'] ?? col)}'`;
      const expected = [logical ? `logicalType ${logical}` : '', physical ? `physicalType ${physical}` : '']
        .filter(Boolean)
        .join(', ');
      return {
        ...base(spec),
        needsColumns: true,
        evaluate: (_v, cols) => {
          const c = cols.find((x) => x.name === col || x.name.toLowerCase() === col.toLowerCase());
          if (!c)
            return {
              success: false,
              failures: 1,
              message: `${where}: column '${col}' is missing from the table`,
            };
          const ok = typeMatches(c.type, logical, physical);
          return {
            success: ok,
            observedValue: c.type,
            failures: ok ? 0 : 1,
            message: ok
              ? `${where}: ${c.type}`
              : `${where}: expected ${expected}, the column '${c.name}' is ${c.type}`,
          };
        },
      };
    }
    case 'contract_metric':
      return contractMetric(spec);
    case 'contract_sql': {
      const query = String(k['query'] ?? '');
      const col = spec.column ?? (k['column'] as string | undefined);
      let sql = query.replace(/\$?\{(object|table|model)\}/g, target.relation);
      if (col) sql = sql.replace(/\$?\{(column|property)\}/g, colRef(col));
      return {
        ...base(spec),
        queries: { m: { sql: `SELECT (${sql}) AS m` } },
        evaluate: (v) => {
          const observed = numOrNull(v.get('m'));
          const ok = observed !== null && odcsCompare(observed, String(k['operator']), k['threshold']);
          return {
            success: ok,
            observedValue: observed,
            failures: ok ? 0 : 1,
            message: `query returned ${observed ?? 'NULL'}, ${String(k['operator'])} ${JSON.stringify(k['threshold'])}`,
          };
        },
      };
    }
    case 'weir_freshness': {
      const col = requireCol(spec);
      const warnAfter = parseDuration(k['warn_after']);
      const errorAfter = parseDuration(k['error_after']);
      if (warnAfter === undefined && errorAfter === undefined)
        throw bad(
          spec,
          'needs warn_after or error_after',
          'e.g. {column: updated_at, warn_after: 2h, error_after: 6h}',
        );
      const now = (target.history?.now ?? new Date()).getTime();
      return {
        ...base(spec),
        scan: { latest: { expr: `CAST(epoch(max(${colRef(col)})) AS DOUBLE)` } },
        evaluate: (v) => {
          const latest = numOrNull(v.get('latest'));
          if (latest === null)
            return { success: false, observedValue: null, message: `no value in ${col}: no rows` };
          const ageMs = now - latest * 1000;
          const iso = new Date(latest * 1000).toISOString();
          const age = formatAge(ageMs);
          if (errorAfter !== undefined && ageMs > errorAfter)
            return {
              success: false,
              observedValue: iso,
              message: `latest ${col} ${iso} is ${age} old (error after ${formatAge(errorAfter)})`,
            };
          if (warnAfter !== undefined && ageMs > warnAfter)
            return {
              success: false,
              warnOnly: true,
              observedValue: iso,
              message: `latest ${col} ${iso} is ${age} old (warn after ${formatAge(warnAfter)})`,
            };
          return { success: true, observedValue: iso, message: `latest ${col} ${iso} is ${age} old` };
        },
      };
    }
    case 'weir_row_count_anomaly': {
      const opts = monitorOptions(spec);
      const seasonal = k['seasonality'] === 'day_of_week';
      if (k['seasonality'] !== undefined && !seasonal)
        throw bad(
          spec,
          `seasonality '${String(k['seasonality'])}' is not known`,
          'use seasonality: day_of_week, or leave it out',
        );
      const history = target.history;
      return {
        ...base(spec),
        scan: { n: { expr: 'count(*)' } },
        evaluate: (v) => {
          const n = num(v.get('n'));
          const past = (history?.rowCounts ?? []).slice(-opts.window);
          return zScoreEvaluation(
            n,
            past,
            opts,
            seasonal ? (history?.now ?? new Date()) : undefined,
            'row count',
          );
        },
      };
    }
    case 'weir_schema_drift': {
      const failOn = (Array.isArray(k['fail_on']) ? k['fail_on'] : ['added', 'removed', 'retyped']).map(
        String,
      );
      const previous = target.history?.previousSchema;
      return {
        ...base(spec),
        needsColumns: true,
        evaluate: (_v, cols) => {
          if (!previous) return { success: true, message: 'first recorded schema' };
          const drift = schemaDrift(previous, cols);
          const changes = [
            ...drift.added.map((c) => `added ${c}`),
            ...drift.removed.map((c) => `removed ${c}`),
            ...drift.retyped.map((c) => `retyped ${c}`),
          ];
          const failing =
            (failOn.includes('added') && drift.added.length > 0) ||
            (failOn.includes('removed') && drift.removed.length > 0) ||
            (failOn.includes('retyped') && drift.retyped.length > 0);
          return {
            success: !failing,
            observedValue: drift,
            failures: changes.length,
            message: changes.length ? `schema changed: ${changes.join(', ')}` : 'schema unchanged',
          };
        },
      };
    }
    case 'weir_distribution_drift': {
      const col = colRef(requireCol(spec));
      const opts = monitorOptions(spec);
      const ratio = Number(k['stddev_ratio'] ?? 2);
      const past = (target.history?.observed(spec.id) ?? [])
        .map((p) => p.value as { mean?: unknown; stddev?: unknown } | null)
        .filter(
          (x): x is { mean: number; stddev: number } =>
            typeof x?.mean === 'number' && typeof x.stddev === 'number',
        )
        .slice(-opts.window);
      return {
        ...base(spec),
        scan: {
          mean: { expr: `CAST(avg(${col}) AS DOUBLE)` },
          sd: { expr: `CAST(stddev_samp(${col}) AS DOUBLE)` },
        },
        evaluate: (v) => {
          const m = numOrNull(v.get('mean'));
          const sd = numOrNull(v.get('sd'));
          const observedValue = { mean: m, stddev: sd };
          if (m === null) return { success: true, observedValue, message: 'no values' };
          if (past.length < opts.minHistory)
            return {
              success: true,
              observedValue,
              message: `learning: ${past.length} of ${opts.minHistory} runs of history`,
            };
          const means = past.map((p) => p.mean);
          const mu = mean(means);
          const spread = Math.max(stddev(means), Math.abs(mu) * 0.001, 1e-9);
          const z = (m - mu) / spread;
          const sdMean = mean(past.map((p) => p.stddev));
          const sdOff = sd !== null && sdMean > 0 && (sd / sdMean > ratio || sd / sdMean < 1 / ratio);
          const ok = Math.abs(z) <= opts.sensitivity && !sdOff;
          return {
            success: ok,
            observedValue,
            failures: ok ? 0 : 1,
            message: `mean ${round(m)} vs ${round(mu)} over ${past.length} runs (z ${round(z)}); stddev ${sd === null ? 'NULL' : round(sd)} vs ${round(sdMean)}`,
          };
        },
      };
    }
    default:
      return undefined;
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function formatAge(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 172_800_000) return `${Math.round((ms / 3_600_000) * 10) / 10}h`;
  return `${Math.round((ms / 86_400_000) * 10) / 10}d`;
}

interface MonitorOptions {
  readonly sensitivity: number;
  readonly minHistory: number;
  readonly window: number;
}

function monitorOptions(spec: CheckSpec): MonitorOptions {
  const k = spec.kwargs;
  const sensitivity = Number(k['sensitivity'] ?? 3);
  const minHistory = Number(k['min_history'] ?? 7);
  const window = Number(k['window'] ?? 30);
  if (
    !(sensitivity > 0) ||
    !Number.isInteger(minHistory) ||
    minHistory < 2 ||
    !Number.isInteger(window) ||
    window < minHistory
  )
    throw bad(
      spec,
      'sensitivity must be > 0, min_history a whole number >= 2, window >= min_history',
      'e.g. {sensitivity: 3, min_history: 7, window: 30}',
    );
  return { sensitivity, minHistory, window };
}

/**
 * z-score of the new value against past values. The spread is floored at 1% of the mean (and 1), so
 * a table that always had exactly the same count does not flag a one-row change. With seasonality,
 * the expected value and spread come from past runs on the same UTC weekday when there are at least
 * three of them, else from all runs.
 */
export function zScoreEvaluation(
  value: number,
  past: readonly HistoryPoint<number>[],
  opts: MonitorOptions,
  seasonalNow: Date | undefined,
  what: string,
): Evaluation {
  if (past.length < opts.minHistory)
    return {
      success: true,
      observedValue: value,
      message: `learning: ${past.length} of ${opts.minHistory} runs of history`,
    };
  let sample = past.map((p) => p.value);
  let scope = `the last ${past.length} runs`;
  if (seasonalNow) {
    const day = seasonalNow.getUTCDay();
    const same = past.filter((p) => new Date(p.at).getUTCDay() === day).map((p) => p.value);
    if (same.length >= 3) {
      sample = same;
      scope = `${same.length} past runs on the same weekday`;
    }
  }
  const mu = mean(sample);
  const spread = Math.max(stddev(sample), Math.abs(mu) * 0.01, 1);
  const z = (value - mu) / spread;
  const ok = Math.abs(z) <= opts.sensitivity;
  return {
    success: ok,
    observedValue: value,
    failures: ok ? 0 : 1,
    message: `${what} ${value} is ${round(Math.abs(z))} standard deviations ${z < 0 ? 'below' : 'above'} the mean ${round(mu)} of ${scope} (sensitivity ${opts.sensitivity})`,
  };
}

export interface SchemaDrift {
  readonly added: string[];
  readonly removed: string[];
  readonly retyped: string[];
}

export function schemaDrift(
  previous: readonly ColumnSchema[],
  current: readonly ColumnSchema[],
): SchemaDrift {
  const prev = new Map(previous.map((c) => [c.name.toLowerCase(), c]));
  const cur = new Map(current.map((c) => [c.name.toLowerCase(), c]));
  return {
    added: current.filter((c) => !prev.has(c.name.toLowerCase())).map((c) => c.name),
    removed: previous.filter((c) => !cur.has(c.name.toLowerCase())).map((c) => c.name),
    retyped: current
      .filter((c) => {
        const p = prev.get(c.name.toLowerCase());
        return p !== undefined && p.type.toUpperCase() !== c.type.toUpperCase();
      })
      .map((c) => `${c.name} ${prev.get(c.name.toLowerCase())?.type ?? ''} -> ${c.type}`),
  };
}

/** ODCS library metrics: counts (or percents of all rows) compared with the rule's operator. */
function contractMetric(spec: CheckSpec): CompiledCheck {
  const k = spec.kwargs;
  const metric = String(k['metric']);
  const args = (k['arguments'] ?? {}) as Record<string, unknown>;
  const percent = k['unit'] === 'percent';
  const column = spec.column ?? (k['column'] as string | undefined);
  const col = column ? colRef(column) : undefined;
  let badExpr: string | undefined;
  let unexpectedRow: string | undefined;
  const needCol = (): string => {
    if (!col)
      throw bad(
        spec,
        `${metric} needs a column: declare it on a property`,
        'move the rule under the property it checks',
      );
    return col;
  };
  switch (metric) {
    case 'rowCount':
      break;
    case 'nullValues':
      unexpectedRow = `(${needCol()} IS NULL)`;
      break;
    case 'missingValues': {
      const c = needCol();
      const list = Array.isArray(args['missingValues']) ? args['missingValues'] : [null, ''];
      const values = list.filter((x) => x !== null && x !== undefined);
      const parts = [
        ...(list.length === values.length ? [] : [`${c} IS NULL`]),
        ...(values.length ? [`CAST(${c} AS VARCHAR) IN (${values.map(literal).join(', ')})`] : []),
      ];
      unexpectedRow = parts.length ? `(${parts.join(' OR ')})` : 'FALSE';
      break;
    }
    case 'invalidValues': {
      const c = needCol();
      const valid = Array.isArray(args['validValues'])
        ? args['validValues'].filter((x) => x !== null)
        : undefined;
      const pattern = typeof args['pattern'] === 'string' ? args['pattern'] : undefined;
      if (!valid && !pattern)
        throw bad(
          spec,
          'invalidValues needs arguments.validValues or arguments.pattern',
          'e.g. arguments: {validValues: [a, b]}',
        );
      const ok = [
        ...(valid
          ? [valid.length ? `CAST(${c} AS VARCHAR) IN (${valid.map(literal).join(', ')})` : 'FALSE']
          : []),
        ...(pattern ? [`regexp_full_match(CAST(${c} AS VARCHAR), ${quoteLiteral(pattern)})`] : []),
      ];
      unexpectedRow = `(${c} IS NOT NULL AND NOT coalesce(${ok.join(' AND ')}, FALSE))`;
      break;
    }
    case 'duplicateValues': {
      const props = Array.isArray(args['properties']) ? args['properties'].map(String) : undefined;
      if (props && props.length) {
        const cols = props.map(colRef).join(', ');
        badExpr = `count(*) - count(DISTINCT (${cols}))`;
        unexpectedRow = `(count(*) OVER (PARTITION BY ${cols}) > 1)`;
      } else {
        const c = needCol();
        badExpr = `count(${c}) - count(DISTINCT ${c})`;
        unexpectedRow = `(${c} IS NOT NULL AND count(*) OVER (PARTITION BY ${c}) > 1)`;
      }
      break;
    }
    default:
      throw bad(
        spec,
        `unknown ODCS metric '${metric}'`,
        'use nullValues, missingValues, invalidValues, duplicateValues or rowCount',
      );
  }
  const scan: Record<string, { expr: string }> = { n: { expr: 'count(*)' } };
  if (badExpr) scan['bad'] = { expr: badExpr };
  else if (unexpectedRow) scan['bad'] = { expr: `count(*) FILTER (WHERE ${unexpectedRow})` };
  return {
    ...base(spec),
    scan,
    ...(unexpectedRow ? { unexpectedRow, ...(col ? { sampleValue: col } : {}) } : {}),
    evaluate: (v: MetricValues) => {
      const n = num(v.get('n'));
      const count = metric === 'rowCount' ? n : num(v.get('bad'));
      const observed = percent ? (n === 0 ? 0 : (count / n) * 100) : count;
      const ok = odcsCompare(observed, String(k['operator']), k['threshold']);
      return {
        success: ok,
        observedValue: observed,
        elementCount: n,
        ...(metric === 'rowCount'
          ? {}
          : { unexpectedCount: count, unexpectedPercent: n === 0 ? null : (count / n) * 100 }),
        failures: ok ? 0 : metric === 'rowCount' ? 1 : count,
        message: `${metric} ${round(observed)}${percent ? '%' : ''}, ${String(k['operator'])} ${JSON.stringify(k['threshold'])}`,
      };
    },
  };
}
