import pc from 'picocolors';
import { formatError } from '../core/errors.js';
import type { RunEvent, NodeResult } from '../orchestrate/run.js';
import { formatDuration } from './format.js';

/**
 * Shows a run as it happens. On a terminal: finished nodes scroll above a live status line
 * listing what is running. Elsewhere: one plain line per finished node.
 */
export class Progress {
  private total = 0;
  private done = 0;
  private readonly running = new Map<string, number>();
  private statusShown = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly live: boolean,
  ) {}

  handle(event: RunEvent): void {
    switch (event.type) {
      case 'run_started':
        this.total = event.total ?? 0;
        if (this.live) this.timer = setInterval(() => this.redraw(), 250);
        this.print(pc.dim(`Running ${this.total} node${this.total === 1 ? '' : 's'} (run ${event.runId})`));
        break;
      case 'node_started':
        if (event.node) this.running.set(event.node.name, performance.now());
        this.redraw();
        break;
      case 'node_finished':
        if (event.node) this.running.delete(event.node.name);
        if (event.result) {
          this.done++;
          this.print(this.line(event.result));
        }
        break;
      case 'run_finished':
        if (this.timer) clearInterval(this.timer);
        this.clearStatus();
        break;
    }
  }

  private line(r: NodeResult): string {
    const idx = `${String(this.done).padStart(String(this.total).length)} of ${this.total}`;
    const label = r.resourceType === 'test' ? `test ${r.name}` : `${r.resourceType} ${r.asset ?? r.name}`;
    const status = statusLabel(r.status);
    const detail = r.status === 'skipped' ? r.message : r.message.split('\n')[0];
    return `${pc.dim(idx)} ${status} ${label} ${pc.dim(`${detail} [${formatDuration(r.durationMs)}]`)}`;
  }

  private print(text: string): void {
    this.clearStatus();
    this.out.write(`${text}\n`);
    this.redraw();
  }

  private clearStatus(): void {
    if (this.live && this.statusShown) {
      this.out.write('\r\x1b[2K');
      this.statusShown = false;
    }
  }

  private redraw(): void {
    if (!this.live || this.running.size === 0) return;
    const now = performance.now();
    const names = [...this.running.entries()].map(([n, t]) => `${n} ${formatDuration(now - t)}`);
    const width = this.out.columns || 100;
    const count = ` (${this.done}/${this.total})`;
    let list = names.join(', ');
    const room = width - 'running '.length - count.length - 1;
    if (list.length > room) list = `${list.slice(0, Math.max(0, room - 1))}…`;
    const text = `${pc.cyan('running')} ${list}${pc.dim(count)}`;
    this.out.write(`\r\x1b[2K${text}`);
    this.statusShown = true;
  }
}

export function statusLabel(status: string): string {
  switch (status) {
    case 'success':
      return pc.green('OK   ');
    case 'pass':
      return pc.green('PASS ');
    case 'warn':
      return pc.yellow('WARN ');
    case 'fail':
      return pc.red('FAIL ');
    case 'error':
      return pc.red('ERROR');
    case 'skipped':
      return pc.yellow('SKIP ');
    default:
      return status.toUpperCase().padEnd(5);
  }
}

export function summaryLines(results: readonly NodeResult[], elapsedMs: number, debug = false): string[] {
  const count = (s: string): number => results.filter((r) => r.status === s).length;
  const parts = [
    `${count('success')} ok`,
    `${count('pass')} passed`,
    `${count('warn')} warned`,
    `${count('fail')} failed`,
    `${count('error')} errored`,
    `${count('skipped')} skipped`,
  ];
  const lines = [`Done in ${formatDuration(elapsedMs)}: ${parts.join(', ')}`];
  for (const r of results) {
    if (r.status === 'error' && r.error) {
      lines.push('', pc.red(formatError(r.error)));
      if (debug) lines.push(pc.dim(stackOf(r.error)));
    } else if (r.status === 'fail') lines.push('', pc.red(`[WEIR-R001] test ${r.name} failed: ${r.message}`));
  }
  return lines;
}

/** The stack of an error and of its causes (for --debug). */
function stackOf(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  while (e instanceof Error && parts.length < 5) {
    if (e.stack) parts.push(e.stack);
    e = e.cause;
  }
  return parts.join('\ncaused by: ');
}
