/**
 * `weir build` of a generated 200-model project of small tables against executing the same
 * compiled SQL straight through DuckDB in one process (a DuckDB file database, CREATE TABLE/VIEW
 * AS in dependency order, the same tests as count queries), measured in the same run. The headline
 * is `weir build` with its defaults (threads = cores + 2); `--threads <cores>` and `--threads 1`
 * are measured too. Targets: ratio <= 1.3x, median per-model overhead < 10 ms.
 *
 *   npm run build && node --import jiti/register bench/build.bench.ts
 */
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { generateProject } from './gen-project.js';
import { fmt, median, timeCli } from './util.js';

const MODELS = Number(process.env['MODELS'] ?? 200);
const RUNS = Number(process.env['RUNS'] ?? 5);
const CORES = availableParallelism();

interface ManifestJson {
  nodes: Record<
    string,
    {
      resource_type: string;
      config: { materialized?: string };
      schema: string | null;
      alias: string | null;
      compiled_code?: string;
      depends_on: { nodes: string[] };
      original_file_path: string;
    }
  >;
}

const dir = await mkdtemp(join(tmpdir(), 'weir-bench-build-'));
await generateProject(dir, { models: MODELS });
timeCli(['compile'], dir);
const manifest = JSON.parse(await readFile(join(dir, 'target/manifest.json'), 'utf8')) as ManifestJson;

// Topological order of the nodes the baseline executes.
const ids = Object.keys(manifest.nodes);
const order: string[] = [];
const seen = new Set<string>();
const visit = (id: string): void => {
  if (seen.has(id) || !manifest.nodes[id]) return;
  seen.add(id);
  for (const d of manifest.nodes[id]?.depends_on.nodes ?? []) visit(d);
  order.push(id);
};
for (const id of ids.sort()) visit(id);
const counted = order.filter((id) => {
  const n = manifest.nodes[id];
  return n && !(n.resource_type === 'model' && n.config.materialized === 'ephemeral');
});

async function baseline(): Promise<number> {
  const dbPath = join(dir, `baseline-${process.pid}.duckdb`);
  await rm(dbPath, { force: true });
  await rm(`${dbPath}.wal`, { force: true });
  const t0 = performance.now();
  const engine = await createDuckDbEngine({ path: dbPath });
  const s = await engine.session();
  const schemas = new Set(order.map((id) => manifest.nodes[id]?.schema).filter((x): x is string => !!x));
  for (const schema of schemas) await s.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  for (const id of order) {
    const n = manifest.nodes[id];
    if (!n) continue;
    const rel = `"${n.schema}"."${n.alias}"`;
    if (n.resource_type === 'seed') {
      await s.exec(
        `CREATE OR REPLACE TABLE ${rel} AS SELECT * FROM read_csv('${join(dir, n.original_file_path)}', header = true, sample_size = -1)`,
      );
    } else if (n.resource_type === 'model' && n.config.materialized !== 'ephemeral') {
      const kind = n.config.materialized === 'view' ? 'VIEW' : 'TABLE';
      await s.exec(`CREATE OR REPLACE ${kind} ${rel} AS ${n.compiled_code}`);
    } else if (n.resource_type === 'test' && n.compiled_code) {
      await s.query(`SELECT count(*) FROM (${n.compiled_code}) t`);
    }
  }
  s.close();
  await engine.close();
  return performance.now() - t0;
}

async function weir(threads?: number): Promise<number> {
  await rm(join(dir, '.weir'), { recursive: true, force: true });
  return timeCli(['build', ...(threads === undefined ? [] : ['--threads', String(threads)])], dir);
}

const base: number[] = [];
const w1: number[] = [];
const wCores: number[] = [];
const wDefault: number[] = [];
const cliStart: number[] = [];
await baseline();
for (let i = 0; i < RUNS; i++) {
  base.push(await baseline());
  wDefault.push(await weir());
  wCores.push(await weir(CORES));
  w1.push(await weir(1));
  cliStart.push(timeCli(['ls'], dir));
}
const m = {
  base: median(base),
  w1: median(w1),
  wCores: median(wCores),
  wDefault: median(wDefault),
  start: median(cliStart),
};
const n = counted.length;
console.log(`build of ${MODELS} models (${n} executed nodes incl. seeds and tests), median of ${RUNS}`);
console.log(`  baseline: compiled SQL straight through DuckDB, one process  ${fmt(m.base)}`);
console.log(
  `  weir build (defaults: threads = cores + 2 = ${CORES + 2}; whole CLI)       ${fmt(m.wDefault)}  ratio ${(m.wDefault / m.base).toFixed(2)}x`,
);
console.log(
  `  weir build --threads ${CORES} (cores)                                ${fmt(m.wCores)}  ratio ${(m.wCores / m.base).toFixed(2)}x`,
);
console.log(
  `  weir build --threads 1                                       ${fmt(m.w1)}  ratio ${(m.w1 / m.base).toFixed(2)}x`,
);
console.log(`  weir ls (CLI start + project parse, no build)                ${fmt(m.start)}`);
console.log(
  `  per-node overhead, threads 1: ${((m.w1 - m.start - m.base) / n).toFixed(2)} ms  (target < 10 ms)`,
);
