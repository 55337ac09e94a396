import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MINIMAL_PROJECT, runCli, writeProject } from './helpers/cli.js';

/*
 * The quality results commands end to end on the built CLI: `weir quality score`, `weir quality
 * report` (a self-contained HTML file, parsed here for its parts) and `weir profile`.
 */

const ORDERS = `{{ config(materialized='table') }}
select range + 1 as id,
       'user' || range || '@shop.io' as email,
       case when range < {{ var('bad', 0) }} then 'lost' else 'placed' end as status,
       (range % 50) * 1.5 as amount
from range({{ var('n', 100) }})
`;
const SCHEMA = `version: 2
models:
  - name: orders
    columns:
      - name: id
        tests: [not_null, unique]
      - name: status
        tests:
          - accepted_values: {values: [placed, shipped], config: {severity: warn}}
      - name: amount
        tests:
          - expect_column_mean_to_be_between: {min_value: 0, max_value: 100}
`;

function env(day: number): Record<string, string> {
  return { WEIR_NOW: `2024-03-${String(day).padStart(2, '0')}T06:00:00Z` };
}

describe('weir quality score / report and weir profile', () => {
  it('scores tables with their trend and writes a self-contained HTML report', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/orders.sql': ORDERS,
      'models/schema.yml': SCHEMA,
    });
    const none = await runCli(['quality', 'score'], { cwd: dir });
    expect(none.stdout + none.stderr).toMatch(/No quality history yet|WEIR-Q030/);

    for (const [day, vars] of [
      [1, '{n: 100}'],
      [2, '{n: 120}'],
      [3, '{n: 130, bad: 3}'],
    ] as const) {
      const r = await runCli(['build', '--vars', vars], { cwd: dir, env: env(day) });
      expect(r.code, r.stderr).toBe(0);
    }
    // weights: not_null 3 + unique 3 + accepted_values (warn) 1 + mean 3 = 10; the warn costs 1 → 90
    const score = await runCli(['quality', 'score', 'orders'], { cwd: dir });
    expect(score.code, score.stderr).toBe(0);
    expect(score.stdout).toMatch(/main\.orders\s+90\.0\s+-10\.0\s+4\s+3\s+1\s+0\s+0/);
    const json = await runCli(['quality', 'score', '--output', 'json'], { cwd: dir });
    const doc = JSON.parse(json.stdout) as {
      weights: Record<string, number>;
      tables: { asset: string; score: number; change: number; trend: { score: number; at: string }[] }[];
    };
    expect(doc.weights).toEqual({ error: 3, warn: 1 });
    expect(doc.tables[0]).toMatchObject({ asset: 'main.orders', score: 90, change: -10 });
    expect(doc.tables[0]?.trend.map((p) => p.score)).toEqual([100, 100, 90]);
    expect(doc.tables[0]?.trend[0]?.at).toBe('2024-03-01T06:00:00.000Z');

    const unknown = await runCli(['quality', 'score', 'ordrs'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("[WEIR-Q044] no quality history for 'ordrs'");
    expect(unknown.stderr).toContain("did you mean 'main.orders'");

    const report = await runCli(['quality', 'report'], { cwd: dir });
    expect(report.code, report.stderr).toBe(0);
    const file = join(dir, 'target/quality-report.html');
    const html = await readFile(file, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    // self-contained: no scripts, stylesheets or images fetched from anywhere
    expect(html).not.toMatch(/<script|<link|src=|url\(|@import/i);
    const section = /<section class="asset"[^>]*data-asset="main\.orders"[^>]*>([\s\S]*?)<\/section>/.exec(
      html,
    )?.[1];
    expect(section).toBeDefined();
    expect(section).toMatch(/<span class="score good">90<\/span>/);
    expect(section).toContain('(-10 vs previous run)');
    const checks = [
      ...(section ?? '').matchAll(/<tr class="check"><td>([^<]+)<\/td>[\s\S]*?<td class="status s-(\w+)">/g),
    ].map((m) => [m[1], m[2]]);
    expect(checks).toEqual([
      ['accepted_values_orders_status__placed__shipped', 'warn'],
      ['expect_column_mean_to_be_between_orders_amount__100__0', 'pass'],
      ['not_null_orders_id', 'pass'],
      ['unique_orders_id', 'pass'],
    ]);
    expect(section).toMatch(
      /<div class="failure s-warn">[\s\S]*accepted_values_orders_status__placed__shipped[\s\S]*<\/div>/,
    );
    expect(section).toContain('<code>lost</code>');
    const svgs = [...(section ?? '').matchAll(/<svg class="spark"[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs).toHaveLength(2);
    expect(svgs[0]).toContain('quality score over runs: 100, 100, 90');
    expect(svgs[1]).toContain('row count over runs: 100, 120, 130');
    expect(svgs[1]).toMatch(/<polyline [^>]*points="([\d.]+,[\d.]+ ){2}[\d.]+,[\d.]+"/);

    const custom = await runCli(['quality', 'report', '--out', 'out/q.html'], { cwd: dir });
    expect(custom.code, custom.stderr).toBe(0);
    expect(existsSync(join(dir, 'out/q.html'))).toBe(true);
  }, 120_000);

  it('profiles an asset and writes a starter contract that the next build enforces', async () => {
    const dir = await writeProject({ ...MINIMAL_PROJECT(), 'models/orders.sql': ORDERS });
    const early = await runCli(['profile', 'orders'], { cwd: dir });
    expect(early.code).toBe(2);
    expect(early.stderr).toContain('[WEIR-Q045] main.orders has not been built yet');
    expect((await runCli(['build'], { cwd: dir })).code).toBe(0);
    const text = await runCli(['profile', 'orders'], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/main\.orders 100 rows, 4 columns/);
    expect(text.stdout).toMatch(/email\s+VARCHAR\s+0\s+100\s.*email/);
    expect(text.stdout).toMatch(/status: placed \(100\)/);

    const json = await runCli(['profile', 'main.orders', '--output', 'json'], { cwd: dir });
    const p = JSON.parse(json.stdout) as {
      rows: number;
      columns: { name: string; mean: number | null; quantiles: unknown }[];
    };
    expect(p.rows).toBe(100);
    expect(p.columns.find((c) => c.name === 'amount')).toMatchObject({
      mean: 36.75,
      quantiles: { p50: 36.75 },
    });

    const suggest = await runCli(['profile', 'orders', '--suggest-contract'], { cwd: dir });
    expect(suggest.code, suggest.stderr).toBe(0);
    const contract = await readFile(join(dir, 'contracts/orders.odcs.yaml'), 'utf8');
    expect(contract).toContain('apiVersion: v3.1.0');
    expect(contract).toContain('physicalName: main.orders');
    const again = await runCli(['profile', 'orders', '--suggest-contract'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('[WEIR-Q046] contracts/orders.odcs.yaml exists');

    // the contract loads, binds to main.orders and passes on the same data...
    const ok = await runCli(['build'], { cwd: dir });
    expect(ok.code, `${ok.stdout}\n${ok.stderr}`).toBe(0);
    // ...and refuses data that breaks it (a null email where the profile saw none)
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(
        join(dir, 'models/orders.sql'),
        ORDERS.replace(
          "'user' || range || '@shop.io'",
          "case when range = 7 then null else 'user' || range || '@shop.io' end",
        ),
      ),
    );
    const bad = await runCli(['build'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stdout + bad.stderr).toContain('WEIR-Q010');
    expect(bad.stdout + bad.stderr).toMatch(/email/);

    const missing = await runCli(['profile', 'nothing'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('WEIR-U004');
  }, 120_000);
});
