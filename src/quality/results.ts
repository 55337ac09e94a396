import { formatLocation } from '../core/errors.js';
import type { CheckRecord } from '../core/quality-store.js';
import type { CheckResult, GeResult } from './types.js';
import { toGeResult } from './types.js';
import { compareText } from '../core/compare.js';

/*
 * Check results as users read them after a run: one row per check, rendered as a text table (CLI),
 * one GE-style JSON document, or JUnit XML for CI systems.
 */

export const RESULT_STATUSES = ['pass', 'warn', 'fail', 'error', 'skipped'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

/** One check's outcome on one table, whatever produced it (audit, test batch, singular test). */
export interface CheckRow {
  readonly asset: string;
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly column?: string;
  readonly severity: string;
  readonly origin: string;
  readonly status: ResultStatus;
  /** GE `success`; null when the check errored or was skipped. */
  readonly success: boolean | null;
  readonly observedValue?: unknown;
  readonly elementCount?: number;
  readonly unexpectedCount?: number;
  readonly unexpectedPercent?: number | null;
  readonly missingCount?: number;
  readonly missingPercent?: number | null;
  readonly failures: number | null;
  readonly message: string;
  /** GE `partial_unexpected_list`. */
  readonly samples: readonly unknown[];
  readonly sampleRows: ReadonlyArray<Readonly<Record<string, unknown>>>;
  readonly kwargs: Readonly<Record<string, unknown>>;
  readonly durationMs: number;
  /** `file:line` of the declaration. */
  readonly location?: string;
}

export function checkRowOf(
  asset: string,
  r: CheckResult,
  kwargs: Readonly<Record<string, unknown>> = {},
): CheckRow {
  return {
    asset,
    id: r.id,
    name: r.name,
    type: r.type,
    ...(r.column !== undefined ? { column: r.column } : {}),
    severity: r.severity,
    origin: r.origin,
    status: r.status,
    success: r.success,
    ...(r.observedValue !== undefined ? { observedValue: r.observedValue } : {}),
    ...(r.elementCount !== undefined ? { elementCount: r.elementCount } : {}),
    ...(r.unexpectedCount !== undefined
      ? { unexpectedCount: r.unexpectedCount, unexpectedPercent: r.unexpectedPercent ?? null }
      : {}),
    ...(r.missingCount !== undefined
      ? { missingCount: r.missingCount, missingPercent: r.missingPercent ?? null }
      : {}),
    failures: r.failures,
    message: r.status === 'error' && r.error ? r.error.message : r.message,
    samples: r.partialUnexpectedList,
    sampleRows: r.sampleRows,
    kwargs,
    durationMs: r.durationMs,
    ...(r.at ? { location: formatLocation(r.at) } : {}),
  };
}

/** A stored record (history) as a row; the percentage is not stored, so it is left out. */
export function checkRowOfRecord(rec: CheckRecord): CheckRow {
  const status = (RESULT_STATUSES as readonly string[]).includes(rec.status)
    ? (rec.status as ResultStatus)
    : 'error';
  const rowSamples = rec.samples.filter((s): s is Record<string, unknown> => isPlainObject(s));
  return {
    asset: rec.asset,
    id: rec.checkId,
    name: rec.name,
    type: rec.type,
    ...(rec.column !== null ? { column: rec.column } : {}),
    severity: rec.severity,
    origin: rec.origin,
    status,
    success: status === 'error' || status === 'skipped' ? null : status === 'pass',
    ...(rec.observedValue !== null ? { observedValue: rec.observedValue } : {}),
    ...(rec.elementCount !== null ? { elementCount: rec.elementCount } : {}),
    ...(rec.unexpectedCount !== null ? { unexpectedCount: rec.unexpectedCount } : {}),
    failures: rec.failures,
    message: rec.message,
    samples: rowSamples.length === rec.samples.length && rowSamples.length > 0 ? [] : rec.samples,
    sampleRows: rowSamples.length === rec.samples.length ? rowSamples : [],
    kwargs: {},
    durationMs: 0,
  };
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Sorted by table, then check name: stable output for diffs and CI logs. */
export function sortRows(rows: readonly CheckRow[]): CheckRow[] {
  return [...rows].sort((a, b) => compareText(a.asset, b.asset) || compareText(a.name, b.name));
}

/** A value as one short line (numbers rounded to 4 significant decimals, JSON for the rest). */
export function displayValue(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/** The cells of the results table (plain strings). */
export function resultCells(
  row: CheckRow,
): Record<'table' | 'check' | 'status' | 'observed' | 'unexpected', string> {
  let unexpected = '';
  if (row.unexpectedCount !== undefined) {
    const pct = row.unexpectedPercent;
    unexpected = `${row.unexpectedCount}${pct !== undefined && pct !== null ? ` (${displayValue(pct)}%)` : ''}`;
  } else if (row.failures !== null && row.status !== 'pass') {
    unexpected = `${row.failures} failing`;
  }
  const observed =
    row.observedValue !== undefined
      ? displayValue(row.observedValue)
      : row.status === 'error'
        ? (row.message.split('\n')[0] ?? '').replace(`${row.name}: `, '')
        : '';
  return { table: row.asset, check: row.name, status: row.status, observed, unexpected };
}

export interface ResultCounts {
  readonly pass: number;
  readonly warn: number;
  readonly fail: number;
  readonly error: number;
  readonly skipped: number;
}

export function countStatuses(rows: readonly CheckRow[]): ResultCounts {
  const n = (s: ResultStatus): number => rows.filter((r) => r.status === s).length;
  return { pass: n('pass'), warn: n('warn'), fail: n('fail'), error: n('error'), skipped: n('skipped') };
}

/** GE's validation result of one check, with Weir's fields under `meta`. */
export interface GeCheckResult extends GeResult {
  readonly meta: Readonly<Record<string, unknown>>;
}

export interface ResultsDocument {
  readonly run_id: string;
  readonly success: boolean;
  readonly statistics: {
    readonly evaluated_expectations: number;
    readonly successful_expectations: number;
    readonly unsuccessful_expectations: number;
    readonly success_percent: number | null;
  };
  readonly counts: ResultCounts;
  readonly results: readonly GeCheckResult[];
}

/**
 * One JSON document in the shape of GE's `ExpectationSuiteValidationResult`: `success` is false when
 * any check failed or errored (warnings do not fail a run, as in dbt); skipped checks are not counted
 * as evaluated.
 */
export function resultsDocument(runId: string, rows: readonly CheckRow[]): ResultsDocument {
  const sorted = sortRows(rows);
  const counts = countStatuses(sorted);
  const evaluated = sorted.length - counts.skipped;
  const successful = sorted.filter((r) => r.success === true).length;
  return {
    run_id: runId,
    success: counts.fail === 0 && counts.error === 0,
    statistics: {
      evaluated_expectations: evaluated,
      successful_expectations: successful,
      unsuccessful_expectations: evaluated - successful,
      success_percent: evaluated ? (successful / evaluated) * 100 : null,
    },
    counts,
    results: sorted.map((r) => geResultOf(r)),
  };
}

function geResultOf(row: CheckRow): GeCheckResult {
  const base = toGeResult(
    {
      id: row.id,
      name: row.name,
      type: row.type,
      ...(row.column !== undefined ? { column: row.column } : {}),
      severity: row.severity === 'warn' ? 'warn' : 'error',
      origin: 'schema',
      status: row.status === 'skipped' ? 'error' : row.status,
      success: row.success,
      ...(row.observedValue !== undefined ? { observedValue: row.observedValue } : {}),
      ...(row.elementCount !== undefined ? { elementCount: row.elementCount } : {}),
      ...(row.unexpectedCount !== undefined
        ? { unexpectedCount: row.unexpectedCount, unexpectedPercent: row.unexpectedPercent ?? null }
        : {}),
      ...(row.missingCount !== undefined
        ? { missingCount: row.missingCount, missingPercent: row.missingPercent ?? null }
        : {}),
      failures: row.failures,
      partialUnexpectedList: row.samples as CheckResult['partialUnexpectedList'],
      sampleRows: [],
      rowLevel: false,
      message: row.message,
      durationMs: row.durationMs,
    },
    row.kwargs,
  );
  return {
    ...base,
    exception_info: {
      raised_exception: row.status === 'error',
      exception_message: row.status === 'error' ? row.message : null,
    },
    meta: {
      asset: row.asset,
      check: row.name,
      check_id: row.id,
      status: row.status,
      severity: row.severity,
      origin: row.origin,
      message: row.message,
      failures: row.failures,
      ...(row.sampleRows.length ? { sample_rows: row.sampleRows } : {}),
      ...(row.location ? { location: row.location } : {}),
      duration_ms: Math.round(row.durationMs * 1000) / 1000,
    },
  };
}

/** JSON.stringify for result documents: bigint as number when safe, else as string. */
export function resultsJson(doc: unknown): string {
  return JSON.stringify(
    doc,
    (_k, v: unknown) =>
      typeof v === 'bigint'
        ? v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
          ? Number(v)
          : v.toString()
        : v instanceof Uint8Array
          ? Buffer.from(v).toString('hex')
          : v,
    2,
  );
}

/** Characters XML 1.0 forbids even when escaped. */
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function xmlEscape(text: string): string {
  return text
    .replace(XML_INVALID, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** The failure text of a check: its message, the counts, and the samples (values, then rows). */
export function failureDetail(row: CheckRow): string {
  const lines = [`${row.type}${row.column ? ` on column ${row.column}` : ''}: ${row.message}`];
  if (row.location) lines.push(`declared at ${row.location}`);
  const cells = resultCells(row);
  if (cells.observed && row.status !== 'error') lines.push(`observed value: ${cells.observed}`);
  if (cells.unexpected) lines.push(`unexpected: ${cells.unexpected}`);
  if (row.samples.length) lines.push(`sample unexpected values: ${row.samples.map(displayValue).join(', ')}`);
  if (row.sampleRows.length) {
    lines.push('sample rows:');
    for (const r of row.sampleRows)
      lines.push(
        `  ${Object.entries(r)
          .map(([k, v]) => `${k}=${displayValue(v)}`)
          .join(', ')}`,
      );
  }
  return lines.join('\n');
}

/**
 * JUnit XML (the Ant/Jenkins dialect GitLab, GitHub and Jenkins read): one `<testsuite>` per table,
 * one `<testcase>` per check. `fail` is a `<failure>`, `error` an `<error>`, `skipped` a `<skipped>`;
 * `warn` passes (JUnit has no warning) and carries its detail in `<system-out>`.
 */
export function junitXml(runId: string, rows: readonly CheckRow[], suiteName = 'weir test'): string {
  const sorted = sortRows(rows);
  const byAsset = new Map<string, CheckRow[]>();
  for (const r of sorted) byAsset.set(r.asset, [...(byAsset.get(r.asset) ?? []), r]);
  const total = countStatuses(sorted);
  const time = (rs: readonly CheckRow[]): string => seconds(rs.reduce((s, r) => s + r.durationMs, 0));
  const a = (name: string, value: string | number): string => ` ${name}="${xmlEscape(String(value))}"`;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites${a('name', suiteName)}${a('tests', sorted.length)}${a('failures', total.fail)}${a('errors', total.error)}${a('skipped', total.skipped)}${a('time', time(sorted))}>`,
  );
  let suiteId = 0;
  for (const [asset, rs] of byAsset) {
    const c = countStatuses(rs);
    out.push(
      `  <testsuite${a('name', asset)}${a('id', suiteId++)}${a('tests', rs.length)}${a('failures', c.fail)}${a('errors', c.error)}${a('skipped', c.skipped)}${a('time', time(rs))}>`,
    );
    out.push(`    <properties><property${a('name', 'run_id')}${a('value', runId)}/></properties>`);
    for (const r of rs) {
      const head = `    <testcase${a('classname', asset)}${a('name', r.name)}${a('time', seconds(r.durationMs))}`;
      const firstLine = r.message.split('\n')[0] ?? '';
      switch (r.status) {
        case 'pass':
          out.push(`${head}/>`);
          break;
        case 'warn':
          out.push(
            `${head}>`,
            `      <system-out>${xmlEscape(`WARN ${failureDetail(r)}`)}</system-out>`,
            '    </testcase>',
          );
          break;
        case 'fail':
          out.push(
            `${head}>`,
            `      <failure${a('message', firstLine)}${a('type', r.type)}>${xmlEscape(failureDetail(r))}</failure>`,
            '    </testcase>',
          );
          break;
        case 'error':
          out.push(
            `${head}>`,
            `      <error${a('message', firstLine)}${a('type', r.type)}>${xmlEscape(failureDetail(r))}</error>`,
            '    </testcase>',
          );
          break;
        case 'skipped':
          out.push(`${head}>`, `      <skipped${a('message', firstLine)}/>`, '    </testcase>');
          break;
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
