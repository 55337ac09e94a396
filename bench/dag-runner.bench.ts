/**
 * Per-node overhead of the DAG runner: 10,000 no-op steps, concurrency 8, on two shapes
 * (fan-out then fan-in, and a deep chain), against a baseline measured in the same run that
 * simply awaits the same 10,000 no-op promises in a plain loop.
 *
 *   node --import jiti/register bench/dag-runner.bench.ts
 */
import { Graph, type GraphNode } from '../src/core/graph.js';
import { runDag, type NodeOutcome } from '../src/orchestrate/dag-runner.js';

const NODES = 10_000;
const CONCURRENCY = 8;
const RUNS = 7;

function step(id: string, dependsOn: string[]): GraphNode {
  return {
    id,
    name: id,
    resourceType: 'step',
    packageName: 'bench',
    path: `${id}.ts`,
    fqn: ['bench', id],
    tags: [],
    config: {},
    dependsOn,
  };
}

function fanOutFanIn(): Graph {
  const nodes = [step('root', [])];
  const middle: string[] = [];
  for (let i = 0; i < NODES - 2; i++) {
    const id = `m${String(i).padStart(5, '0')}`;
    middle.push(id);
    nodes.push(step(id, ['root']));
  }
  nodes.push(step('sink', middle));
  return Graph.build(nodes);
}

function chain(): Graph {
  const nodes: GraphNode[] = [];
  for (let i = 0; i < NODES; i++) {
    nodes.push(step(`c${String(i).padStart(5, '0')}`, i === 0 ? [] : [`c${String(i - 1).padStart(5, '0')}`]));
  }
  return Graph.build(nodes);
}

const noop = async (_id: string, _signal: AbortSignal): Promise<NodeOutcome> => 'success';

async function baseline(ids: readonly string[]): Promise<number> {
  const signal = new AbortController().signal;
  const started = performance.now();
  for (const id of ids) await noop(id, signal);
  return performance.now() - started;
}

async function runner(graph: Graph, ids: readonly string[]): Promise<number> {
  const started = performance.now();
  const results = await runDag({ graph, ids, concurrency: CONCURRENCY, run: noop });
  const elapsed = performance.now() - started;
  if (results.size !== ids.length) throw new Error(`ran ${results.size} of ${ids.length} nodes`);
  return elapsed;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const rate = (ms: number): string => `${Math.round((NODES / ms) * 1000).toLocaleString('en-US')} steps/s`;

async function main(): Promise<void> {
  console.log(
    `dag-runner: ${NODES.toLocaleString('en-US')} no-op steps, concurrency ${CONCURRENCY}, median of ${RUNS}`,
  );
  for (const [shape, build] of [
    ['fan-out/fan-in', fanOutFanIn],
    ['deep chain', chain],
  ] as const) {
    const buildStarted = performance.now();
    const graph = build();
    const buildMs = performance.now() - buildStarted;
    const ids = graph.topoOrder();
    // Warm up both paths so the JIT is not measured.
    await baseline(ids);
    await runner(graph, ids);
    const base: number[] = [];
    const dag: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      base.push(await baseline(ids));
      dag.push(await runner(graph, ids));
    }
    const b = median(base);
    const d = median(dag);
    console.log(
      `${shape.padEnd(15)} graph build ${buildMs.toFixed(1)} ms | baseline ${b.toFixed(2)} ms (${rate(b)}) | ` +
        `runDag ${d.toFixed(2)} ms (${rate(d)}) | runDag/baseline ${(d / b).toFixed(2)}x`,
    );
  }
}

await main();
