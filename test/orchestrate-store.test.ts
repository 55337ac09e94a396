import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openSqliteOrchestrationStore } from '../src/state/sqlite/sqlite-orchestration-store.js';
import { openSqliteStateStore } from '../src/state/sqlite/sqlite-state-store.js';
import { orchestrationStoreConformance } from './orchestration-store-conformance.js';

async function fixture() {
  const dir = await mkdtemp(join(tmpdir(), 'weir-orch-store-'));
  const path = join(dir, 'state.sqlite');
  const state = await openSqliteStateStore(path);
  await state.init();
  await state.close();
  return {
    store: await openSqliteOrchestrationStore(path),
    other: () => openSqliteOrchestrationStore(path),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

orchestrationStoreConformance('sqlite', fixture);

const storeModule = fileURLToPath(
  new URL('../src/state/sqlite/sqlite-orchestration-store.ts', import.meta.url),
);
const stateModule = fileURLToPath(new URL('../src/state/sqlite/sqlite-state-store.ts', import.meta.url));

describe('sqlite orchestration store under concurrent processes', () => {
  it('a daemon and several CLI-like processes writing at once never lock up; each tick is claimed once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-orch-conc-'));
    const path = join(dir, 'state.sqlite');
    try {
      const state = await openSqliteStateStore(path);
      await state.init();
      await state.close();
      const script = join(dir, 'worker.ts');
      await writeFile(
        script,
        `
import { openSqliteOrchestrationStore } from ${JSON.stringify(storeModule)};
import { openSqliteStateStore } from ${JSON.stringify(stateModule)};
const [path, me] = process.argv.slice(2);
const store = await openSqliteOrchestrationStore(path);
const state = await openSqliteStateStore(path);
let claimed = 0;
for (let i = 0; i < 150; i++) {
  await store.acquireLease('scheduler', me, 50, new Date());
  if (await store.claimTick({ pipeline: 'p', scheduledAt: String(i).padStart(4, '0'), firedAt: 'now', owner: me, runId: null })) claimed++;
  await store.putAttempt({ runId: me, stepId: 's', attempt: i + 1, attemptId: me + ':' + i, status: 'success', startedAt: 'x', finishedAt: null, retryDelayMs: null, error: null, errorCode: null });
  await state.createRun({ runId: me + '-' + i, command: 'build', status: 'running', args: {}, startedAt: new Date().toISOString(), finishedAt: null, error: null });
  await state.listRuns({ limit: 5 });
}
process.stdout.write(String(claimed));
await store.close();
await state.close();
`,
      );
      const workers = ['a', 'b', 'c', 'd'].map(
        (me) =>
          new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
            const child = spawn(process.execPath, ['--import', 'jiti/register', script, path, me], {
              cwd: fileURLToPath(new URL('..', import.meta.url)),
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            let out = '';
            let err = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            child.on('close', (code) => resolve({ code, out, err }));
          }),
      );
      const results = await Promise.all(workers);
      for (const r of results) expect(r.err).toBe('');
      expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
      expect(results.reduce((n, r) => n + Number(r.out), 0)).toBe(150);
      const store = await openSqliteOrchestrationStore(path);
      expect(await store.listTicks('p', 1000)).toHaveLength(150);
      expect(await store.listAttempts('a')).toHaveLength(150);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
