// The measured process of bench/ingest-postgres.bench.ts: one Postgres stream landed the way
// `weir ingest` lands it, from the compiled package (dist/, built by `npm run build`), in plain
// Node, so its peak RSS is the product's and not a TypeScript loader's.
//   node bench/ingest-postgres-child.mjs <postgres url> <lake dir>
// Prints {ms, waitMs, rows, maxRssKb, cpuMs} as JSON on stdout.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';

const dist = new URL('../dist/', import.meta.url);
if (!existsSync(new URL('ingest/ingestor.js', dist)))
  throw new Error('dist/ is missing: run `npm run build` first');
const load = (path) => import(new URL(path, dist).href);
const [{ createDuckDbEngine }, { withRuntime }, { silentLogger }, { Ingestor }, { PostgresSource }] =
  await Promise.all([
    load('engine/duckdb/duckdb-engine.js'),
    load('engine/runtime-engine.js'),
    load('core/logger.js'),
    load('ingest/ingestor.js'),
    load('ingest/sources/postgres/postgres-source.js'),
  ]);
const { LocalObjectStore } = await load('lake/local-object-store.js');
const { openConversionEngine } = await load('cli/commands-ingest.js');

const [url, lakeDir] = process.argv.slice(2);
const env = process.env;

// Where the time goes: waiting for COPY chunks (extraction-bound) vs landing them (DuckDB-bound).
let waitMs = 0;
const read = PostgresSource.prototype.read;
PostgresSource.prototype.read = async function (request) {
  const r = await read.call(this, request);
  const inner = r.chunks[Symbol.asyncIterator]();
  return {
    cursorPatch: r.cursorPatch,
    chunks: {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const t = performance.now();
          const n = await inner.next();
          waitMs += performance.now() - t;
          return n;
        },
        return: async () => (inner.return ? inner.return(undefined) : { done: true, value: undefined }),
      }),
    },
  };
};

// The run's engine as `weir ingest` opens it (cli/runtime.ts), and the ingestor as the CLI wires it.
const engine = withRuntime(await createDuckDbEngine({ logger: silentLogger }), silentLogger);
const session = await engine.session();
const conversion = {
  ...(env['DUCKDB_THREADS'] ? { threads: Number(env['DUCKDB_THREADS']) } : {}),
  ...(env['DUCKDB_MEMORY'] ? { memoryLimit: env['DUCKDB_MEMORY'] } : {}),
};
const ingestor = new Ingestor({
  lake: new LocalObjectStore(lakeDir),
  env: { BENCH_PG_URL: url },
  projectRoot: lakeDir,
  openConversionEngine: openConversionEngine(silentLogger),
  conversion,
});
const t0 = performance.now();
const out = await ingestor.ingest(
  {
    sourceName: 'pg',
    streamName: 'bench',
    source: { type: 'postgres', connection: { url: "{{ env_var('BENCH_PG_URL') }}" } },
    // CHUNK_ROWS: rows per COPY chunk file (default: the connector's).
    table: env['CHUNK_ROWS'] ? { chunk_rows: Number(env['CHUNK_ROWS']) } : {},
    at: { file: 'bench' },
  },
  session,
  { runId: 'bench' },
);
const ms = performance.now() - t0;
session.close();
await engine.close();
process.stdout.write(
  JSON.stringify({
    ms,
    waitMs,
    rows: out.rows,
    maxRssKb: process.resourceUsage().maxRSS,
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  }),
);
