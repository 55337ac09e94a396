import type { ColumnSchema, EngineSession, QueryResult, SqlValue } from '../core/engine.js';
import { WeirError, errorMessage, isWeirError } from '../core/errors.js';
import { QUALITY_CODES } from './codes.js';
import { compileCheck, formatObserved } from './compile-checks.js';
import { thresholdHit } from './thresholds.js';
import type { CheckResult, CheckSpec, CheckStatus, CheckTarget, CompiledCheck, Evaluation } from './types.js';

export const SAMPLE_LIMIT = 20;

/** How the batch's table was read: scans (one per distinct `where`), separate queries. */
export interface CheckRunStats {
  scans: number;
  queries: number;
}

export interface RunChecksOptions {
  /** Checks already compiled elsewhere (singular tests); they join the batch as they are. */
  readonly precompiled?: readonly CompiledCheck[];
  /** Columns of the table, when the caller knows them (saves a DESCRIBE). */
  readonly columns?: readonly ColumnSchema[];
  /** Whole sample rows for failed checks (the audit shows them); values are always sampled. */
  readonly sampleRows?: boolean;
  readonly stats?: CheckRunStats;
}

interface Slot {
  readonly check?: CompiledCheck;
  readonly spec: CheckSpec;
  /** Local metric name -> global column alias in a scan, or query key. */
  readonly aliases: Map<string, string>;
  error?: WeirError;
}

/**
 * Runs a batch of checks on one table: every scan metric of every check goes into one aggregate
 * query per distinct `where` filter (normally exactly one), deduplicated by expression; queries
 * that need their own statement run after it; samples are fetched only for checks that did not
 * pass. A check that cannot compile or whose SQL fails gets status `error`; the others still run.
 */
export async function runChecks(
  session: EngineSession,
  specs: readonly CheckSpec[],
  target: CheckTarget,
  options: RunChecksOptions = {},
): Promise<CheckResult[]> {
  const t0 = performance.now();
  const slots: Slot[] = [];
  for (const spec of specs) {
    try {
      slots.push({ spec, check: compileCheck(spec, target), aliases: new Map() });
    } catch (err) {
      slots.push({ spec, aliases: new Map(), error: asCheckError(err, spec) });
    }
  }
  for (const check of options.precompiled ?? []) slots.push({ spec: check.spec, check, aliases: new Map() });

  // Scan metrics grouped by filter and deduplicated by expression text.
  const groups = new Map<string, Map<string, string>>();
  for (const slot of slots) {
    if (!slot.check) continue;
    const filter = slot.spec.where ?? '';
    let exprs = groups.get(filter);
    if (!exprs) groups.set(filter, (exprs = new Map()));
    for (const [local, metric] of Object.entries(slot.check.scan)) {
      let alias = exprs.get(metric.expr);
      if (!alias) exprs.set(metric.expr, (alias = `m${groups.size - 1}_${exprs.size}`));
      slot.aliases.set(local, alias);
    }
  }
  const values = new Map<string, SqlValue>();
  const failedScan = new Map<string, WeirError>();
  for (const [filter, exprs] of groups) {
    if (exprs.size === 0) continue;
    const sql = scanSql(target.relation, filter, exprs);
    try {
      if (options.stats) options.stats.scans++;
      const res = await session.query(sql);
      const row = firstRow(res);
      for (const alias of exprs.values()) values.set(alias, row[alias] ?? null);
    } catch (err) {
      // Isolate the failing checks: evaluate each expression alone so one bad check is `error`
      // and the rest of the batch still has its values.
      for (const [expr, alias] of exprs) {
        try {
          const res = await session.query(scanSql(target.relation, filter, new Map([[expr, alias]])));
          values.set(alias, firstRow(res)[alias] ?? null);
        } catch (inner) {
          failedScan.set(alias, sqlError(inner, sql));
        }
      }
      void err;
    }
  }
  for (const slot of slots) {
    if (!slot.check || slot.error) continue;
    for (const alias of slot.aliases.values()) {
      const e = failedScan.get(alias);
      if (e) slot.error = e;
    }
    for (const [key, q] of Object.entries(slot.check.queries)) {
      try {
        if (options.stats) options.stats.queries++;
        const res = await session.query(q.sql);
        const row = res.rows.length ? firstRow(res) : null;
        const alias = `q:${slot.spec.id}:${key}`;
        // A query whose column carries the metric's name yields that value, else the whole row.
        values.set(alias, row && key in row ? (row[key] ?? null) : (row as SqlValue));
        slot.aliases.set(key, alias);
      } catch (err) {
        slot.error = sqlError(err, q.sql);
      }
    }
  }

  let columns = options.columns;
  if (!columns && slots.some((s) => s.check?.needsColumns && !s.error)) {
    columns = await session.describe(`SELECT * FROM ${target.relation}`);
  }

  const results: CheckResult[] = [];
  for (const slot of slots) {
    const started = performance.now();
    if (!slot.check || slot.error) {
      results.push(
        errorResult(slot.spec, slot.error ?? new WeirError(QUALITY_CODES.checkSqlError, 'check failed'), 0),
      );
      continue;
    }
    const check = slot.check;
    try {
      const local = new Map<string, SqlValue>();
      for (const [name, alias] of slot.aliases) local.set(name, values.get(alias) ?? null);
      let evaluation = check.evaluate(local, columns ?? []);
      if (!evaluation.success && check.refine) {
        if (options.stats) options.stats.queries++;
        const res = await session.query(check.refine.sql);
        evaluation = check.refine.apply(firstRow(res));
      }
      let status = statusOf(slot.spec, check.family, evaluation);
      let partial: SqlValue[] = [];
      let rows: Record<string, SqlValue>[] = [];
      if (status !== 'pass') {
        ({ partial, rows } = await samples(session, check, target.relation, options.sampleRows === true));
      }
      const failures = capped(slot.spec, evaluation.failures ?? null);
      if (check.family === 'dbt' && failures !== null)
        status = statusOf(slot.spec, check.family, { ...evaluation, failures });
      results.push({
        id: slot.spec.id,
        name: slot.spec.name,
        type: slot.spec.type,
        ...(slot.spec.column ? { column: slot.spec.column } : {}),
        severity: slot.spec.severity,
        origin: slot.spec.origin ?? 'schema',
        status,
        success: evaluation.success,
        ...pickEvaluation(evaluation),
        failures,
        partialUnexpectedList: partial,
        sampleRows: rows,
        rowLevel: check.unexpectedRow !== undefined,
        message: `${status}: ${evaluation.message ?? (evaluation.success ? 'ok' : 'failed')}`,
        durationMs: performance.now() - started,
        ...(slot.spec.at ? { at: slot.spec.at } : {}),
      });
    } catch (err) {
      results.push(errorResult(slot.spec, sqlError(err, ''), performance.now() - started));
    }
  }
  // The batch's shared time is spread over its checks, so per-check durations add up.
  const share = (performance.now() - t0) / Math.max(1, results.length);
  return results.map((r) => ({ ...r, durationMs: r.durationMs + share }));
}

