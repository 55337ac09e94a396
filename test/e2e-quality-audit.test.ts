import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MINIMAL_PROJECT, runCli, writeProject } from './helpers/cli.js';

async function query(dir: string, sql: string): Promise<Record<string, unknown>[]> {
  const res = await runCli(['query', sql, '--output', 'json', '--limit', '10000'], { cwd: dir });
  expect(res.code, res.stderr).toBe(0);
  return res.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function deltaVersions(dir: string, table: string): Promise<string[]> {
  const files = await readdir(join(dir, '.weir/lake', table, '_delta_log'));
  return files.filter((f) => f.endsWith('.json')).sort();
}

describe('write-audit-publish', () => {
  it('a blocking check failure keeps the previous version, skips downstream and shows samples', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/orders.sql': `{{ config(materialized='table') }}
select * from (values (1, 'paid', 10), ({{ 'null' if var('bad', false) else '2' }}, 'paid', 20), (3, {{ "'lost'" if var('bad', false) else "'open'" }}, 30)) t(id, status, amount)
`,
      'models/summary.sql': `{{ config(materialized='table') }}
select count(*) as n from {{ ref('orders') }}
`,
      'models/schema.yml': `version: 2
models:
  - name: orders
    columns:
      - name: id
        tests:
          - not_null
          - unique
      - name: status
        tests:
          - accepted_values:
              values: [paid, open]
      - name: amount
        tests:
          - expect_column_values_to_be_between: {min_value: 0, max_value: 100}
          - not_null:
              severity: warn
`,
    });
    const first = await runCli(['build'], { cwd: dir });
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    // The error-severity tests ran in the audit; the test nodes report that result once.
    expect(first.stdout).toMatch(/5 passed/);
    const before = await deltaVersions(dir, 'main/orders');

    const bad = await runCli(['build', '--vars', '{bad: true}'], { cwd: dir });
    expect(bad.code).toBe(1);
    const text = `${bad.stdout}\n${bad.stderr}`;
    expect(text).toContain('WEIR-Q010');
    expect(text).toContain('not_null_orders_id');
    expect(text).toContain('accepted_values_orders_status__paid__open');
    expect(text).toMatch(/sample rows:\n\s+id=null, status=paid, amount=20/);
    expect(text).toMatch(/status=lost/);
    expect(text).toContain('models/schema.yml:');
    expect(await deltaVersions(dir, 'main/orders')).toEqual(before);
    expect(await query(dir, 'select count(*) as n, count(id) as ids from main.orders')).toEqual([
      { n: 3, ids: 3 },
    ]);
    // orders errored; summary (downstream) and the tests of orders were skipped.
    expect(bad.stdout).toMatch(/0 ok, 0 passed, 0 warned, 0 failed, 1 errored, 6 skipped/);
  });

  it('on_fail: quarantine commits passing rows and quarantines the rest with rule names', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/payments.sql': `{{ config(materialized='table', on_fail='quarantine') }}
select i as id, case when i % 10 = 0 then null else 'card' end as method, case when i % 7 = 0 then -1 else i end as amount
from range(1, 101) r(i)
`,
      'models/schema.yml': `version: 2
models:
  - name: payments
    columns:
      - name: method
        tests: [not_null]
      - name: amount
        tests:
          - expect_column_values_to_be_between: {min_value: 0}
`,
    });
    const res = await runCli(['build'], { cwd: dir });
    expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
    // 10 null methods (i % 10), 14 negative amounts (i % 7), 1 both (i = 70): 23 rows out.
    expect(await query(dir, 'select count(*) as n from main.payments')).toEqual([{ n: 77 }]);
    const q = await query(
      dir,
      'select count(*) as n, count(*) filter (where len(_weir_failed_rules) = 2) as both_rules, count(distinct _weir_run_id) as runs from quarantine.main__payments',
    );
    expect(q).toEqual([{ n: 23, both_rules: 1, runs: 1 }]);
    const rules = await query(
      dir,
      'select _weir_failed_rules as r from quarantine.main__payments where id = 70',
    );
    expect((rules[0]?.['r'] as string[]).sort()).toEqual(
      ['expect_column_values_to_be_between_payments_amount__0', 'not_null_payments_method'].sort(),
    );
  });

  it('weir test runs expectations batched per table; unknown names are reported before running', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/scores.sql': `{{ config(materialized='table') }}
select i as id, case when i = 5 then 500 else i * 10 end as score from range(1, 11) r(i)
`,
      'models/schema.yml': `version: 2
models:
  - name: scores
    tests:
      - expect_table_row_count_to_be_between: {min_value: 5, max_value: 20}
    columns:
      - name: score
        tests:
          - expect_column_values_to_be_between:
              min_value: 0
              max_value: 100
              mostly: 0.95
              config: {severity: warn}
          - expect_column_mean_to_be_between: {min_value: 0, max_value: 1000}
`,
    });
    const built = await runCli(['build'], { cwd: dir });
    expect(built.code, `${built.stdout}\n${built.stderr}`).toBe(0);
    const res = await runCli(['test'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/2 passed, 1 warned/);
    expect(res.stdout).toMatch(/1 unexpected of 10 non-null values; e\.g\. 500/);

    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      join(dir, 'models/schema.yml'),
      `version: 2
models:
  - name: scores
    columns:
      - name: score
        tests:
          - expect_column_values_to_be_betwen: {min_value: 0}
          - not_nul
`,
    );
    const bad = await runCli(['test'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('[WEIR-Q001] models/schema.yml:7');
    expect(bad.stderr).toContain("did you mean 'expect_column_values_to_be_between'");
    expect(bad.stderr).toContain('[WEIR-Q001] models/schema.yml:8');
    expect(bad.stderr).toContain("did you mean 'not_null'");
  });
});
