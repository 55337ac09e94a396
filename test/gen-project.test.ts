import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import nunjucks from 'nunjucks';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { BENCH_CATEGORIES, BENCH_LAYERS, generateProject, planProject } from '../bench/gen-project.js';
import type { GenerateProjectOptions } from '../bench/gen-project.js';

const REF = /\{\{\s*ref\(\s*'([^']+)'\s*\)\s*\}\}/g;
const CONFIG_MATERIALIZED = /config\(\s*materialized\s*=\s*'(\w+)'\s*\)/;

const dirs: string[] = [];
async function generate(options: GenerateProjectOptions): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-gen-project-'));
  dirs.push(dir);
  await generateProject(dir, options);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function readTree(dir: string, rel = ''): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = path.join(rel, entry.name);
    if (entry.isDirectory()) for (const [k, v] of await readTree(dir, child)) files.set(k, v);
    else files.set(child, await readFile(path.join(dir, child), 'utf8'));
  }
  return files;
}

interface ModelFile {
  readonly name: string;
  readonly layer: string;
  readonly sql: string;
  readonly refs: string[];
  readonly materialized: string;
}

/** Models as found on disk (not as planned), so the test checks what a reader of the folder sees. */
function modelsOnDisk(tree: Map<string, string>): Map<string, ModelFile> {
  const models = new Map<string, ModelFile>();
  for (const [file, sql] of tree) {
    const parts = file.split(path.sep);
    if (parts[0] !== 'models' || !file.endsWith('.sql')) continue;
    const name = path.basename(file, '.sql');
    const layer = parts[1] ?? '';
    const materialized = CONFIG_MATERIALIZED.exec(sql)?.[1] ?? (layer === 'staging' ? 'view' : 'table');
    models.set(name, { name, layer, sql, refs: [...sql.matchAll(REF)].map((m) => m[1] ?? ''), materialized });
  }
  return models;
}

