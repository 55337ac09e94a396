// Bundles the CLI (after `tsc`) into one CommonJS file, dist/bin/weir-bundle.cjs.
//
// Why: a `weir build` used to spend about 140 ms of its start loading some 450 small module files
// (@duckdb/node-api alone is 182 CommonJS files, each resolved, read and scanned for exports).
// One bundle keeps every command's lazy imports lazy and loads one file, whose compiled code V8
// then caches between runs (about 50 ms more of every start). Native and rarely used packages
// stay outside (they are required from node_modules at runtime):
// the bundle only takes what `weir build` loads on every start.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { chmod, copyFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Dependencies bundled into the CLI; every other dependency stays an import of node_modules. */
const BUNDLED = new Set([
  '@duckdb/node-api',
  'commander',
  'csv-parse',
  'fastest-levenshtein',
  'nunjucks',
  // ES module only: required from a CommonJS bundle it would come without its default export.
  'p-retry',
  'picocolors',
  'tinyglobby',
]);

const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name));
// Loaded by @duckdb/node-api and pg themselves; native or optional.
external.push('@duckdb/node-bindings', 'pg-native');

const outdir = join(root, 'dist', 'bin');
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'cli', 'bin.js')],
  outfile: join(outdir, 'weir-bundle.cjs'),
  bundle: true,
  // CommonJS, one file: the entry compiles it through node:vm with a V8 code cache (see
  // src/cli/weir.cjs). Lazy imports stay lazy: esbuild turns each into a module initialised on
  // first use.
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  // The bundle's own location stands for import.meta.url (the package root is found from it).
  define: { 'import.meta.url': '__weirBundleUrl' },
  banner: { js: "const __weirBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  sourcemap: true,
  logLevel: 'warning',
});
// The bundle runs as a node:vm script, where a dynamic import() has no loader to go to (and V8's
// code cache would drop the one given): packages outside the bundle are require()d instead.
const bundled = readFileSync(join(outdir, 'weir-bundle.cjs'), 'utf8');
const dynamicImport = /[^\w$.]import\(\s*["'`]/.exec(bundled);
if (dynamicImport) {
  const line = bundled.slice(0, dynamicImport.index).split('\n').length;
  throw new Error(`dist/bin/weir-bundle.cjs:${line} has a dynamic import(); require() the package instead`);
}
// The bin: a CommonJS entry that sizes libuv's thread pool, then runs the bundle (see the file).
await copyFile(join(root, 'src', 'cli', 'weir.cjs'), join(outdir, 'weir.cjs'));
await chmod(join(outdir, 'weir.cjs'), 0o755);
