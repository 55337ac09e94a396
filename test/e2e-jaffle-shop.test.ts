import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './helpers/cli.js';

/** A dbt-duckdb project in the style of jaffle_shop_duckdb builds unmodified, tests included. */
describe('jaffle_shop-style dbt-duckdb project', () => {
  it('builds unmodified with every test passing, and answers like dbt would', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-jaffle-'));
    await cp(join(REPO_ROOT, 'test/fixtures/jaffle-shop'), dir, { recursive: true });
    const res = await runCli(['build'], { cwd: dir });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Done in .*: 8 ok, 21 passed, 0 warned, 0 failed, 0 errored, 0 skipped/);
    // The profile's `path` is where the query catalog goes, as dbt-duckdb's database would be.
    const q = await runCli(
      [
        'query',
        `select (select count(*) from main.customers) as customers,
                (select count(*) from main.orders) as orders,
                (select round(sum(amount), 2) from main.orders) = (select round(sum(amount) / 100, 2) from main.raw_payments) as amounts_match,
                (select count(*) from information_schema.tables where table_schema = 'main' and table_name = 'stg_orders' and table_type = 'VIEW') as staging_is_view`,
        '--output',
        'json',
      ],
      { cwd: dir },
    );
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual({
      customers: 40,
      orders: 80,
      amounts_match: true,
      staging_is_view: 1,
    });
    const ls = await runCli(['ls', '-s', 'config.materialized:view', '--resource-type', 'model'], {
      cwd: dir,
    });
    expect(ls.stdout.trim().split('\n').sort()).toEqual([
      'jaffle_shop.staging.stg_customers',
      'jaffle_shop.staging.stg_orders',
      'jaffle_shop.staging.stg_payments',
    ]);
  });
});
