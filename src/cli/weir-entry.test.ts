import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
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
const { execSync } = require('node:child_process');
const { open, stat } = require('node:fs/promises');
(async () => {
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
})();
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-entry-'));
  await copyFile(ENTRY, join(dir, 'weir.cjs'));
  await writeFile(join(dir, 'weir-bundle.cjs'), PROBE);
  // The same size set too late: from an ES module entry, after the pool has started.
  await writeFile(
    join(dir, 'late.mjs'),
    "process.env.UV_THREADPOOL_SIZE = '16';\nawait import('./weir-bundle.cjs');\n",
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(file: string, args: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): string {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PROBE_DIR: dir,
    WEIR_COMPILE_CACHE_DIR: join(dir, 'cache'),
    ...extraEnv,
  };
  delete env['UV_THREADPOOL_SIZE'];
  const res = spawnSync(process.execPath, [join(dir, file), ...args], {
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
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

describe('the code cache of the weir entry', () => {
  let cdir: string;
  beforeAll(async () => {
    cdir = await mkdtemp(join(tmpdir(), 'weir-entry-cache-'));
    await copyFile(ENTRY, join(cdir, 'weir.cjs'));
    await writeFile(
      join(cdir, 'weir-bundle.cjs'),
      "const greet = (who) => 'hello ' + who;\nprocess.stdout.write(greet(process.argv[2]) + ' ' + typeof require + ' ' + __filename);\n",
    );
  });
  afterAll(async () => {
    await rm(cdir, { recursive: true, force: true });
  });

  const entry = (args: string[], cacheDir: string): string => {
    const res = spawnSync(process.execPath, [join(cdir, 'weir.cjs'), ...args], {
      env: { ...process.env, WEIR_COMPILE_CACHE_DIR: cacheDir },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.status, res.stderr).toBe(0);
    return res.stdout;
  };

  it('writes one cache per command, uses it on the next run, and rewrites a damaged one', async () => {
    const cache = join(cdir, 'cache');
    expect(entry(['build'], cache)).toBe(`hello build function ${join(cdir, 'weir-bundle.cjs')}`);
    const [file] = await readdir(cache);
    expect(file).toMatch(/-build\.bin$/);
    const path = join(cache, file as string);
    const written = await stat(path);

    // accepted: the same output, the file left as it was
    expect(entry(['build'], cache)).toBe(`hello build function ${join(cdir, 'weir-bundle.cjs')}`);
    expect((await stat(path)).mtimeMs).toBe(written.mtimeMs);

    // damaged: V8 refuses it, the bundle compiles from source and the cache is written again
    await writeFile(path, 'not code');
    expect(entry(['build'], cache)).toBe(`hello build function ${join(cdir, 'weir-bundle.cjs')}`);
    expect((await stat(path)).size).toBe(written.size);

    expect(entry(['ls'], cache)).toContain('hello ls');
    expect((await readdir(cache)).sort()).toEqual([
      file,
      (file as string).replace(/-build\.bin$/, '-ls.bin'),
    ]);

    // a rebuilt bundle (another modification time) gets a new cache; the old build's are dropped
    const later = new Date(Date.now() + 60_000);
    await utimes(join(cdir, 'weir-bundle.cjs'), later, later);
    expect(entry(['build'], cache)).toContain('hello build');
    const after = await readdir(cache);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(file);
    expect(after[0]?.split('-')[0]).toBe(file?.split('-')[0]);
  });

  it('writes nothing when turned off', async () => {
    const cache = join(cdir, 'off');
    expect(entry(['build'], 'off')).toContain('hello build');
    await expect(stat(cache)).rejects.toThrow();
  });
});
