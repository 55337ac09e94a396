import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MINIMAL_PROJECT, addFiles, runCli, writeProject } from './helpers/cli.js';

interface Manifest {
  nodes: Record<string, { compiled_code?: string }>;
}

async function compiled(dir: string): Promise<string | undefined> {
  const res = await runCli(['compile'], { cwd: dir });
  expect(res.code, res.stderr + res.stdout).toBe(0);
  const manifest = JSON.parse(await readFile(join(dir, 'target/manifest.json'), 'utf8')) as Manifest;
  return manifest.nodes['model.demo.orders']?.compiled_code?.trim();
}

describe('partial parsing (target/partial_parse.bin)', () => {
  it('keeps template trees between runs, parses changed files anew, and survives a damaged cache', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'macros/cents.sql': `{% macro cents(col) %}({{ col }} / 100){% endmacro %}`,
      'models/orders.sql': `{% set cols = ['a', 'b'] %}select {% for c in cols %}{{ cents(c) }} as {{ c }}{{ ',' if not loop.last }} {% endfor %}from (select 1 as a, 2 as b)`,
    });
    const cache = join(dir, 'target/partial_parse.bin');

    expect(await compiled(dir)).toBe('select (a / 100) as a, (b / 100) as b from (select 1 as a, 2 as b)');
    const written = await stat(cache);

    // nothing changed: the same SQL, from cached trees, and the cache is not written again
    expect(await compiled(dir)).toBe('select (a / 100) as a, (b / 100) as b from (select 1 as a, 2 as b)');
    expect((await stat(cache)).mtimeMs).toBe(written.mtimeMs);

    // a changed model and a changed macro are parsed anew
    await addFiles(dir, {
      'macros/cents.sql': `{% macro cents(col) %}round({{ col }} / 100, 2){% endmacro %}`,
      'models/orders.sql': `select {{ cents('a') }} as a from (select 1 as a)`,
    });
    expect(await compiled(dir)).toBe('select round(a / 100, 2) as a from (select 1 as a)');

    // a damaged cache is ignored and written anew
    await writeFile(cache, 'damaged');
    expect(await compiled(dir)).toBe('select round(a / 100, 2) as a from (select 1 as a)');
    expect((await stat(cache)).size).toBeGreaterThan(100);
  });
});
