import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ENTRY = fileURLToPath(new URL('./weir.cjs', import.meta.url));

/**
 * Stands in for the bundle: holds 5 pool threads (opening a FIFO for reading blocks until a writer
 * comes), then asks for a file's status, which needs a sixth.
 */
const PROBE = `
import { execSync } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
const dir = process.env.PROBE_DIR;
const fifos = [1, 2, 3, 4, 5].map((i) => dir + '/f' + i);
for (const f of fifos) execSync('rm -f ' + f + ' && mkfifo ' + f);
const held = fifos.map((f) => open(f, 'r'));
const outcome = await Promise.race([
  stat(dir).then(() => 'free'),
  new Promise((r) => setTimeout(() => r('blocked'), 500)),
]);
for (const f of fifos) execSync("sh -c 'echo x > " + f + "' &");
for (const h of await Promise.all(held)) await h.close();
process.stdout.write(outcome + ' ' + process.env.UV_THREADPOOL_SIZE);
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-entry-'));
  await copyFile(ENTRY, join(dir, 'weir.cjs'));
  await writeFile(join(dir, 'weir.js'), PROBE);
  // The same size set too late: from an ES module entry, after the pool has started.
  await writeFile(
    join(dir, 'late.mjs'),
    "process.env.UV_THREADPOOL_SIZE = '16';\nawait import('./weir.js');\n",
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(file: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env, PROBE_DIR: dir };
  delete env['UV_THREADPOOL_SIZE'];
  const res = spawnSync(process.execPath, [join(dir, file)], { env, encoding: 'utf8', timeout: 20_000 });
  expect(res.status, res.stderr).toBe(0);
  return res.stdout;
}

describe('the weir entry (dist/bin/weir.cjs)', () => {
  it.skipIf(process.platform === 'win32')(
    'sizes the thread pool before the bundle loads, so work beyond 4 pool threads is not queued',
    () => {
      execFileSync('mkfifo', ['--version']);
      const [outcome, size] = run('weir.cjs').split(' ');
      expect(Number(size)).toBeGreaterThanOrEqual(8);
      expect(outcome).toBe('free');
      // Control: the same size set from an ES module entry has no effect.
      expect(run('late.mjs').split(' ')[0]).toBe('blocked');
    },
  );
});