/**
 * DuckDB returns DECIMAL values as exact strings; GE reports them as numbers, and comparisons with
 * YAML bounds need numbers too.
 */
export function normalized(res: QueryResult): QueryResult {
  const decimals = res.columns.filter((c) => /^DECIMAL|^NUMERIC|^HUGEINT/i.test(c.type)).map((c) => c.name);
  if (decimals.length === 0) return res;
  return {
    columns: res.columns,
    rows: res.rows.map((r) => {
      const copy: Record<string, SqlValue> = { ...r };
      for (const d of decimals) {
        const v = copy[d];
        if (v !== null && v !== undefined) copy[d] = Number(v);
      }
      return copy;
    }),
  };
}

function firstRow(res: QueryResult): Record<string, SqlValue> {
  return { ...(normalized(res).rows[0] ?? {}) };
}

function scanSql(relation: string, filter: string, exprs: ReadonlyMap<string, string>): string {
  const list = [...exprs].map(([expr, alias]) => `${expr} AS ${alias}`).join(', ');
  return `SELECT ${list} FROM ${relation}${filter ? ` AS __weir_t WHERE ${filter}` : ''}`;
}

function capped(spec: CheckSpec, failures: number | null): number | null {
  if (failures === null || spec.limit === undefined) return failures;
  return Math.min(failures, spec.limit);
}

function pickEvaluation(e: Evaluation): Partial<CheckResult> {
  const out: Record<string, unknown> = {};
  for (const key of [
    'observedValue',
    'elementCount',
    'unexpectedCount',
    'unexpectedPercent',
    'missingCount',
    'missingPercent',
  ] as const) {
    if (e[key] !== undefined) out[key] = e[key];
  }
  return out as Partial<CheckResult>;
}

