/**
 * Every user-facing failure is a WeirError: a stable `code` (listed in docs/errors.md), a message
 * that says what went wrong, where (`at`), and a `hint` that says what to do next.
 */
export interface SourceLocation {
  /** Path relative to the project root where possible. */
  readonly file: string;
  /** 1-based line. */
  readonly line?: number;
  /** 1-based column. */
  readonly column?: number;
}

export interface WeirErrorOptions {
  readonly hint?: string;
  readonly at?: SourceLocation;
  /** The asset or node the error belongs to, e.g. `model.shop.stg_orders` or `staging.stg_orders`. */
  readonly node?: string;
  readonly cause?: unknown;
  /** Extra structured detail (SQL text, column names, ...). Never secrets. */
  readonly data?: Readonly<Record<string, unknown>>;
}

export class WeirError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly at: SourceLocation | undefined;
  readonly node: string | undefined;
  readonly data: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, options: WeirErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WeirError';
    this.code = code;
    this.hint = options.hint;
    this.at = options.at;
    this.node = options.node;
    this.data = options.data;
  }
}

export function formatLocation(at: SourceLocation | undefined): string {
  if (!at) return '';
  let out = at.file;
  if (at.line !== undefined) out += `:${at.line}`;
  if (at.line !== undefined && at.column !== undefined) out += `:${at.column}`;
  return out;
}

/** One-paragraph rendering used by the CLI and logs: `[CODE] file:line: message\n  hint: ...`. */
export function formatError(err: WeirError): string {
  const where = formatLocation(err.at);
  const head = `[${err.code}] ${where ? `${where}: ` : ''}${err.message}`;
  return err.hint ? `${head}\n  hint: ${err.hint}` : head;
}

export function isWeirError(value: unknown): value is WeirError {
  return value instanceof WeirError;
}

/** Message of any thrown value, without a stack. */
export function errorMessage(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}
