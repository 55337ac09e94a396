/**
 * Postgres -> raw Delta ingest throughput and peak RSS against the physical limit measured in the
 * same run: the same COPY query read and discarded by a client. ROWS (default 10,000,000) x 10
 * mixed columns. Targets: >= 60% of the limit, peak RSS < 400 MB.
 *   npm run build && node --import jiti/register bench/ingest-postgres.bench.ts
 * Each run lands the table in a fresh process (bench/ingest-postgres-child.mjs) that runs the
 * compiled package in plain Node and wires the ingestor as `weir ingest` does: the run's engine
 * with DuckDB's defaults, and the product's conversion engine for the COPY chunks (2 threads,
 * preserve_insertion_order off, malloc trimming, 8 MB CSV buffers; see
 * src/ingest/landing/conversion.ts). The bench sets nothing of its own; knobs override the product:
 * RUNS (3), CHUNK_ROWS (rows per COPY chunk file), DUCKDB_THREADS and DUCKDB_MEMORY (the
 * conversion engine's threads and memory_limit).
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
const CHILD = fileURLToPath(new URL('./ingest-postgres-child.mjs', import.meta.url));

const COLUMNS = `id bigint PRIMARY KEY, customer int, amount numeric(12,2), price float8, status text,
  note text, created_at timestamptz, day date, paid boolean, payload jsonb`;
const FILL = `SELECT g, g % 10000, (g % 100000) / 100.0, g * 0.5, (ARRAY['new','paid','shipped'])[1 + g % 3],
  md5(g::text), timestamptz '2024-01-01' + g * interval '1 second', date '2024-01-01' + (g % 365), g % 2 = 0,
  jsonb_build_object('k', g % 7) FROM generate_series(1, ${ROWS}) g`;

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
        const p = spawn(process.execPath, [CHILD, pgs.url, lake], { stdio: ['ignore', 'pipe', 'inherit'] });
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
