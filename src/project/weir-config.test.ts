import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Diagnostics } from '../core/diagnostics.js';
import { defaultWeirConfig, loadWeirConfig } from './weir-config.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const files = new Set(['weir.config.ts']);

describe('weir.config.ts', () => {
  it('is optional', async () => {
    const diags = new Diagnostics();
    expect(await loadWeirConfig(dir, new Set(), diags)).toEqual(defaultWeirConfig(dir));
    expect(defaultWeirConfig(dir)).toEqual({
      lakeRoot: join(dir, '.weir', 'lake'),
      state: { type: 'sqlite', path: join(dir, '.weir', 'state.sqlite') },
      checkpointInterval: 10,
    });
  });

  it("loads a TypeScript config importing defineConfig from 'weir' without node_modules", async () => {
    await writeFile(
      join(dir, 'weir.config.ts'),
      [
        "import { defineConfig } from 'weir';",
        'const threads: number = 4;',
        "export default defineConfig({ lake: './lake', state: { type: 'sqlite', path: 'state/s.sqlite' }, threads, checkpointInterval: 5 });",
      ].join('\n'),
    );
    const diags = new Diagnostics();
    const config = await loadWeirConfig(dir, files, diags);
    expect(diags.items).toEqual([]);
    expect(config).toEqual({
      lakeRoot: join(dir, 'lake'),
      state: { type: 'sqlite', path: join(dir, 'state', 's.sqlite') },
      threads: 4,
      checkpointInterval: 5,
      configFile: join(dir, 'weir.config.ts'),
    });
  });

  it('reports invalid values and unknown keys naming the file, the key and its line', async () => {
    await writeFile(
      join(dir, 'weir.config.ts'),
      [
        "import { defineConfig } from 'weir';",
        'export default defineConfig({',
        "  lake: './lake',",
        '  threads: -2,',
        '  // @ts-expect-error: a typo the type checker would catch',
        '  checkpointIntervall: 3,',
        '});',
      ].join('\n'),
    );
    const diags = new Diagnostics();
    const config = await loadWeirConfig(dir, files, diags);
    expect(config.lakeRoot).toBe(join(dir, '.weir', 'lake'));
    const byMessage = diags.items.map((d) => [d.code, d.at?.file, d.at?.line, d.message]);
    expect(byMessage).toHaveLength(2);
    expect(byMessage).toContainEqual([
      'WEIR-P040',
      'weir.config.ts',
      4,
      expect.stringContaining("'threads'"),
    ]);
    expect(byMessage).toContainEqual([
      'WEIR-P040',
      'weir.config.ts',
      6,
      expect.stringMatching(/'checkpointIntervall'.*Did you mean 'checkpointInterval'/),
    ]);
  });

  it('reports a config that throws while loading', async () => {
    await writeFile(join(dir, 'weir.config.ts'), "throw new Error('boom');\nexport default {};\n");
    const diags = new Diagnostics();
    await loadWeirConfig(dir, files, diags);
    expect(diags.items).toMatchObject([{ code: 'WEIR-P041', at: { file: 'weir.config.ts' } }]);
    expect(diags.items[0]?.message).toContain('boom');
  });
});
