import pc from 'picocolors';

/** A line on stdout: command output. */
export function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A warning line on stderr. */
export function warnLine(text: string): void {
  process.stderr.write(`${pc.yellow(text)}\n`);
}

/** Renders rows as an aligned text table (for `show`, `query`, `runs`, `ls`). */
export function renderTable(
  columns: readonly string[],
  rows: ReadonlyArray<object>,
  options: { maxWidth?: number } = {},
): string {
  const maxWidth = options.maxWidth ?? 40;
  const cells = rows.map((r) =>
    columns.map((c) => truncate(formatValue((r as Record<string, unknown>)[c]), maxWidth)),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [pc.bold(line(columns)), widths.map((w) => '─'.repeat(w)).join('  ')];
  for (const row of cells) out.push(line(row));
  return out.join('\n');
}

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object')
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
