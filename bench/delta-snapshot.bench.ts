/*
 * Cold snapshot load of a Delta table with 1,000 commits (small appends, a checkpoint every 10).
 *
 *   node --import jiti/register bench/delta-snapshot.bench.ts [commits] [runs]
 *
 * Measured in the same run, as baselines:
 *   - json-only: the same log without its checkpoints (every commit replayed from JSON);
 *   - raw checkpoint read: just reading the newest checkpoint Parquet through the engine.
 * Target: cold load < 300 ms.
 */
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { quoteLiteral } from '../src/core/engine.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { writeCastSql } from '../src/lake/delta/schema.js';
import { DeltaTable } from '../src/lake/delta/table.js';
import { LocalObjectStore } from '../src/lake/local-object-store.js';

const COMMITS = Number(process.argv[2] ?? 1000);
const RUNS = Number(process.argv[3] ?? 15);
const TARGET_MS = 300;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up: module code, DuckDB extension loading, OS cache
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

const root = await mkdtemp(join(tmpdir(), 'weir-bench-delta-'));
const engine = await createDuckDbEngine({ threads: 2 });
const session = await engine.session();
try {
  const store = new LocalObjectStore(root);
  const writer = await DeltaTable.open(store, 'bench/events', session, { checkpointInterval: 10 });
  const build0 = performance.now();
  for (let v = 0; v < COMMITS; v++) {
    const sql = `SELECT ${v} * 10 + range AS id, 'event-' || range AS name, TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (range) MINUTE AS at FROM range(10)`;
    const columns = await session.describe(sql);
    const files = await session.writeParquet(`SELECT ${writeCastSql(columns)} FROM (${sql})`, {
      dir: writer.location(),
      prefix: 'part-',
    });
    if (v === 0) await writer.create(files, columns);
    else await writer.append(files, columns);
  }
  const buildMs = performance.now() - build0;
  const latest = await (await DeltaTable.open(store, 'bench/events', session)).snapshot();
  console.log(
    `built ${COMMITS} commits in ${(buildMs / 1000).toFixed(1)} s (${(buildMs / COMMITS).toFixed(1)} ms/commit): ` +
      `version ${latest.version}, ${latest.files.length} files, checkpoint at ${latest.checkpointVersion ?? 'none'}`,
  );

  // The same log with only its JSON commits: replay from version 0.
  const logDir = join(writer.location(), '_delta_log');
  const jsonOnlyLog = join(root, 'json-only', '_delta_log');
  await mkdir(jsonOnlyLog, { recursive: true });
  for (const name of await readdir(logDir)) {
    if (/^\d{20}\.json$/.test(name)) await copyFile(join(logDir, name), join(jsonOnlyLog, name));
  }
  const checkpointFile = join(
    logDir,
    `${String(latest.checkpointVersion).padStart(20, '0')}.checkpoint.parquet`,
  );

  const cold = await time(RUNS, async () => {
    const table = await DeltaTable.open(store, 'bench/events', session);
    const s = await table.snapshot();
    if (s.version !== latest.version || s.files.length !== latest.files.length)
      throw new Error('wrong snapshot');
  });
  const jsonOnly = await time(RUNS, async () => {
    const table = await DeltaTable.open(store, 'json-only', session);
    const s = await table.snapshot();
    if (s.version !== latest.version || s.files.length !== latest.files.length)
      throw new Error('wrong snapshot');
  });
  const rawCheckpoint = await time(RUNS, async () => {
    await session.query(`SELECT * FROM read_parquet(${quoteLiteral(checkpointFile)})`);
  });
  const warmTable = await DeltaTable.open(store, 'bench/events', session);
  await warmTable.snapshot();
  const warm = await time(RUNS, () => warmTable.snapshot());

  const m = {
    cold: median(cold),
    jsonOnly: median(jsonOnly),
    raw: median(rawCheckpoint),
    warm: median(warm),
  };
  const row = (name: string, ms: number, note = '') =>
    console.log(`${name.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms  ${note}`);
  console.log(`\nmedians over ${RUNS} runs`);
  row(
    'cold snapshot (checkpoint + JSON tail)',
    m.cold,
    m.cold < TARGET_MS ? `(target < ${TARGET_MS} ms: met)` : `(target < ${TARGET_MS} ms: MISSED)`,
  );
  row(
    'baseline: JSON-only replay (no checkpoints)',
    m.jsonOnly,
    `cold / json-only = ${(m.cold / m.jsonOnly).toFixed(2)}x`,
  );
  row('baseline: raw read of the newest checkpoint', m.raw, `cold / raw = ${(m.cold / m.raw).toFixed(2)}x`);
  row('cached snapshot, nothing new committed', m.warm, `warm / cold = ${(m.warm / m.cold).toFixed(3)}x`);
} finally {
  session.close();
  await engine.close();
  await rm(root, { recursive: true, force: true });
}
