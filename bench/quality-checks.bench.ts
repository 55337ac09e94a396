/*
 * 25 checks on a 10-million-row table: Weir's batched checks vs (a) one hand-written full-scan
 * aggregate computing the same metrics and (b) one query per check, all in the same run.
 * Run: node --import jiti/register bench/quality-checks.bench.ts [rows]
 */
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { runChecks, type CheckRunStats } from '../src/quality/run-checks.js';
import type { CheckSpec } from '../src/quality/types.js';

const ROWS = Number(process.argv[2] ?? 10_000_000);
const REPEATS = 5;

function spec(
  i: number,
  type: string,
  column: string | undefined,
  kwargs: Record<string, unknown>,
): CheckSpec {
  return {
    id: `c${i}`,
    name: `${type}_${i}`,
    type,
    ...(column ? { column } : {}),
    kwargs,
    severity: 'error',
  };
}

const checks: CheckSpec[] = [
  spec(1, 'not_null', 'id', {}),
  spec(2, 'not_null', 'amount', {}),
  spec(3, 'not_null', 'status', {}),
  spec(4, 'expect_column_values_to_not_be_null', 'email', { mostly: 0.9 }),
  spec(5, 'unique', 'id', {}),
  spec(6, 'expect_column_values_to_be_unique', 'id', {}),
  spec(7, 'expect_column_values_to_be_between', 'amount', { min_value: 0, max_value: 1000 }),
  spec(8, 'expect_column_values_to_be_between', 'qty', { min_value: 1, max_value: 50 }),
  spec(9, 'expect_column_values_to_be_between', 'ts', { min_value: '2020-01-01', max_value: '2030-01-01' }),
  spec(10, 'accepted_values', 'status', { values: ['new', 'paid', 'shipped', 'returned'] }),
  spec(11, 'expect_column_values_to_be_in_set', 'country', { value_set: ['FR', 'DE', 'US', 'JP', 'BR'] }),
  spec(12, 'expect_column_values_to_not_be_in_set', 'country', { value_set: ['XX'] }),
  spec(13, 'expect_column_values_to_match_regex', 'email', { regex: '^[a-z0-9]+@[a-z]+\\.com$' }),
  spec(14, 'expect_column_values_to_not_match_regex', 'email', { regex: '\\s' }),
  spec(15, 'expect_column_values_to_match_regex', 'sku', { regex: '^SKU-[0-9]+$' }),
  spec(16, 'expect_table_row_count_to_be_between', undefined, { min_value: 1, max_value: ROWS * 2 }),
  spec(17, 'expect_table_row_count_to_equal', undefined, { value: ROWS }),
  spec(18, 'expect_column_mean_to_be_between', 'amount', { min_value: 0, max_value: 1000 }),
  spec(19, 'expect_column_mean_to_be_between', 'qty', { min_value: 1, max_value: 50 }),
  spec(20, 'expect_column_min_to_be_between', 'amount', { min_value: 0 }),
  spec(21, 'expect_column_max_to_be_between', 'amount', { max_value: 1000 }),
  spec(22, 'expect_column_sum_to_be_between', 'qty', { min_value: 0 }),
  spec(23, 'expect_column_value_lengths_to_be_between', 'sku', { min_value: 5, max_value: 20 }),
  spec(24, 'expect_column_values_to_be_between', 'discount', { min_value: 0, max_value: 0.5, mostly: 0.99 }),
  spec(25, 'expect_column_stdev_to_be_between', 'amount', { max_value: 1000 }),
];

// (a): the same metrics, written once by hand as one aggregate.
const SINGLE = `SELECT count(*), count(id), count(amount), count(status), count(email), count(DISTINCT id),
  count(*) FILTER (WHERE amount IS NOT NULL AND NOT (amount >= 0 AND amount <= 1000)),
  count(*) FILTER (WHERE qty IS NOT NULL AND NOT (qty >= 1 AND qty <= 50)),
  count(*) FILTER (WHERE ts IS NOT NULL AND NOT (ts >= '2020-01-01' AND ts <= '2030-01-01')),
  count(DISTINCT status) FILTER (WHERE status NOT IN ('new','paid','shipped','returned')),
  count(*) FILTER (WHERE country IS NOT NULL AND NOT country IN ('FR','DE','US','JP','BR')),
  count(*) FILTER (WHERE country IN ('XX')),
  count(*) FILTER (WHERE email IS NOT NULL AND NOT regexp_matches(email, '^[a-z0-9]+@[a-z]+\\.com$')),
  count(*) FILTER (WHERE regexp_matches(email, '\\s')),
  count(*) FILTER (WHERE sku IS NOT NULL AND NOT regexp_matches(sku, '^SKU-[0-9]+$')),
  avg(amount), avg(qty), min(amount), max(amount), sum(qty),
  count(*) FILTER (WHERE sku IS NOT NULL AND NOT (length(sku) BETWEEN 5 AND 20)),
  count(*) FILTER (WHERE discount IS NOT NULL AND NOT (discount BETWEEN 0 AND 0.5)),
  count(discount), stddev_samp(amount)
FROM bench`;

