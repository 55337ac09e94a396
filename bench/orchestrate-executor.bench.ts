/**
 * Orchestration benchmarks, each against a baseline measured in the same run:
 *  1. launch latency: trigger (runPipeline called) -> first step starting, on a real project
 *     (DuckDB + SQLite + lake); baseline: one `select 1` on the same engine.
 *  2. throughput: 10,000 no-op steps (fan-out, fan-in) through the step executor with attempts
 *     and events recorded in SQLite; baseline: the bare DAG runner on the same graph.
 *  3. backfill planning: three years of daily partitions planned and queued in the state store;
 *     baseline: computing the partition windows alone.
 *
 *   node --import jiti/register bench/orchestrate-executor.bench.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/core/logger.js';
import { planBackfill, queueBackfill } from '../src/orchestrate/partitions/backfill.js';
import { partitionsBetween, daily } from '../src/orchestrate/partitions/partitions.js';
import { runDag } from '../src/orchestrate/dag-runner.js';
import { executePlan, STEP_DESCRIPTOR_VERSION, type PlanStep } from '../src/orchestrate/pipeline/executor.js';
import { toPipelineSpec } from '../src/orchestrate/pipeline/load-pipelines.js';
import { openSqliteOrchestrationStore } from '../src/state/sqlite/sqlite-orchestration-store.js';
import { openSqliteStateStore } from '../src/state/sqlite/sqlite-state-store.js';
import { openProject, writeTree, BASE_PROJECT } from '../test/orchestrate-helpers.js';
import { median } from './util.js';

const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;

async function launchLatency(): Promise<void> {
  const dir = await writeTree({
    ...BASE_PROJECT,
    'pipelines/noop.ts': `import { pipeline } from 'weir';
export default pipeline('noop').select('orders');`,
  });
  const p = await openProject(dir);
  const latencies: number[] = [];
  const baselines: number[] = [];
  for (let i = 0; i < 25; i++) {
    const s = await p.rt.engine.session();
    const b0 = performance.now();
    await s.query('select 1');
    baselines.push(performance.now() - b0);
    s.close();
    // Trigger: runPipeline called; first step: the attempt_started event of the first step.
    const t0 = Date.now();
    const summary = await p.run('noop');
    const events = await p.rt.state.listEvents(summary.runId);
    const firstStep = Date.parse(events.find((e) => e.type === 'attempt_started')?.ts ?? '');
    latencies.push(firstStep - t0);
  }
  await p.close();
  await rm(dir, { recursive: true, force: true });
  const m = median(latencies.slice(3));
  const b = median(baselines.slice(3));
  console.log(
    `launch latency (trigger -> first step start): median ${fmt(m)} (target < 50 ms); baseline select 1: ${fmt(b)}; ratio ${(m / b).toFixed(1)}x`,
  );
}

async function throughput(): Promise<void> {
  const N = 10_000;
  const ids = ['root', ...Array.from({ length: N - 2 }, (_, i) => `m${i}`), 'sink'];
  const parents = new Map<string, string[]>([
    ['root', []],
    ['sink', ids.slice(1, -1)],
  ]);
  for (const id of ids.slice(1, -1)) parents.set(id, ['root']);
  const dir = await mkdtemp(join(tmpdir(), 'weir-bench-'));
  const path = join(dir, 'state.sqlite');
  const state = await openSqliteStateStore(path);
  await state.init();
  const orch = await openSqliteOrchestrationStore(path);
  const rates: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < 3; r++) {
    const runId = `bench-${r}`;
    await state.createRun({
      runId,
      command: 'bench',
      status: 'running',
      args: {},
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    });
    const steps: PlanStep[] = ids.map((id) => ({
      id,
      parents: parents.get(id) ?? [],
      descriptor: { v: STEP_DESCRIPTOR_VERSION, runId, stepId: id, kind: 'noop', target: id, policy: {} },
    }));
    const t0 = performance.now();
    const result = await executePlan({
      runId,
      steps,
      concurrency: 8,
      events: state,
      orchestration: orch,
      launch: async () => ({ status: 'success' }),
    });
    const ms = performance.now() - t0;
    if (result.status !== 'success') throw new Error('bench run failed');
    rates.push(N / (ms / 1000));
    const b0 = performance.now();
    await runDag({
      graph: { parents: (id) => parents.get(id) ?? [] },
      ids,
      concurrency: 8,
      run: async () => 'success',
    });
    base.push(N / ((performance.now() - b0) / 1000));
  }
  const events = (await state.listEvents('bench-0')).length;
  await orch.close();
  await state.close();
  await rm(dir, { recursive: true, force: true });
  const m = median(rates);
  const b = median(base);
  console.log(
    `throughput, 10,000 no-op steps with attempts + ${events} events in SQLite: median ${m.toFixed(0)} steps/s (target >= 1,000); bare DAG runner: ${b.toFixed(0)} steps/s; ratio ${(b / m).toFixed(1)}x slower`,
  );
}

async function backfillPlanning(): Promise<void> {
  const spec = toPipelineSpec(
    { name: 'three_years', select: ['x'], partitions: daily({ start: '2021-01-01' }) },
    'pipelines/x.ts',
  );
  const times: number[] = [];
  const base: number[] = [];
  let planned = 0;
  for (let r = 0; r < 5; r++) {
    const dir = await mkdtemp(join(tmpdir(), 'weir-bench-'));
    const path = join(dir, 'state.sqlite');
    const state = await openSqliteStateStore(path);
    await state.init();
    const orch = await openSqliteOrchestrationStore(path);
    const t0 = performance.now();
    const plan = await planBackfill(orch, spec, { from: '2021-01-01', to: '2023-12-31' });
    await queueBackfill(orch, plan);
    times.push(performance.now() - t0);
    planned = plan.pending.length;
    const b0 = performance.now();
    partitionsBetween(spec.partitions!, '2021-01-01', '2023-12-31');
    base.push(performance.now() - b0);
    await orch.close();
    await state.close();
    await rm(dir, { recursive: true, force: true });
  }
  const m = median(times);
  const b = median(base);
  console.log(
    `backfill planning, ${planned} daily partitions planned and queued: median ${fmt(m)} (target < 1 s); windows alone: ${fmt(b)}; ratio ${(m / b).toFixed(1)}x`,
  );
}

await launchLatency();
await throughput();
await backfillPlanning();
void silentLogger;
