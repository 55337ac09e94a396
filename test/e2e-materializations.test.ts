import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MINIMAL_PROJECT, addFiles, runCli, writeProject } from './helpers/cli.js';

async function query(dir: string, sql: string): Promise<Record<string, unknown>[]> {
  const res = await runCli(['query', sql, '--output', 'json', '--limit', '10000'], { cwd: dir });
  expect(res.code, res.stderr).toBe(0);
  return res.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function build(dir: string, ...args: string[]): Promise<void> {
  const res = await runCli(['build', ...args], { cwd: dir });
  expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
}

describe('incremental models', () => {
  it('merge with a NULL in the unique key produces no duplicates', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/events.sql': `{{ config(materialized='incremental', unique_key=['k1', 'k2'], incremental_strategy='merge') }}
select * from (values (1, null, {{ var('v', 1) }}), (2, 'a', {{ var('v', 1) }}), (null, null, {{ var('v', 1) }})) t(k1, k2, v)
`,
    });
    await build(dir);
    await build(dir, '--vars', '{v: 2}');
    await build(dir, '--vars', '{v: 3}');
    const rows = await query(dir, 'select k1, k2, v from main.events order by all');
    expect(rows).toEqual([
      { k1: 1, k2: null, v: 3 },
      { k1: 2, k2: 'a', v: 3 },
      { k1: null, k2: null, v: 3 },
    ]);
  });

  it('delete+insert and append strategies, merge_update_columns, and --full-refresh', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/di.sql': `{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert') }}
select * from (values (1, {{ var('v', 1) }}), ({{ var('id2', 2) }}, {{ var('v', 1) }})) t(id, v)
`,
      'models/ap.sql': `{{ config(materialized='incremental') }}
select {{ var('v', 1) }} as v
`,
      'models/mu.sql': `{{ config(materialized='incremental', unique_key='id', merge_update_columns=['v']) }}
select * from (values (1, {{ var('v', 1) }}, {{ var('v', 1) }} * 10)) t(id, v, w)
`,
    });
    await build(dir);
    await build(dir, '--vars', '{v: 5, id2: 3}');
    expect(await query(dir, 'select id, v from main.di order by all')).toEqual([
      { id: 1, v: 5 },
      { id: 2, v: 1 },
      { id: 3, v: 5 },
    ]);
    expect(await query(dir, 'select v from main.ap order by all')).toEqual([{ v: 1 }, { v: 5 }]);
    expect(await query(dir, 'select id, v, w from main.mu')).toEqual([{ id: 1, v: 5, w: 10 }]);
    await build(dir, '--full-refresh', '--vars', '{v: 7}');
    expect(await query(dir, 'select v from main.ap')).toEqual([{ v: 7 }]);
  });

  it('on_schema_change: append_new_columns adds, sync_all_columns drops, fail refuses and keeps the table', async () => {
    const v1 = (mode: string): string =>
      `{{ config(materialized='incremental', unique_key='id', on_schema_change='${mode}') }}\nselect 1 as id, 'a' as a\n`;
    const v2 = (mode: string): string =>
      `{{ config(materialized='incremental', unique_key='id', on_schema_change='${mode}') }}\nselect 2 as id, 'b' as b\n`;
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/anc.sql': v1('append_new_columns'),
      'models/sac.sql': v1('sync_all_columns'),
      'models/fl.sql': v1('fail'),
    });
    await build(dir);
    await addFiles(dir, {
      'models/anc.sql': v2('append_new_columns'),
      'models/sac.sql': v2('sync_all_columns'),
    });
    await build(dir, '-s', 'anc', 'sac');
    expect(await query(dir, 'select * from main.anc order by id')).toEqual([
      { id: 1, a: 'a', b: null },
      { id: 2, a: null, b: 'b' },
    ]);
    expect(await query(dir, 'select * from main.sac order by id')).toEqual([
      { id: 1, b: null },
      { id: 2, b: 'b' },
    ]);
    await writeFile(join(dir, 'models/fl.sql'), v2('fail'));
    const res = await runCli(['build', '-s', 'fl'], { cwd: dir });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toContain('[WEIR-M002]');
    expect(res.stdout + res.stderr).toContain('new columns: b');
    expect(await query(dir, 'select * from main.fl')).toEqual([{ id: 1, a: 'a' }]);
  });
});

describe('ephemeral models, views, failure isolation', () => {
  it('inlines ephemerals as CTEs (also into models starting with WITH) and skips only descendants of a failure', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/eph_base.sql': "{{ config(materialized='ephemeral') }}\nselect 1 as id union all select 2\n",
      'models/eph_top.sql':
        "{{ config(materialized='ephemeral') }}\nselect id * 10 as id from {{ ref('eph_base') }}\n",
      'models/uses_with.sql':
        "-- comment first\nwith x as (select * from {{ ref('eph_top') }})\nselect sum(id) as s from x\n",
      'models/plain.sql':
        "{{ config(materialized='table') }}\nselect count(*) as n, sum(id) as s from {{ ref('eph_base') }}\n",
      'models/broken.sql': 'select * from no_such_table\n',
      'models/after_broken.sql': "select * from {{ ref('broken') }}\n",
    });
    const res = await runCli(['build'], { cwd: dir });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/SKIP\s+model main\.after_broken/);
    expect(await query(dir, 'select s::int as s from main.uses_with')).toEqual([{ s: 30 }]);
    expect(await query(dir, 'select n from main.plain')).toEqual([{ n: 2 }]);
    // sum() of integers is a HUGEINT in DuckDB; Delta has no 128-bit integer, so the table stores DECIMAL(38,0).
    expect(
      await query(
        dir,
        "select column_name, data_type from information_schema.columns where table_name = 'plain' order by 1",
      ),
    ).toEqual([
      { column_name: 'n', data_type: 'BIGINT' },
      { column_name: 's', data_type: 'DECIMAL(38,0)' },
    ]);
    const ls = await runCli(['ls', '-s', '+after_broken', '--output', 'name'], { cwd: dir });
    expect(ls.stdout.trim().split('\n').sort()).toEqual(['demo.after_broken', 'demo.broken']);
  });
});

describe('snapshots (SCD type 2)', () => {
  it('check strategy with hard deletes invalidated', async () => {
    const snapshot = `{% snapshot people_snapshot %}
{{ config(target_schema='snapshots', unique_key='id', strategy='check', check_cols=['email'], hard_deletes='invalidate') }}
select * from {{ ref('people') }}
{% endsnapshot %}
`;
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'seeds/people.csv': 'id,email\n1,a@x.io\n2,b@x.io\n3,c@x.io\n',
      'snapshots/people.sql': snapshot,
    });
    await build(dir);
    await build(dir); // unchanged source: no new versions
    expect(await query(dir, 'select count(*) as n from snapshots.people_snapshot')).toEqual([{ n: 3 }]);
    await writeFile(join(dir, 'seeds/people.csv'), 'id,email\n1,a@x.io\n2,b2@x.io\n4,d@x.io\n');
    await build(dir);
    const rows = await query(
      dir,
      'select id, email, is_current, valid_to is not null as closed from snapshots.people_snapshot order by id, valid_from',
    );
    expect(rows).toEqual([
      { id: 1, email: 'a@x.io', is_current: true, closed: false },
      { id: 2, email: 'b@x.io', is_current: false, closed: true },
      { id: 2, email: 'b2@x.io', is_current: true, closed: false },
      { id: 3, email: 'c@x.io', is_current: false, closed: true },
      { id: 4, email: 'd@x.io', is_current: true, closed: false },
    ]);
  });

  it('timestamp strategy uses updated_at for validity', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/src.sql':
        "select * from (values (1, 'x', TIMESTAMP '2024-01-0{{ var('d', 1) }} 00:00:00')) t(id, v, changed_at)\n",
      'snapshots/s.sql': `{% snapshot src_snapshot %}
{{ config(unique_key='id', strategy='timestamp', updated_at='changed_at') }}
select * from {{ ref('src') }}
{% endsnapshot %}
`,
    });
    await build(dir);
    await build(dir, '--vars', '{d: 5}');
    const rows = await query(
      dir,
      "select strftime(valid_from, '%d') as f, strftime(valid_to, '%d') as t, is_current from main.src_snapshot order by valid_from",
    );
    expect(rows).toEqual([
      { f: '01', t: '05', is_current: false },
      { f: '05', t: null, is_current: true },
    ]);
  });
});

describe('tables read in the run that builds them', () => {
  it('dependents see the types and values a later run reads back from Delta', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/typed.sql': `{{ config(materialized='table') }}
select 1::utinyint as u8, 12345678901234567890::hugeint as big, timestamp '2024-05-01 10:30:00' as ts,
  timestamp_ns '2024-05-01 10:30:00.123456789' as ts_ns, interval 3 day as iv,
  {'at': timestamp '2024-05-01 10:30:00', 'n': 2::usmallint} as nested, 'x'::varchar as s
`,
      'models/seen.sql': `{{ config(materialized='table') }}
select typeof(u8) as t_u8, typeof(big) as t_big, typeof(ts) as t_ts, typeof(ts_ns) as t_ts_ns,
  typeof(iv) as t_iv, typeof(nested) as t_nested, typeof(s) as t_s,
  u8::varchar as v_u8, big::varchar as v_big, epoch_us(ts) as v_ts, epoch_us(ts_ns) as v_ts_ns,
  iv::varchar as v_iv, epoch_us(nested.at) as v_nested
from {{ ref('typed') }}
`,
      // Seeds are built in memory too.
      'seeds/events.csv': 'id,seen_at,label\n1,2024-05-01 10:30:00,a\n2,2024-05-02 11:00:00.5,\n',
      'models/seen_seed.sql': `{{ config(materialized='table') }}
select any_value(typeof(id)) as t_id, any_value(typeof(seen_at)) as t_at, any_value(typeof(label)) as t_label,
  sum(id) as v_id, max(epoch_us(seen_at)) as v_at, count(label) as v_label
from {{ ref('events') }}
`,
    });
    await build(dir);
    const sameRun = await query(dir, 'select * from main.seen');
    const sameRunSeed = await query(dir, 'select * from main.seen_seed');
    // Only the dependents: the upstream table and seed are read from their Delta snapshots.
    await build(dir, '--select', 'seen', 'seen_seed');
    const laterRun = await query(dir, 'select * from main.seen');
    expect(laterRun).toEqual(sameRun);
    expect(sameRun[0]).toMatchObject({ t_ts: 'TIMESTAMP WITH TIME ZONE', t_s: 'VARCHAR' });
    expect(sameRun[0]?.['t_u8']).not.toBe('UTINYINT');
    expect(await query(dir, 'select * from main.seen_seed')).toEqual(sameRunSeed);
    expect(sameRunSeed[0]).toMatchObject({ t_at: 'TIMESTAMP WITH TIME ZONE', v_label: 1 });
  });

  it('a table that fails its audit is not read by dependents, and its catalog view stays at the last good version', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/base.sql': `{{ config(materialized='table') }}
select * from (values (1), ({{ var('second', 2) }})) t(id)
`,
      'models/schema.yml': `version: 2
models:
  - name: base
    columns:
      - name: id
        data_tests: [unique]
`,
      'models/child.sql': `select count(*) as n from {{ ref('base') }}
`,
    });
    await build(dir);
    expect(await query(dir, 'select id from main.base order by id')).toEqual([{ id: 1 }, { id: 2 }]);
    const res = await runCli(['build', '--vars', '{second: 1}'], { cwd: dir });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/child.*skipped|SKIP.*child/i);
    expect(await query(dir, 'select id from main.base order by id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await query(dir, 'select n from main.child')).toEqual([{ n: 2 }]);
  });

  it('a build of one model after the query catalog was deleted publishes every asset again', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/a.sql': `{{ config(materialized='table') }}
select 1 as id
`,
      'models/b.sql': `select id + 1 as id from {{ ref('a') }}
`,
      'models/c.sql': `{{ config(materialized='table') }}
select id * 10 as id from {{ ref('b') }}
`,
    });
    await build(dir);
    await rm(join(dir, '.weir/weir.duckdb'));
    await build(dir, '--select', 'c');
    expect(
      await query(
        dir,
        'select (select id from main.a) as a, (select id from main.b) as b, (select id from main.c) as c',
      ),
    ).toEqual([{ a: 1, b: 2, c: 20 }]);
  });
});