// (b): one query per check, as tools that run each expectation on its own do.
const NAIVE = [
  'SELECT count(*) FROM bench WHERE id IS NULL',
  'SELECT count(*) FROM bench WHERE amount IS NULL',
  'SELECT count(*) FROM bench WHERE status IS NULL',
  'SELECT count(*), count(email) FROM bench',
  'SELECT count(*) FROM (SELECT id FROM bench WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1)',
  'SELECT count(id), count(DISTINCT id) FROM bench',
  'SELECT count(*) FILTER (WHERE NOT (amount BETWEEN 0 AND 1000)), count(amount) FROM bench',
  'SELECT count(*) FILTER (WHERE NOT (qty BETWEEN 1 AND 50)), count(qty) FROM bench',
  "SELECT count(*) FILTER (WHERE NOT (ts BETWEEN '2020-01-01' AND '2030-01-01')), count(ts) FROM bench",
  "SELECT count(*) FROM (SELECT status FROM bench GROUP BY status) WHERE status NOT IN ('new','paid','shipped','returned')",
  "SELECT count(*) FILTER (WHERE country NOT IN ('FR','DE','US','JP','BR')), count(country) FROM bench",
  "SELECT count(*) FILTER (WHERE country IN ('XX')), count(country) FROM bench",
  "SELECT count(*) FILTER (WHERE NOT regexp_matches(email, '^[a-z0-9]+@[a-z]+\\.com$')), count(email) FROM bench",
  "SELECT count(*) FILTER (WHERE regexp_matches(email, '\\s')), count(email) FROM bench",
  "SELECT count(*) FILTER (WHERE NOT regexp_matches(sku, '^SKU-[0-9]+$')), count(sku) FROM bench",
  'SELECT count(*) FROM bench',
  'SELECT count(*) FROM bench',
  'SELECT avg(amount) FROM bench',
  'SELECT avg(qty) FROM bench',
  'SELECT min(amount) FROM bench',
  'SELECT max(amount) FROM bench',
  'SELECT sum(qty) FROM bench',
  'SELECT count(*) FILTER (WHERE NOT (length(sku) BETWEEN 5 AND 20)), count(sku) FROM bench',
  'SELECT count(*) FILTER (WHERE NOT (discount BETWEEN 0 AND 0.5)), count(discount) FROM bench',
  'SELECT stddev_samp(amount) FROM bench',
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const engine = await createDuckDbEngine({});
  const s = await engine.session();
  const t0 = performance.now();
  await s.exec(`CREATE TABLE bench AS SELECT
      i AS id,
      (i % 997)::DOUBLE AS amount,
      1 + (i % 50) AS qty,
      TIMESTAMP '2024-01-01' + to_seconds(i % 10000000) AS ts,
      ['new','paid','shipped','returned'][1 + (i % 4)] AS status,
      ['FR','DE','US','JP','BR'][1 + (i % 5)] AS country,
      CASE WHEN i % 20 = 0 THEN NULL ELSE 'user' || (i % 100000) || '@mail.com' END AS email,
      'SKU-' || (i % 100000) AS sku,
      (i % 50) / 100.0 AS discount
    FROM range(${ROWS}) r(i)`);
  process.stdout.write(
    `table: ${ROWS.toLocaleString('en')} rows, built in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  const weir: number[] = [];
  const single: number[] = [];
  const naive: number[] = [];
  let stats: CheckRunStats = { scans: 0, queries: 0 };
  for (let r = 0; r < REPEATS; r++) {
    let t = performance.now();
    await s.query(SINGLE);
    single.push(performance.now() - t);

    t = performance.now();
    stats = { scans: 0, queries: 0 };
    const results = await runChecks(s, checks, { relation: 'bench' }, { stats });
    weir.push(performance.now() - t);
    const bad = results.filter((x) => x.status !== 'pass');
    if (bad.length)
      throw new Error(`unexpected failures: ${bad.map((b) => `${b.name} ${b.message}`).join('; ')}`);

    t = performance.now();
    for (const q of NAIVE) await s.query(q);
    naive.push(performance.now() - t);
  }
  const a = median(single);
  const w = median(weir);
  const b = median(naive);
  process.stdout.write(
    `checks: ${checks.length}; Weir ran ${stats.scans} scan(s) + ${stats.queries} separate queries\n`,
  );
  process.stdout.write(`(a) single aggregate   median ${a.toFixed(0)} ms\n`);
  process.stdout.write(
    `    Weir batched       median ${w.toFixed(0)} ms   = ${(w / a).toFixed(2)}x of (a)  (target <= 1.5x)\n`,
  );
  process.stdout.write(
    `(b) one query per check median ${b.toFixed(0)} ms   = ${(b / a).toFixed(2)}x of (a); Weir is ${(b / w).toFixed(1)}x faster than (b)\n`,
  );
  s.close();
  await engine.close();
}

await main();