/** dbt tests: severity + warn_if/error_if on the failure count. Expectations: GE success. */
export function statusOf(spec: CheckSpec, family: CompiledCheck['family'], e: Evaluation): CheckStatus {
  if (family === 'dbt') {
    const failures = e.failures ?? (e.success ? 0 : 1);
    const errorIf = spec.errorIf ?? '!= 0';
    const warnIf = spec.warnIf ?? '!= 0';
    if (spec.severity === 'error' && thresholdHit(errorIf, failures)) return 'fail';
    if (thresholdHit(warnIf, failures)) return 'warn';
    return 'pass';
  }
  if (e.success) return 'pass';
  return spec.severity === 'error' && !e.warnOnly ? 'fail' : 'warn';
}

async function samples(
  session: EngineSession,
  check: CompiledCheck,
  relation: string,
  wholeRows: boolean,
): Promise<{ partial: SqlValue[]; rows: Record<string, SqlValue>[] }> {
  const where = check.spec.where ? ` WHERE ${check.spec.where}` : '';
  try {
    if (check.unexpectedRow) {
      const flagged = `(SELECT *, ${check.unexpectedRow} AS __weir_u, ${check.sampleValue ?? 'NULL'} AS __weir_v FROM (SELECT * FROM ${relation}${where}) AS __weir_s) AS __weir_f`;
      const res = normalized(
        await session.query(`SELECT * FROM ${flagged} WHERE __weir_u LIMIT ${SAMPLE_LIMIT}`),
      );
      const partial = res.rows.map((r) => r['__weir_v'] ?? null);
      const rows = wholeRows
        ? res.rows.map((r) => {
            const { __weir_u: _u, __weir_v: _v, ...rest } = r;
            return rest;
          })
        : [];
      return { partial, rows };
    }
    if (check.failingRowsSql) {
      const res = normalized(
        await session.query(`SELECT * FROM (${check.failingRowsSql}) AS __weir_f LIMIT ${SAMPLE_LIMIT}`),
      );
      const partial = res.rows.map((r) => {
        const vals = Object.values(r);
        return vals.length === 1 ? (vals[0] ?? null) : (r as SqlValue);
      });
      return { partial, rows: wholeRows ? res.rows.map((r) => ({ ...r })) : [] };
    }
  } catch {
    // Samples are a courtesy: a failed sample query never changes the check's verdict.
  }
  return { partial: [], rows: [] };
}

function asCheckError(err: unknown, spec: CheckSpec): WeirError {
  if (isWeirError(err)) return err;
  return new WeirError(QUALITY_CODES.checkSqlError, `check ${spec.name}: ${errorMessage(err)}`, {
    ...(spec.at ? { at: spec.at } : {}),
    cause: err,
  });
}

function sqlError(err: unknown, sql: string): WeirError {
  if (isWeirError(err) && err.code.startsWith('WEIR-Q')) return err;
  return new WeirError(QUALITY_CODES.checkSqlError, `check query failed: ${errorMessage(err)}`, {
    cause: err,
    hint: 'fix the check arguments (column names, types, SQL in where/unexpected_rows_query)',
    ...(sql ? { data: { sql } } : {}),
  });
}

function errorResult(spec: CheckSpec, error: WeirError, durationMs: number): CheckResult {
  return {
    id: spec.id,
    name: spec.name,
    type: spec.type,
    ...(spec.column ? { column: spec.column } : {}),
    severity: spec.severity,
    origin: spec.origin ?? 'schema',
    status: 'error',
    success: null,
    failures: null,
    partialUnexpectedList: [],
    sampleRows: [],
    rowLevel: false,
    message: `error: ${error.message}`,
    error: new WeirError(error.code, `${spec.name}: ${error.message}`, {
      ...(spec.at ? { at: spec.at } : error.at ? { at: error.at } : {}),
      ...(error.hint ? { hint: error.hint } : {}),
      cause: error,
      ...(error.data ? { data: error.data } : {}),
    }),
    durationMs,
    ...(spec.at ? { at: spec.at } : {}),
  };
}

/** One line per sample row, for messages. */
export function formatSampleRows(rows: ReadonlyArray<Readonly<Record<string, SqlValue>>>, max = 5): string {
  return rows
    .slice(0, max)
    .map(
      (r) =>
        `    ${Object.entries(r)
          .map(([k, v]) => `${k}=${formatObserved(v)}`)
          .join(', ')}`,
    )
    .join('\n');
}
