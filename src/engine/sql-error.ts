import { WeirError, errorMessage, type WeirErrorOptions } from '../core/errors.js';

/** What kind of failure the engine reported, from the prefix of its message (`Binder Error: ...`). */
export const SQL_ERROR_KINDS = [
  'parser',
  'binder',
  'catalog',
  'conversion',
  'constraint',
  'interrupt',
  'other',
] as const;
export type SqlErrorKind = (typeof SQL_ERROR_KINDS)[number];

export const SQL_ERROR_CODE = 'WEIR-E001';
export const SQL_INTERRUPTED_CODE = 'WEIR-E002';
export const SQL_SESSION_BUSY_CODE = 'WEIR-E003';

const PREFIX_KINDS: ReadonlyArray<readonly [RegExp, SqlErrorKind]> = [
  [/^Parser Error:/i, 'parser'],
  [/^Binder Error:/i, 'binder'],
  [/^Catalog Error:/i, 'catalog'],
  [/^Conversion Error:/i, 'conversion'],
  [/^Constraint Error:/i, 'constraint'],
  [/^INTERRUPT Error:/i, 'interrupt'],
];

const HINTS: Readonly<Record<SqlErrorKind, string>> = {
  parser: 'Fix the SQL syntax near the reported line.',
  binder: 'Check column and function names and their types against the upstream models.',
  catalog: 'Check that the referenced table, view or schema exists (was its model built?).',
  conversion: 'A value could not be cast; filter or clean the offending rows, or use TRY_CAST.',
  constraint: 'A row violates a constraint (NOT NULL, UNIQUE, CHECK); inspect the data that was written.',
  interrupt: 'The statement was cancelled (timeout or user request); re-run it when ready.',
  other: 'Read the engine message above; re-run with --log-level debug to see the statement.',
};

export interface SqlErrorOptions extends Omit<WeirErrorOptions, 'hint'> {
  readonly sql: string;
  readonly engineMessage: string;
  readonly kind: SqlErrorKind;
  readonly sqlLine?: number;
  readonly hint?: string;
  /** Overrides the code derived from `kind` (E001, or E002 when interrupted). */
  readonly code?: string;
}

/**
 * A statement the engine refused or failed to run. Raised by engine adapters and guaranteed by
 * the runtime wrapper, so callers (the orchestrator) catch one type whatever the engine.
 */
export class SqlError extends WeirError {
  readonly sql: string;
  readonly engineMessage: string;
  readonly kind: SqlErrorKind;
  readonly sqlLine: number | undefined;

  constructor(options: SqlErrorOptions) {
    const code = options.code ?? (options.kind === 'interrupt' ? SQL_INTERRUPTED_CODE : SQL_ERROR_CODE);
    const firstLine = options.engineMessage.split('\n', 1)[0] ?? options.engineMessage;
    const where = options.sqlLine === undefined ? '' : ` (SQL line ${options.sqlLine})`;
    super(code, `${firstLine}${where}`, {
      ...options,
      hint: options.hint ?? HINTS[options.kind],
      data: { ...options.data, sql: options.sql, kind: options.kind, sqlLine: options.sqlLine },
    });
    this.name = 'SqlError';
    this.sql = options.sql;
    this.engineMessage = options.engineMessage;
    this.kind = options.kind;
    this.sqlLine = options.sqlLine;
  }
}

export function sqlErrorKind(engineMessage: string): SqlErrorKind {
  for (const [re, kind] of PREFIX_KINDS) if (re.test(engineMessage)) return kind;
  return 'other';
}

/** 1-based line of the statement DuckDB points at (`LINE 3: ...`), when it says. */
export function sqlErrorLine(engineMessage: string): number | undefined {
  const m = /(?:^|\n)LINE (\d+):/.exec(engineMessage);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Wraps any thrown value into a SqlError once; an existing SqlError passes through unchanged. */
export function toSqlError(err: unknown, sql: string): SqlError {
  if (err instanceof SqlError) return err;
  const engineMessage = errorMessage(err);
  const sqlLine = sqlErrorLine(engineMessage);
  return new SqlError({
    sql,
    engineMessage,
    kind: sqlErrorKind(engineMessage),
    ...(sqlLine === undefined ? {} : { sqlLine }),
    cause: err,
  });
}
