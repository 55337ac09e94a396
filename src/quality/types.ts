import type { ColumnSchema, SqlValue } from '../core/engine.js';
import type { SourceLocation, WeirError } from '../core/errors.js';

export const CHECK_SEVERITIES = ['error', 'warn'] as const;
export type CheckSeverity = (typeof CHECK_SEVERITIES)[number];

export const CHECK_STATUSES = ['pass', 'warn', 'fail', 'error'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** Where a check was declared: a schema.yml test or expectation, a contract rule, a built-in monitor. */
export const CHECK_ORIGINS = ['schema', 'singular', 'contract', 'monitor'] as const;
export type CheckOrigin = (typeof CHECK_ORIGINS)[number];

/** One declared check on one table, before compilation. */
export interface CheckSpec {
  /** Stable id (the test node id for schema.yml tests). */
  readonly id: string;
  /** Display name, e.g. `not_null_orders_id`. */
  readonly name: string;
  /** As written: `not_null`, `expect_column_values_to_be_between`, ... */
  readonly type: string;
  readonly column?: string;
  readonly kwargs: Readonly<Record<string, unknown>>;
  readonly severity: CheckSeverity;
  /** dbt's failure-count thresholds (dbt tests only). */
  readonly warnIf?: string;
  readonly errorIf?: string;
  /** SQL filter applied to the table before the check. */
  readonly where?: string;
  /** dbt `limit`: failure counts are capped at it. */
  readonly limit?: number;
  readonly origin?: CheckOrigin;
  readonly at?: SourceLocation;
}

/** What the compiler needs to know about the checked table. */
export interface CheckTarget {
  /** SQL relation or parenthesised subquery the checks read. */
  readonly relation: string;
  /** Resolves `ref('x')` / `source('a','b')` in kwargs (relationships) to a relation. */
  readonly resolveRelation?: (expr: string) => string;
  /** What monitors compare with (history of the table, the clock); absent: monitors pass. */
  readonly history?: CheckHistory;
}

/** One past observation, oldest first in every list. */
export interface HistoryPoint<T> {
  /** ISO time of the run that observed it. */
  readonly at: string;
  readonly value: T;
}

/** The past of one table, as the monitors (weir_* checks) read it. */
export interface CheckHistory {
  /** The run's clock (injectable: WEIR_NOW), for freshness and seasonality. */
  readonly now: Date;
  readonly rowCounts: readonly HistoryPoint<number>[];
  /** The table's columns as last recorded, if ever. */
  readonly previousSchema?: readonly ColumnSchema[];
  /** Past observed values of a check, by check id. */
  readonly observed: (checkId: string) => readonly HistoryPoint<unknown>[];
}

/** One aggregate expression evaluated in a table scan; deduplicated by its text and filter. */
export interface ScanMetric {
  readonly expr: string;
}

/** A query of its own, returning one row whose columns are the metric values. */
export interface QueryMetric {
  readonly sql: string;
}

export type MetricValues = ReadonlyMap<string, SqlValue>;

/** What evaluation of a check's metrics decides; the executor completes it into a CheckResult. */
export interface Evaluation {
  readonly success: boolean;
  readonly observedValue?: unknown;
  readonly elementCount?: number;
  readonly unexpectedCount?: number;
  readonly unexpectedPercent?: number | null;
  readonly missingCount?: number;
  readonly missingPercent?: number | null;
  /** dbt failure count (rows the test query returns). */
  readonly failures?: number;
  readonly message?: string;
  /** A failed monitor below its error threshold: status `warn` whatever the severity. */
  readonly warnOnly?: boolean;
}

export interface CompiledCheck {
  readonly spec: CheckSpec;
  readonly family: 'dbt' | 'ge' | 'weir';
  /** Aggregates evaluated in the shared scan, by local name. */
  readonly scan: Readonly<Record<string, ScanMetric>>;
  /** Separate queries, by local name (relationships, windows, custom SQL). */
  readonly queries: Readonly<Record<string, QueryMetric>>;
  /** Whether evaluation needs the table's columns (schema expectations). */
  readonly needsColumns: boolean;
  readonly evaluate: (values: MetricValues, columns: readonly ColumnSchema[]) => Evaluation;
  /**
   * Row-level checks: a boolean expression, true for an unexpected row. May use window functions;
   * it is evaluated in a select list over the (filtered) table. Used for samples and quarantine.
   */
  readonly unexpectedRow?: string;
  /** What GE lists in `partial_unexpected_list` for a row-level check (a column expression). */
  readonly sampleValue?: string;
  /** A query returning the failing rows when there is no row predicate (dbt unique, custom SQL). */
  readonly failingRowsSql?: string;
  /** Run only when the check did not pass: exact counts the scan could only bound (duplicates). */
  readonly refine?: {
    readonly sql: string;
    readonly apply: (row: Readonly<Record<string, SqlValue>>) => Evaluation;
  };
}

export interface CheckResult {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly column?: string;
  readonly severity: CheckSeverity;
  readonly origin: CheckOrigin;
  readonly status: CheckStatus;
  /** GE `success`; null when the check errored. */
  readonly success: boolean | null;
  readonly observedValue?: unknown;
  readonly elementCount?: number;
  readonly unexpectedCount?: number;
  readonly unexpectedPercent?: number | null;
  readonly missingCount?: number;
  readonly missingPercent?: number | null;
  /** dbt-style failure count (failing rows or groups); null when unknown. */
  readonly failures: number | null;
  /** Up to 20 unexpected values (GE `partial_unexpected_list`), only for failed checks. */
  readonly partialUnexpectedList: readonly SqlValue[];
  /** Up to 20 whole unexpected rows, only for failed checks. */
  readonly sampleRows: ReadonlyArray<Readonly<Record<string, SqlValue>>>;
  /** True when a row predicate exists, so failing rows can be quarantined. */
  readonly rowLevel: boolean;
  readonly message: string;
  readonly error?: WeirError;
  readonly durationMs: number;
  readonly at?: SourceLocation;
}

/** GE's result dictionary for one validation result. */
export interface GeResult {
  readonly expectation_type: string;
  readonly success: boolean | null;
  readonly kwargs: Readonly<Record<string, unknown>>;
  readonly result: Readonly<Record<string, unknown>>;
  readonly exception_info: { raised_exception: boolean; exception_message: string | null };
}

export function toGeResult(r: CheckResult, kwargs: Readonly<Record<string, unknown>> = {}): GeResult {
  const result: Record<string, unknown> = {};
  if (r.observedValue !== undefined) result['observed_value'] = r.observedValue;
  if (r.elementCount !== undefined) result['element_count'] = r.elementCount;
  if (r.unexpectedCount !== undefined) {
    result['unexpected_count'] = r.unexpectedCount;
    result['unexpected_percent'] = r.unexpectedPercent ?? null;
    result['partial_unexpected_list'] = r.partialUnexpectedList;
  }
  if (r.missingCount !== undefined) {
    result['missing_count'] = r.missingCount;
    result['missing_percent'] = r.missingPercent ?? null;
  }
  return {
    expectation_type: r.type,
    success: r.success,
    kwargs: { ...(r.column ? { column: r.column } : {}), ...kwargs },
    result,
    exception_info: {
      raised_exception: r.status === 'error',
      exception_message: r.error ? r.error.message : null,
    },
  };
}
