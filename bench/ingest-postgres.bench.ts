/**
 * Postgres -> raw Delta ingest throughput against the physical limit measured in the same run:
 * the same COPY query read and discarded by a client. ROWS (default 10,000,000) x 10 mixed columns.
 *   node --import jiti/register bench/ingest-postgres.bench.ts
 * Knobs: RUNS (3), CHUNK_ROWS (rows per COPY chunk file), DUCKDB_THREADS (2), DUCKDB_MEMORY (256MB).
 * Each run also prints the share of the ingest spent waiting for COPY chunks: low means DuckDB
 * (conversion) is the bottleneck, high means extraction is.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

const ROWS = Number(process.env['ROWS'] ?? 10_000_000);
const RUNS = Number(process.env['RUNS'] ?? 3);

const COLUMNS = `id bigint PRIMARY KEY, customer int, amount numeric(12,2), price float8, status text,
  note text, created_at timestamptz, day date, paid boolean, payload jsonb`;
const FILL = `SELECT g, g % 10000, (g % 100000) / 100.0, g * 0.5, (ARRAY['new','paid','shipped'])[1 + g % 3],
  md5(g::text), timestamptz '2024-01-01' + g * interval '1 second', date '2024-01-01' + (g % 365), g % 2 = 0,
  jsonb_build_object('k', g % 7) FROM generate_series(1, ${ROWS}) g`;

async function child(url: string, lakeDir: string): Promise<void> {
  const { createDuckDbEngine } = await import('../src/engine/duckdb/duckdb-engine.js');
  const { parseStreamSettings } = await import('../src/ingest/config.js');
  const { landStream } = await import('../src/ingest/landing/land.js');
  const { Redactor } = await import('../src/ingest/redact.js');
  const { PostgresSource } = await import('../src/ingest/sources/postgres/postgres-source.js');
  const { LocalObjectStore } = await import('../src/lake/local-object-store.js');
  const engine = await createDuckDbEngine({ threads: Number(process.env['DUCKDB_THREADS'] ?? 2) });
  const session = await engine.session();
  await session.exec(
    `SET memory_limit = '${process.env['DUCKDB_MEMORY'] ?? '256MB'}'; SET preserve_insertion_order = false`,
  );
  const spec = parseStreamSettings({
    sourceName: 'pg',
    streamName: 'bench',
    source: { type: 'postgres' },
    // CHUNK_ROWS: rows per COPY chunk file (default: the connector's).
    table: process.env['CHUNK_ROWS'] ? { chunk_rows: Number(process.env['CHUNK_ROWS']) } : {},
    at: { file: 'bench' },
  });
  const src = new PostgresSource({ url }, new Redactor(), 'pg');
  // Where the time goes: waiting for COPY chunks (extraction-bound) vs landing them (DuckDB-bound).
  let waitMs = 0;
  const read = src.read.bind(src);
  src.read = async (req) => {
    const r = await read(req);
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
  const t0 = performance.now();
  const r = await landStream(
    { lake: new LocalObjectStore(lakeDir), session },
    { spec, connector: src, runId: 'bench' },
  );
  const ms = performance.now() - t0;
  await src.close();
  session.close();
  await engine.close();
  process.stdout.write(
    JSON.stringify({ ms, waitMs, rows: r.rowsLoaded, maxRssKb: process.resourceUsage().maxRSS }),
  );
}

async function physical(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3");
  const t0 = performance.now();
  let bytes = 0;
  await pipeline(
    c.query(copyTo('COPY (SELECT * FROM bench) TO STDOUT (FORMAT csv)')),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        bytes += chunk.length;
        cb();
      },
    }),
  );
  await c.end();
  void bytes;
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3] ?? '', process.argv[4] ?? '');
  const { startPostgres } = await import('../test/helpers/postgres.js');
  const pgs = await startPostgres();
  try {
    await pgs.query(`CREATE TABLE bench (${COLUMNS})`);
    const tf = performance.now();
    await pgs.query(`INSERT INTO bench ${FILL}`);
    await pgs.query('VACUUM ANALYZE bench');
    console.log(`filled ${ROWS.toLocaleString()} rows in ${((performance.now() - tf) / 1000).toFixed(1)}s`);
    const limit: number[] = [];
    const ingest: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      limit.push(await physical(pgs.url));
      const lake = await mkdtemp(join(tmpdir(), 'weir-bench-'));
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn(
          process.execPath,
          ['--import', 'jiti/register', fileURLToPath(import.meta.url), '--child', pgs.url, lake],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let s = '';
        p.stdout.on('data', (d: Buffer) => (s += d.toString()));
        p.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`child exited ${code}`))));
      });
      const r = JSON.parse(out) as { ms: number; waitMs: number; rows: number; maxRssKb: number };
      if (r.rows !== ROWS) throw new Error(`landed ${r.rows} rows, expected ${ROWS}`);
      ingest.push(r.ms);
      rss.push(r.maxRssKb / 1024);
      await rm(lake, { recursive: true, force: true });
      console.log(
        `run ${i + 1}: limit ${(ROWS / (limit[i]! / 1000)).toFixed(0)} rows/s, ingest ${(ROWS / (r.ms / 1000)).toFixed(0)} rows/s, peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MB, waiting for COPY ${((r.waitMs / r.ms) * 100).toFixed(0)}% of the time`,
      );
    }
    const lim = ROWS / (median(limit) / 1000);
    const ing = ROWS / (median(ingest) / 1000);
    console.log(`\nrows: ${ROWS.toLocaleString()} x 10 columns, ${RUNS} runs (medians)`);
    console.log(`physical limit (COPY read + discard): ${lim.toFixed(0)} rows/s`);
    console.log(
      `weir ingest into raw Delta:           ${ing.toFixed(0)} rows/s  = ${((ing / lim) * 100).toFixed(0)}% of the limit (target >= 60%)`,
    );
    console.log(`peak RSS of the ingest process:       ${median(rss).toFixed(0)} MB (target < 400 MB)`);
  } finally {
    await pgs.stop();
  }
}

await main();
