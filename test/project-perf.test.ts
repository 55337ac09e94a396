import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../src/project/index.js';

const FOLDERS = 20;
const MODELS_PER_FOLDER = 50;

/** A generated project: 1,000 models in 20 folders, a schema.yml per folder, seeds, sources, docs. */
async function generate(root: string): Promise<void> {
  const writes: Promise<void>[] = [];
  const put = (rel: string, text: string): void => {
    writes.push(writeFile(join(root, rel), text));
  };
  await mkdir(join(root, 'seeds'), { recursive: true });
  await mkdir(join(root, 'models', 'docs'), { recursive: true });
  for (let f = 0; f < FOLDERS; f++) await mkdir(join(root, 'models', `area_${f}`), { recursive: true });

  const folderConfigs = Array.from(
    { length: FOLDERS },
    (_, f) => `    area_${f}:\n      +materialized: ${f % 2 ? 'table' : 'view'}\n      +tags: [area_${f}]\n`,
  ).join('');
  put('dbt_project.yml', `name: big\nprofile: big\nmodels:\n  big:\n    +tags: [big]\n${folderConfigs}`);
  put(
    'models/docs/docs.md',
    Array.from({ length: 50 }, (_, i) => `{% docs doc_${i} %}\nDoc ${i}\n{% enddocs %}\n`).join('\n'),
  );
  put(
    'models/sources.yml',
    `version: 2\nsources:\n  - name: raw\n    tables:\n${Array.from({ length: 20 }, (_, i) => `      - name: t${i}\n        columns:\n          - name: id\n            tests: [not_null]\n`).join('')}`,
  );
  for (let s = 0; s < 10; s++) put(`seeds/seed_${s}.csv`, 'id,name\n1,a\n');

  for (let f = 0; f < FOLDERS; f++) {
    const entries: string[] = [];
    for (let m = 0; m < MODELS_PER_FOLDER; m++) {
      const name = `m_${f}_${m}`;
      const upstream = m === 0 ? `{{ source('raw', 't${f}') }}` : `{{ ref('m_${f}_${m - 1}') }}`;
      put(
        `models/area_${f}/${name}.sql`,
        `select id, ${m} as n, '{{ var("x", 1) }}' as v\nfrom ${upstream}\n`,
      );
      entries.push(
        `  - name: ${name}\n    description: "{{ doc('doc_${m % 50}') }}"\n    config:\n      tags: [generated]\n    columns:\n      - name: id\n        description: The key\n        tests:\n          - unique\n          - not_null\n      - name: n\n        tests:\n          - accepted_values:\n              values: [${m}]\n`,
      );
    }
    put(`models/area_${f}/schema.yml`, `version: 2\nmodels:\n${entries.join('')}`);
  }
  await Promise.all(writes);
}

describe('loading a 1,000-model project', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'weir-big-'));
    await generate(root);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is fast enough for a sub-second compile (generous bound)', async () => {
    const started = performance.now();
    const { project, diagnostics } = await loadProject(root, { env: {} });
    const firstMs = performance.now() - started;
    expect(diagnostics).toEqual([]);
    expect(project.models).toHaveLength(FOLDERS * MODELS_PER_FOLDER);
    expect(project.genericTests).toHaveLength(FOLDERS * MODELS_PER_FOLDER * 3 + 20);
    expect(project.seeds).toHaveLength(10);
    const sample = project.models.find((m) => m.name === 'm_3_7');
    expect(sample?.config.materialized).toBe('table');
    expect(sample?.tags).toEqual(['big', 'area_3', 'generated']);
    expect(sample?.description).toBe('Doc 7');

    // The suite runs test files in parallel on two cores, so the bound is on the best of three
    // loads: it is far above the ~0.1-0.3 s this takes, and still catches a real regression.
    const times = [firstMs];
    for (let n = 0; n < 2; n++) {
      const t = performance.now();
      await loadProject(root, { env: {} });
      times.push(performance.now() - t);
    }
    console.log(`loadProject, 1,000 models: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    expect(Math.min(...times)).toBeLessThan(1000);
    expect(firstMs).toBeLessThan(5000);
  });
});