function findCycle(models: Map<string, ModelFile>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const ref of models.get(name)?.refs ?? []) {
      const cycle = models.has(ref) ? visit(ref) : undefined;
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of models.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/** A dbt-like render: macros in scope, ref() to `schema.name` (or the CTE name of an ephemeral). */
function compile(tree: Map<string, string>, models: Map<string, ModelFile>, sql: string): string {
  const macros = [...tree].filter(([f]) => f.startsWith(`macros${path.sep}`)).map(([, text]) => text);
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  const context = {
    ref: (name: string) => {
      const model = models.get(name);
      if (!model) return `raw.${name}`;
      return model.materialized === 'ephemeral' ? `__dbt__cte__${name}` : `${model.layer}.${name}`;
    },
    config: () => '',
  };
  return env.renderString([...macros, sql].join('\n'), context);
}

describe('generateProject', () => {
  it('writes a 50-model dbt project whose refs all resolve, without cycles', async () => {
    const dir = await generate({ models: 50, seedRows: 20, seed: 7 });
    const tree = await readTree(dir);

    for (const file of ['dbt_project.yml', 'profiles.yml', path.join('macros', 'bench_helpers.sql')]) {
      expect(tree.has(file), file).toBe(true);
    }
    const seeds = [...tree.keys()]
      .filter((f) => f.startsWith(`seeds${path.sep}`))
      .map((f) => path.basename(f, '.csv'));
    expect(seeds.length).toBeGreaterThanOrEqual(2);
    for (const layer of BENCH_LAYERS)
      expect(tree.has(path.join('models', layer, 'schema.yml')), layer).toBe(true);

    const models = modelsOnDisk(tree);
    expect(models.size).toBe(50);
    const known = new Set([...models.keys(), ...seeds]);
    for (const model of models.values()) {
      expect(model.refs.length, model.name).toBeGreaterThanOrEqual(1);
      expect(model.refs.length, model.name).toBeLessThanOrEqual(3);
      expect(new Set(model.refs).size, `${model.name} refs a model twice`).toBe(model.refs.length);
      for (const ref of model.refs) expect(known.has(ref), `${model.name} -> ${ref}`).toBe(true);
      if (model.layer === 'staging') expect(seeds).toContain(model.refs[0]);
      else for (const ref of model.refs) expect(seeds, `${model.name} skips staging`).not.toContain(ref);
    }
    expect(findCycle(models)).toBeUndefined();

    const kinds = new Set(
      [...models.values()].filter((m) => m.layer !== 'staging').map((m) => m.materialized),
    );
    expect([...kinds].sort()).toEqual(['ephemeral', 'table', 'view']);
    const withLoops = [...models.values()].filter((m) => /\{%-?\s*for /.test(m.sql));
    expect(withLoops.length).toBe(50);

    // every test declared in schema.yml targets a generated, stored model
    for (const layer of BENCH_LAYERS) {
      const doc = parseYaml(tree.get(path.join('models', layer, 'schema.yml')) ?? '') as {
        models: { name: string }[];
      };
      for (const entry of doc.models) {
        expect(models.get(entry.name)?.layer, entry.name).toBe(layer);
        expect(models.get(entry.name)?.materialized, entry.name).not.toBe('ephemeral');
      }
    }
  });

  it('detects a cycle when one is introduced (the checker can fail)', async () => {
    const tree = await readTree(await generate({ models: 12, seedRows: 5, seed: 3 }));
    const models = modelsOnDisk(tree);
    const last = [...models.values()].at(-1);
    if (!last) throw new Error('expected models');
    expect(findCycle(models)).toBeUndefined();
    // follow first parents down to a staging model, then close the loop from it back to `last`
    let ancestor = last;
    for (let hops = 0; ancestor.layer !== 'staging' && hops < models.size; hops++) {
      ancestor = models.get(ancestor.refs[0] ?? '') ?? ancestor;
    }
    expect(ancestor.layer).toBe('staging');
    models.set(ancestor.name, { ...ancestor, refs: [...ancestor.refs, last.name] });
    expect(findCycle(models)).toContain(last.name);
  });

  it('is reproducible from its seed', async () => {
    const options = { models: 40, seedRows: 10, seed: 42 };
    const a = await readTree(await generate(options));
    const b = await readTree(await generate(options));
    const c = await readTree(await generate({ ...options, seed: 43 }));
    expect([...a.entries()]).toEqual([...b.entries()]);
    expect([...a.entries()]).not.toEqual([...c.entries()]);
    expect(planProject(options)).toEqual(planProject(options));
  });

  it('writes the same compiled SQL with or without macros and loops', async () => {
    const options = { models: 30, seedRows: 10, seed: 11 };
    const jinja = await readTree(await generate(options));
    const plain = await readTree(await generate({ ...options, withMacros: false, withLoops: false }));
    expect(plain.has(path.join('macros', 'bench_helpers.sql'))).toBe(false);
    const jinjaModels = modelsOnDisk(jinja);
    const plainModels = modelsOnDisk(plain);
    const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim();
    for (const [name, model] of plainModels) {
      expect(model.sql, name).not.toMatch(/\{%\s*for|\{\{\s*(cents_to_dollars|safe_ratio|amount_band)/);
      const viaJinja = compile(jinja, jinjaModels, jinjaModels.get(name)?.sql ?? '');
      expect(normalise(viaJinja), name).toBe(normalise(compile(plain, plainModels, model.sql)));
    }
  });

  it('builds in DuckDB with every declared test passing', async () => {
    const seedRows = 25;
    const dir = await generate({ models: 50, seedRows, seed: 5 });
    const tree = await readTree(dir);
    const models = modelsOnDisk(tree);
    const plan = planProject({ models: 50, seedRows, seed: 5 });
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const count = async (sql: string) =>
      Number((await db.runAndReadAll(`select count(*) as n from (${sql})`)).getRowObjectsJson()[0]?.n);
    try {
      for (const schema of ['raw', ...BENCH_LAYERS]) await db.run(`create schema ${schema}`);
      for (const seed of plan.seeds) {
        const file = path.join(dir, 'seeds', `${seed}.csv`).replaceAll("'", "''");
        await db.run(
          `create table raw.${seed} as select * from read_csv('${file}', header = true, ` +
            `types = {'amount_cents': 'BIGINT', 'created_at': 'TIMESTAMP'})`,
        );
      }
      const compiled = new Map<string, string>();
      const withEphemerals = (model: ModelFile, sql: string): string => {
        const ephemerals = model.refs.filter((r) => models.get(r)?.materialized === 'ephemeral');
        if (!ephemerals.length) return sql;
        const ctes = ephemerals.map((r) => `__dbt__cte__${r} as (${compiled.get(r) ?? ''})`);
        return `with ${ctes.join(', ')} select * from (${sql}) as model`;
      };
      // plan order is a topological order: every ref points to an earlier model
      for (const planned of plan.models) {
        const model = models.get(planned.name);
        if (!model) throw new Error(`missing ${planned.name}`);
        expect(model.materialized).toBe(planned.materialized);
        const sql = compile(tree, models, model.sql);
        compiled.set(model.name, sql);
        const relation = `${model.layer}.${model.name}`;
        const body = withEphemerals(model, sql);
        if (model.materialized === 'ephemeral') {
          expect(await count(body), model.name).toBe(seedRows);
          continue;
        }
        await db.run(`create ${model.materialized === 'view' ? 'view' : 'table'} ${relation} as ${body}`);
        // left joins on a unique id keep exactly the first parent's rows
        expect(await count(`select * from ${relation}`), model.name).toBe(seedRows);
      }

      let checks = 0;
      const accepted = BENCH_CATEGORIES.map((c) => `'${c}'`).join(', ');
      for (const layer of BENCH_LAYERS) {
        const doc = parseYaml(tree.get(path.join('models', layer, 'schema.yml')) ?? '') as {
          models: { name: string }[];
        };
        for (const { name } of doc.models) {
          const relation = `${layer}.${name}`;
          expect(await count(`select id from ${relation} group by id having count(*) > 1`), name).toBe(0);
          expect(await count(`select id from ${relation} where id is null`), name).toBe(0);
          expect(
            await count(`select category from ${relation} where category not in (${accepted})`),
            name,
          ).toBe(0);
          checks++;
        }
      }
      expect(checks).toBeGreaterThan(5);
      const singular = tree.get(path.join('tests', 'assert_amounts_not_negative.sql'));
      expect(singular).toBeDefined();
      expect(await count(compile(tree, models, singular ?? ''))).toBe(0);
    } finally {
      db.closeSync();
    }
  });

  it('rejects a non-positive model count', async () => {
    await expect(generateProject(os.tmpdir(), { models: 0 })).rejects.toThrow(
      /models must be a positive integer/,
    );
  });
});
