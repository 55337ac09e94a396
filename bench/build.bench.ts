/**
 * `weir build` of a generated 200-model project of small tables against executing the same
 * compiled SQL straight through DuckDB in one process (a DuckDB file database, CREATE TABLE/VIEW
 * AS in dependency order, the same tests as count queries), measured in the same run. The headline
 * is `weir build` with its defaults (threads = cores + 2); `--threads <cores>` and `--threads 1`
 * are measured too. Targets: ratio <= 1.3x, median per-model overhead < 10 ms.
 *
 * The baseline is measured two ways, interleaved with the builds:
 * - as a process (`bench/run-sql.mjs`): node starts, loads DuckDB and executes the statements,
 *   as `weir build` is timed from its start to its exit;
 * - in this process, warm: DuckDB already loaded and only the statements timed. This one has no
 *   start-up at all, so its ratio also charges Weir for node and DuckDB starting.
 *
 *   npm run build && node --import jiti/register bench/build.bench.ts
 */
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { generateProject } from './gen-project.js';
import { REPO_ROOT, fmt, median, timeCli, timeNode } from './util.js';

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

// The baseline's statements, in dependency order: CREATE TABLE/VIEW AS for models, seeds loaded by
// DuckDB's CSV reader, and each test as a count query.
const statements: string[] = [];
for (const schema of new Set(order.map((id) => manifest.nodes[id]?.schema).filter((x): x is string => !!x)))
  statements.push(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
for (const id of order) {
  const n = manifest.nodes[id];
  if (!n) continue;
  const rel = `"${n.schema}"."${n.alias}"`;
  if (n.resource_type === 'seed') {
    statements.push(
      `CREATE OR REPLACE TABLE ${rel} AS SELECT * FROM read_csv('${join(dir, n.original_file_path)}', header = true, sample_size = -1)`,
    );
  } else if (n.resource_type === 'model' && n.config.materialized !== 'ephemeral') {
    const kind = n.config.materialized === 'view' ? 'VIEW' : 'TABLE';
    statements.push(`CREATE OR REPLACE ${kind} ${rel} AS ${n.compiled_code}`);
  } else if (n.resource_type === 'test' && n.compiled_code) {
    statements.push(`SELECT count(*) FROM (${n.compiled_code}) t`);
  }
}
const statementsPath = join(dir, 'baseline-statements.json');
await writeFile(statementsPath, JSON.stringify(statements));

// Nothing is deleted while measuring: each run writes new files (a new database file, a new
// lake), and what earlier runs wrote is moved aside and deleted at the end. On ext4 without a
// journal (this machine's disk), creating a file scans past every inode of its block group freed
// in the last minutes (ext4 `recently_deleted`), so deleting the last run's lake before each run
// made the next run's ~600 file and folder creations cost about 15% of a build's CPU. A user does
// not delete the lake before each build, and the baseline creates one file, so that cost would
// weigh on Weir alone.
const old = join(dir, 'old');
await mkdir(old);
let runs = 0;
const newDbPath = (): string => join(old, `baseline-${++runs}.duckdb`);

/** The statements in this (warm) process: DuckDB already loaded, nothing but the SQL timed. */
async function baseline(): Promise<number> {
  const dbPath = newDbPath();
  const t0 = performance.now();
  const engine = await createDuckDbEngine({ path: dbPath });
  const s = await engine.session();
  for (const sql of statements) await s.exec(sql);
  s.close();
  await engine.close();
  return performance.now() - t0;
}

/** The statements in a new process, started like `weir build` is: node, DuckDB and the SQL. */
function baselineProcess(): number {
  return timeNode([join(REPO_ROOT, 'bench/run-sql.mjs'), newDbPath(), statementsPath], true);
}

async function weir(threads?: number): Promise<number> {
  await rename(join(dir, '.weir'), join(old, `weir-${++runs}`)).catch(() => undefined);
  return timeCli(['build', ...(threads === undefined ? [] : ['--threads', String(threads)])], dir);
}

const base: number[] = [];
const baseProc: number[] = [];
const w1: number[] = [];
const wCores: number[] = [];
const wDefault: number[] = [];
const cliStart: number[] = [];
await baseline();
for (let i = 0; i < RUNS; i++) {
  base.push(await baseline());
  baseProc.push(baselineProcess());
  wDefault.push(await weir());
  wCores.push(await weir(CORES));
  w1.push(await weir(1));
  cliStart.push(timeCli(['ls'], dir));
}
const m = {
  base: median(base),
  baseProc: median(baseProc),
  w1: median(w1),
  wCores: median(wCores),
  wDefault: median(wDefault),
  start: median(cliStart),
};
const n = counted.length;
const ratio = (ms: number, base: number): string => `${(ms / base).toFixed(2)}x`;
const row = (label: string, ms: number): string =>
  `  ${label.padEnd(58)} ${fmt(ms).padStart(10)}  ratio ${ratio(ms, m.baseProc)} (process)  ${ratio(ms, m.base)} (in-process)`;
console.log(`build of ${MODELS} models (${n} executed nodes incl. seeds and tests), median of ${RUNS}`);
console.log(
  `  baseline, a process: node + DuckDB + the compiled SQL          ${fmt(m.baseProc).padStart(10)}`,
);
console.log(`  baseline, in this process: the compiled SQL alone (warm)      ${fmt(m.base).padStart(10)}`);
console.log(row(`weir build (defaults: threads = cores + 2 = ${CORES + 2})`, m.wDefault));
console.log(row(`weir build --threads ${CORES} (cores)`, m.wCores));
console.log(row('weir build --threads 1', m.w1));
console.log(`  weir ls (CLI start + project parse, no build)                  ${fmt(m.start).padStart(10)}`);
console.log(
  `  per-node overhead, threads 1: ${((m.w1 - m.start - m.base) / n).toFixed(2)} ms  (target < 10 ms)`,
);
await rm(dir, { recursive: true, force: true });
