import { WeirError, formatLocation, type SourceLocation } from './errors.js';

/**
 * Problems found while reading or compiling a project are data, not exceptions: they are
 * collected and reported all at once (see Malloy's parse log).
 */
export const SEVERITIES = ['error', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
  readonly at?: SourceLocation;
  readonly hint?: string;
  readonly node?: string;
}

export class Diagnostics {
  readonly items: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.items.push(d);
  }

  error(code: string, message: string, extra: Omit<Diagnostic, 'severity' | 'code' | 'message'> = {}): void {
    this.items.push({ severity: 'error', code, message, ...extra });
  }

  warning(
    code: string,
    message: string,
    extra: Omit<Diagnostic, 'severity' | 'code' | 'message'> = {},
  ): void {
    this.items.push({ severity: 'warning', code, message, ...extra });
  }

  fromError(err: WeirError): void {
    this.items.push({
      severity: 'error',
      code: err.code,
      message: err.message,
      ...(err.at ? { at: err.at } : {}),
      ...(err.hint ? { hint: err.hint } : {}),
      ...(err.node ? { node: err.node } : {}),
    });
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }

  /** Throws a DiagnosticsError carrying every error collected so far, if there is any. */
  throwIfErrors(): void {
    if (this.hasErrors) throw new DiagnosticsError(this.items);
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = formatLocation(d.at);
  const head = `${d.severity} [${d.code}] ${where ? `${where}: ` : ''}${d.message}`;
  return d.hint ? `${head}\n  hint: ${d.hint}` : head;
}

/** Several problems at once; its code is the first error's. */
export class DiagnosticsError extends WeirError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    super(
      first?.code ?? 'WEIR-P000',
      errors.length === 1 && first ? first.message : `${errors.length} problems found`,
      first?.at ? { at: first.at, ...(first.hint ? { hint: first.hint } : {}) } : {},
    );
    this.name = 'DiagnosticsError';
    this.diagnostics = diagnostics;
  }
}
