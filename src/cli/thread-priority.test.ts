import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('./thread-priority.ts', import.meta.url));
const ENGINE = fileURLToPath(new URL('../engine/duckdb/duckdb-engine.ts', import.meta.url));

/** Starts DuckDB's threads and libuv's pool, lowers the workers, prints every thread's nice value. */
const SCRIPT = `
import { readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { lowerWorkerThreadPriority } from ${JSON.stringify(MODULE)};
import { createDuckDbEngine } from ${JSON.stringify(ENGINE)};
const engine = await createDuckDbEngine({ threads: 2 });
const session = await engine.session();
await session.query('SELECT 42');
await stat('.');
const changed = lowerWorkerThreadPriority();
const nice = (tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16]);
const threads = readdirSync('/proc/self/task').map(Number);
console.log(JSON.stringify({
  changed,
  main: nice(process.pid),
  workers: threads.filter((t) => t !== process.pid).map(nice),
  again: lowerWorkerThreadPriority(),
}));
session.close();
await engine.close();
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-priority-'));
  await writeFile(join(dir, 'probe.mts'), SCRIPT);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function probe(env: NodeJS.ProcessEnv = {}): {
  changed: number;
  main: number;
  workers: number[];
  again: number;
} {
  const res = spawnSync(process.execPath, ['--import', 'jiti/register', join(dir, 'probe.mts')], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(res.status, res.stderr).toBe(0);
  return JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as ReturnType<typeof probe>;
}

describe.skipIf(process.platform !== 'linux')('lowerWorkerThreadPriority', () => {
  it('leaves the main thread as it is and lowers every other thread by 10, once', () => {
    const out = probe({ WEIR_WORKER_PRIORITY: '' });
    expect(out.changed).toBeGreaterThanOrEqual(5);
    expect(out.workers.length).toBe(out.changed);
    expect(out.workers.every((n) => n === Math.min(19, out.main + 10))).toBe(true);
    expect(out.again).toBe(0);
  });

  it('changes nothing with WEIR_WORKER_PRIORITY=same', () => {
    const out = probe({ WEIR_WORKER_PRIORITY: 'same' });
    expect(out.changed).toBe(0);
    expect(out.workers.every((n) => n === out.main)).toBe(true);
  });
});
