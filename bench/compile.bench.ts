/**
 * `weir compile` of a generated 1,000-model project (refs, Jinja loops, macros), end to end as a
 * user runs it (a new process each time). Baselines measured in the same run: a bare Node start,
 * and the CLI start alone (`weir --version`). Target: < 1 s end to end.
 *
 *   npm run build && node --import jiti/register bench/compile.bench.ts
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateProject } from './gen-project.js';
import { fmt, median, timeCli, timeNode } from './util.js';

const MODELS = Number(process.env['MODELS'] ?? 1000);
const RUNS = Number(process.env['RUNS'] ?? 7);

const dir = await mkdtemp(join(tmpdir(), 'weir-bench-compile-'));
await generateProject(dir, { models: MODELS, withMacros: true, withLoops: true });
timeCli(['compile'], dir); // warm the file cache

const node: number[] = [];
const version: number[] = [];
const compile: number[] = [];
for (let i = 0; i < RUNS; i++) {
  node.push(timeNode(['-e', '0']));
  version.push(timeCli(['--version'], dir));
  compile.push(timeCli(['compile'], dir));
}
const m = { node: median(node), version: median(version), compile: median(compile) };
console.log(`compile of ${MODELS} models, median of ${RUNS} runs (each a new process)`);
console.log(`  node -e 0 (process start)      ${fmt(m.node)}`);
console.log(`  weir --version (CLI start)     ${fmt(m.version)}`);
console.log(`  weir compile                   ${fmt(m.compile)}   (target < 1000 ms)`);
console.log(
  `  compile work beyond CLI start  ${fmt(m.compile - m.version)}  = ${((m.compile - m.version) / MODELS).toFixed(3)} ms/model`,
);
console.log(`  ratio compile / node start     ${(m.compile / m.node).toFixed(2)}x`);
