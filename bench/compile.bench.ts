/**
 * `weir compile` of a generated 1,000-model project (refs, Jinja loops, macros), end to end as a
 * user runs it (a new process each time). Baselines measured in the same run: a bare Node start,
 * and the CLI start alone (`weir --version`). Target: < 1 s end to end.
 *
 * `weir compile` is measured as a user's next compile is (the parse cache in target/ and the
 * CLI's code cache from earlier runs), with every template parsed (no target/partial_parse.bin),
 * and cold (neither cache: the first compile after an install).
 *
 *   npm run build && node --import jiti/register bench/compile.bench.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
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
const fullParse: number[] = [];
const cold: number[] = [];
const parseCache = join(dir, 'target', 'partial_parse.bin');
for (let i = 0; i < RUNS; i++) {
  node.push(timeNode(['-e', '0']));
  version.push(timeCli(['--version'], dir));
  compile.push(timeCli(['compile'], dir));
  await rm(parseCache, { force: true });
  fullParse.push(timeCli(['compile'], dir));
  await rm(parseCache, { force: true });
  cold.push(timeCli(['compile'], dir, { WEIR_COMPILE_CACHE_DIR: 'off' }));
}
const m = {
  node: median(node),
  version: median(version),
  compile: median(compile),
  fullParse: median(fullParse),
  cold: median(cold),
};
console.log(`compile of ${MODELS} models, median of ${RUNS} runs (each a new process)`);
console.log(`  node -e 0 (process start)      ${fmt(m.node)}`);
console.log(`  weir --version (CLI start)     ${fmt(m.version)}`);
console.log(`  weir compile                   ${fmt(m.compile)}   (target < 1000 ms)`);
console.log(`  weir compile, every template parsed      ${fmt(m.fullParse)}`);
console.log(`  weir compile, cold (no parse or code cache)  ${fmt(m.cold)}`);
console.log(
  `  compile work beyond CLI start  ${fmt(m.compile - m.version)}  = ${((m.compile - m.version) / MODELS).toFixed(3)} ms/model`,
);
console.log(`  ratio compile / node start     ${(m.compile / m.node).toFixed(2)}x`);
