import { describe, expect, it } from 'vitest';
import { MINIMAL_PROJECT, runCli, writeProject } from './helpers/cli.js';

/** Bad input gets a clear error with a stable code, the file and line, and no stack trace. */
describe('clear errors', () => {
  it('invalid SQL names the model file and line with the engine message', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/base.sql': 'select 1 as id\n',
      'models/bad.sql': "-- a broken model\nselect\n  id,\n  1 as x y\nfrom {{ ref('base') }}\n",
    });
    const res = await runCli(['build'], { cwd: dir });
    expect(res.code).toBe(1);
    const text = res.stdout + res.stderr;
    expect(text).toContain('[WEIR-E001]');
    expect(text).toMatch(/models\/bad\.sql:4/);
    expect(text).toMatch(/syntax error/i);
    expect(text).not.toMatch(/\n\s+at .*\.c?js:\d+/);
    const debug = await runCli(['build', '--debug'], { cwd: dir });
    expect(debug.stdout + debug.stderr).toMatch(/\n\s+at .*\.c?js:\d+/);
  });

  it('a ragged CSV seed names the line', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'seeds/people.csv': 'id,name\n1,ann\n2,bob\n3,cy,extra\n4,dee\n',
    });
    const res = await runCli(['seed'], { cwd: dir });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toMatch(/\[WEIR-M010\] seeds\/people\.csv:4: seed people/);
  });

  it('a short row, an empty seed and column_types naming no column are each named; good seeds load', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'seeds/short.csv': 'id,name\n1,ann\n2\n',
      'seeds/empty.csv': '',
      'seeds/typed.csv': 'id,name\n1,ann\n',
      'seeds/good.csv': 'id,name\n1,"ann, the first"\n',
      'seeds/header_only.csv': 'id,name\n',
      'seeds/schema.yml':
        'version: 2\nseeds:\n  - name: typed\n    config:\n      column_types: {idd: BIGINT}\n',
    });
    const res = await runCli(['seed'], { cwd: dir });
    expect(res.code).toBe(1);
    const out = res.stdout + res.stderr;
    expect(out).toMatch(
      /\[WEIR-M010\] seeds\/short\.csv:3: seed short: row has a different number of fields/,
    );
    expect(out).toMatch(/\[WEIR-M011\] seeds\/empty\.csv:1: seed empty is empty/);
    expect(out).toMatch(/\[WEIR-M012\] seeds\/typed\.csv:1: seed typed: column_types names 'idd'/);
    const q = await runCli(
      ['query', 'select * from main.good union all select 2, count(*)::varchar from main.header_only'],
      {
        cwd: dir,
      },
    );
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toContain('ann, the first');
  });

  it('a missing ref suggests close names and exits 2', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/stg_orders.sql': 'select 1 as id\n',
      'models/orders.sql': "select * from {{ ref('stg_ordrs') }}\n",
    });
    const res = await runCli(['build'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('[WEIR-C001]');
    expect(res.stderr).toContain("did you mean 'stg_orders'");
    expect(res.stderr).toContain('models/orders.sql');
  });

  it('reports every project problem at once', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/a.sql': "select * from {{ ref('nope') }}\n",
      'models/b.sql': 'select {{ not_a_macro() }}\n',
      'models/schema.yml': 'version: 2\nmodels:\n  - name: a\n    columns: [\n',
    });
    const res = await runCli(['compile'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/\[WEIR-P002\] models\/schema\.yml:\d+/);
    expect(res.stderr).toMatch(/\[WEIR-C001\] models\/a\.sql/);
    expect(res.stderr).toMatch(/\[WEIR-T002\] models\/b\.sql:1/);
    expect(res.stderr).toMatch(/3 problems found/);
  });

  it('a dependency cycle names the chain', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/a.sql': "select * from {{ ref('b') }}\n",
      'models/b.sql': "select * from {{ ref('a') }}\n",
    });
    const res = await runCli(['build'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('[WEIR-G001]');
    expect(res.stderr).toMatch(/model\.demo\.(a|b) -> model\.demo\.(a|b) -> model\.demo\.(a|b)/);
  });

  it('a usage error exits 2', async () => {
    const dir = await writeProject(MINIMAL_PROJECT());
    const res = await runCli(['build', '--threads', 'zero'], { cwd: dir });
    expect(res.code).toBe(2);
    const outside = await runCli(['build'], { cwd: '/' });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain('[WEIR-P001]');
  });
});
