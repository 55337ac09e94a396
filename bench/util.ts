import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(REPO_ROOT, 'dist/bin/weir.cjs');

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Wall time of one CLI invocation in ms; throws with its output when it fails. */
export function timeCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): number {
  const t0 = performance.now();
  const res = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  const ms = performance.now() - t0;
  if (res.status !== 0)
    throw new Error(`weir ${args.join(' ')} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  return ms;
}

/** Wall time of one `node` process in ms; with `check`, throws with its output when it fails. */
export function timeNode(args: readonly string[], check = false): number {
  const t0 = performance.now();
  const res = spawnSync(process.execPath, args as string[], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (check && res.status !== 0)
    throw new Error(`node ${args.join(' ')} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  return ms;
}

export function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}
