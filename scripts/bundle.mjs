// Bundles the CLI (after `tsc`) into dist/bin/weir.js and its lazily loaded chunks.
//
// Why: a `weir build` used to spend about 140 ms of its start loading some 450 small module files
// (@duckdb/node-api alone is 182 CommonJS files, each resolved, read and scanned for exports).
// One bundle with code splitting keeps every command's lazy imports lazy and loads a few files.
// Native and rarely used packages stay outside (they are required from node_modules at runtime):
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
  'picocolors',
  'tinyglobby',
]);

const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name));
// Loaded by @duckdb/node-api and pg themselves; native or optional.
external.push('@duckdb/node-bindings', 'pg-native');

const outdir = join(root, 'dist', 'bin');
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { weir: join(root, 'dist', 'cli', 'bin.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external,
  // CommonJS packages inside an ES module bundle still call require().
  banner: {
    js: "import { createRequire as __weirCreateRequire } from 'node:module';\nconst require = __weirCreateRequire(import.meta.url);",
  },
  sourcemap: true,
  logLevel: 'warning',
});
// The bin: a CommonJS entry that sizes libuv's thread pool, then loads the bundle (see the file).
await copyFile(join(root, 'src', 'cli', 'weir.cjs'), join(outdir, 'weir.cjs'));
await chmod(join(outdir, 'weir.cjs'), 0o755);
