import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession } from '../src/core/engine.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { compileGenericTest } from '../src/quality/generic-tests.js';
import { runChecks, type CheckRunStats } from '../src/quality/run-checks.js';
import { EXPECTATIONS } from '../src/quality/compile-checks.js';
import { toGeResult, type CheckResult, type CheckSpec } from '../src/quality/types.js';

let engine: Engine;
let s: EngineSession;

beforeAll(async () => {
  engine = await createDuckDbEngine({ threads: 1 });
  s = await engine.session();
  // 10 rows: id 1..10, score with one null and one out-of-range value, a duplicated code.
  await s.exec(`CREATE TABLE t AS SELECT * FROM (VALUES
    (1, 10.0, 'a@x.com', 'A', '2024-01-01', '{"a":1}', 5, 1),
    (2, 20.0, 'b@x.com', 'B', '2024-01-02', '{}', 6, 2),
    (3, 30.0, 'bad-mail', 'A', 'not a date', 'nope', 7, 3),
    (4, NULL, 'd@x.com', 'C', '01/05/2024', '[1]', 8, 4),
    (5, 50.0, NULL, 'A', '2024-01-05', '1', 9, 5),
    (6, 60.0, 'f@x.com', 'B', '2024-01-06', '"s"', 1, 6),
    (7, 70.0, 'g@x.com', 'A', '2024-01-07', 'null', 2, 7),
    (8, 80.0, 'h@x.com', 'B', '2024-01-08', '2', 3, 8),
    (9, 90.0, 'i@x.com', 'A', '2024-01-09', '3', 4, 9),
    (10, 500.0, 'j@x.com', 'Z', '2024-01-10', '4', 5, 11)
  ) AS v(id, score, email, code, d, js, a, b)`);
  await s.exec('CREATE TABLE empty_t AS SELECT * FROM t WHERE false');
  await s.exec('CREATE TABLE parent AS SELECT * FROM (VALUES (1), (2), (3)) AS p(pid)');
});
afterAll(async () => {
  s.close();
  await engine.close();
});

let n = 0;
function spec(type: string, kwargs: Record<string, unknown> = {}, extra: Partial<CheckSpec> = {}): CheckSpec {
  const { column, ...rest } = kwargs as { column?: string };
  return {
    id: `c${n++}`,
    name: type,
    type,
    ...(column ? { column } : {}),
    kwargs: rest,
    severity: 'error',
    at: { file: 'models/schema.yml', line: 7 },
    ...extra,
  };
}

async function one(
  type: string,
  kwargs: Record<string, unknown> = {},
  extra: Partial<CheckSpec> = {},
  table = 't',
): Promise<CheckResult> {
  const [r] = await runChecks(s, [spec(type, kwargs, extra)], {
    relation: table,
    resolveRelation: (e) => (e.includes('parent') ? 'parent' : e),
  });
  if (!r) throw new Error('no result');
  return r;
}

describe('GE expectations: result semantics', () => {
  it('between: nulls excluded from the denominator, mostly, samples only on failure', async () => {
    const r = await one('expect_column_values_to_be_between', {
      column: 'score',
      min_value: 0,
      max_value: 100,
    });
    expect(r.status).toBe('fail');
    expect(r.elementCount).toBe(10);
    expect(r.missingCount).toBe(1);
    expect(r.unexpectedCount).toBe(1);
    expect(r.unexpectedPercent).toBeCloseTo((1 / 9) * 100, 10);
    expect(r.partialUnexpectedList).toEqual([500]);
    const ge = toGeResult(r, { min_value: 0, max_value: 100 });
    expect(ge.result['unexpected_count']).toBe(1);
    expect(ge.success).toBe(false);

    const mostly = await one('expect_column_values_to_be_between', {
      column: 'score',
      min_value: 0,
      max_value: 100,
      mostly: 0.85,
    });
    expect(mostly.status).toBe('pass');
    expect(mostly.partialUnexpectedList).toEqual([]);
    const strict = await one('expect_column_values_to_be_between', {
      column: 'score',
      min_value: 10,
      strict_min: true,
      max_value: 500,
    });
    expect(strict.unexpectedCount).toBe(1);
  });

  it('zero rows pass', async () => {
    for (const [type, kw] of [
      ['expect_column_values_to_be_between', { column: 'score', min_value: 0, max_value: 1 }],
      ['expect_column_values_to_not_be_null', { column: 'score' }],
      ['expect_column_values_to_be_unique', { column: 'code' }],
      ['expect_column_mean_to_be_between', { column: 'score', min_value: 1000 }],
    ] as const) {
      const r = await one(type, kw, {}, 'empty_t');
      expect(r.status, type).toBe('pass');
    }
  });

  it('not_null uses all rows as denominator; be_null the reverse', async () => {
    const r = await one('expect_column_values_to_not_be_null', { column: 'email' });
    expect(r.unexpectedCount).toBe(1);
    expect(r.unexpectedPercent).toBe(10);
    expect(r.partialUnexpectedList).toEqual([null]);
    const ok = await one('expect_column_values_to_not_be_null', { column: 'email', mostly: 0.9 });
    expect(ok.status).toBe('pass');
    const isNull = await one('expect_column_values_to_be_null', { column: 'email' });
    expect(isNull.unexpectedCount).toBe(9);
  });

  it('sets, regex, like, lengths, json, dates', async () => {
    expect(
      (await one('expect_column_values_to_be_in_set', { column: 'code', value_set: ['A', 'B', 'C'] }))
        .unexpectedCount,
    ).toBe(1);
    expect(
      (await one('expect_column_values_to_not_be_in_set', { column: 'code', value_set: ['Z'] }))
        .partialUnexpectedList,
    ).toEqual(['Z']);
    const re = await one('expect_column_values_to_match_regex', { column: 'email', regex: '^[^@]+@[^@]+$' });
    expect(re.unexpectedCount).toBe(1);
    expect(re.unexpectedPercent).toBeCloseTo(100 / 9, 10);
    expect(re.partialUnexpectedList).toEqual(['bad-mail']);
    expect(
      (await one('expect_column_values_to_not_match_regex', { column: 'email', regex: 'bad' }))
        .unexpectedCount,
    ).toBe(1);
    expect(
      (await one('expect_column_values_to_match_like_pattern', { column: 'email', like_pattern: '%@x.com' }))
        .unexpectedCount,
    ).toBe(1);
    expect(
      (await one('expect_column_value_lengths_to_be_between', { column: 'code', min_value: 1, max_value: 1 }))
        .status,
    ).toBe('pass');
    expect(
      (await one('expect_column_value_lengths_to_equal', { column: 'email', value: 7 })).unexpectedCount,
    ).toBe(1);
    expect(
      (await one('expect_column_values_to_be_json_parseable', { column: 'js' })).partialUnexpectedList,
    ).toEqual(['nope']);
    const dates = await one('expect_column_values_to_be_dateutil_parseable', { column: 'd' });
    expect(dates.partialUnexpectedList).toEqual(['not a date']);
  });

  it('uniqueness: exact GE unexpected_count (every duplicated row)', async () => {
    const r = await one('expect_column_values_to_be_unique', { column: 'code' });
    expect(r.status).toBe('fail');
    expect(r.unexpectedCount).toBe(8); // A x5 + B x3
    expect(r.partialUnexpectedList).toHaveLength(8);
    expect((await one('expect_column_values_to_be_unique', { column: 'id' })).status).toBe('pass');
    const compound = await one('expect_compound_columns_to_be_unique', { column_list: ['id', 'code'] });
    expect(compound.status).toBe('pass');
    const dup = await one('expect_compound_columns_to_be_unique', { column_list: ['code'] });
    expect(dup.unexpectedCount).toBe(8);
  });

  it('aggregates report observed_value', async () => {
    const mean = await one('expect_column_mean_to_be_between', {
      column: 'score',
      min_value: 0,
      max_value: 100,
    });
    expect(mean.observedValue).toBeCloseTo(910 / 9, 10);
    expect(mean.status).toBe('fail');
    expect(
      (await one('expect_column_max_to_be_between', { column: 'score', max_value: 500 })).observedValue,
    ).toBe(500);
    expect((await one('expect_column_min_to_be_between', { column: 'id', min_value: 1 })).status).toBe(
      'pass',
    );
    expect(
      (await one('expect_column_median_to_be_between', { column: 'score', min_value: 60, max_value: 60 }))
        .observedValue,
    ).toBe(60);
    expect(
      (await one('expect_column_sum_to_be_between', { column: 'id', min_value: 55, max_value: 55 })).status,
    ).toBe('pass');
    expect((await one('expect_column_stdev_to_be_between', { column: 'id', max_value: 1 })).status).toBe(
      'fail',
    );
    expect(
      (
        await one('expect_column_unique_value_count_to_be_between', {
          column: 'code',
          min_value: 4,
          max_value: 4,
        })
      ).observedValue,
    ).toBe(4);
    expect(
      (
        await one('expect_column_proportion_of_unique_values_to_be_between', {
          column: 'code',
          max_value: 0.5,
        })
      ).observedValue,
    ).toBeCloseTo(0.4, 10);
    const q = await one('expect_column_quantile_values_to_be_between', {
      column: 'id',
      quantile_ranges: { quantiles: [0.5], value_ranges: [[5, 6]] },
    });
    expect(q.status).toBe('pass');
    expect((await one('expect_table_row_count_to_be_between', { min_value: 11 })).observedValue).toBe(10);
    expect((await one('expect_table_row_count_to_equal', { value: 10 })).status).toBe('pass');
  });

  it('distinct sets and most common value', async () => {
    expect(
      (
        await one('expect_column_distinct_values_to_be_in_set', {
          column: 'code',
          value_set: ['A', 'B', 'C'],
        })
      ).observedValue,
    ).toEqual(['A', 'B', 'C', 'Z']);
    expect(
      (await one('expect_column_distinct_values_to_contain_set', { column: 'code', value_set: ['A', 'Z'] }))
        .status,
    ).toBe('pass');
    expect(
      (await one('expect_column_distinct_values_to_equal_set', { column: 'code', value_set: ['A', 'B'] }))
        .status,
    ).toBe('fail');
    const mc = await one('expect_column_most_common_value_to_be_in_set', {
      column: 'code',
      value_set: ['A'],
    });
    expect(mc.observedValue).toEqual(['A']);
    expect(mc.status).toBe('pass');
  });

  it('schema expectations read the columns', async () => {
    expect((await one('expect_table_column_count_to_equal', { value: 8 })).status).toBe('pass');
    expect(
      (await one('expect_table_columns_to_match_set', { column_set: ['id', 'score'], exact_match: false }))
        .status,
    ).toBe('pass');
    expect((await one('expect_table_columns_to_match_set', { column_set: ['id', 'nope'] })).status).toBe(
      'fail',
    );
    expect((await one('expect_column_to_exist', { column: 'email' })).status).toBe('pass');
    const typed = await one('expect_column_values_to_be_of_type', { column: 'id', type_: 'INTEGER' });
    expect(typed.observedValue).toBe('INTEGER');
    expect(typed.status).toBe('pass');
    expect(
      (await one('expect_column_values_to_be_in_type_list', { column: 'email', type_list: ['INTEGER'] }))
        .status,
    ).toBe('fail');
  });

  it('pairs, multicolumn sums, ordering, custom SQL', async () => {
    const pair = await one('expect_column_pair_values_A_to_be_greater_than_B', {
      column_A: 'b',
      column_B: 'a',
    });
    expect(pair.unexpectedCount).toBe(5);
    expect(
      (await one('expect_column_pair_values_to_be_equal', { column_A: 'id', column_B: 'b' })).unexpectedCount,
    ).toBe(1);
    expect(
      (await one('expect_multicolumn_sum_to_equal', { column_list: ['id', 'a'], sum_total: 6 })).status,
    ).toBe('fail');
    const inc = await one('expect_column_values_to_be_increasing', { column: 'b', order_by: 'id' });
    expect(inc.status).toBe('pass');
    const dec = await one('expect_column_values_to_be_decreasing', { column: 'a', order_by: 'id' });
    expect(dec.unexpectedCount).toBe(8);
    const sql = await one('unexpected_rows_expectation', {
      unexpected_rows_query: 'SELECT * FROM {batch} WHERE score > 100',
    });
    expect(sql.observedValue).toBe(1);
    expect(sql.partialUnexpectedList).toHaveLength(1);
  });
});

describe('dbt tests and batching', () => {
  it('dbt semantics: failure counts, thresholds, severity, where, limit', async () => {
    expect((await one('not_null', { column: 'score' })).failures).toBe(1);
    const uniq = await one('unique', { column: 'code' });
    expect(uniq.failures).toBe(2); // two duplicated values, as dbt's query returns
    expect(uniq.status).toBe('fail');
    expect((await one('accepted_values', { column: 'code', values: ['A', 'B'] })).failures).toBe(2);
    expect((await one('relationships', { column: 'id', to: "ref('parent')", field: 'pid' })).failures).toBe(
      7,
    );
    expect((await one('not_null', { column: 'score' }, { severity: 'warn' })).status).toBe('warn');
    expect(
      (await one('accepted_values', { column: 'code', values: ['A', 'B'] }, { errorIf: '>5', warnIf: '>1' }))
        .status,
    ).toBe('warn');
    expect((await one('not_null', { column: 'score' }, { where: 'id <> 4' })).status).toBe('pass');
    expect(
      (await one('relationships', { column: 'id', to: "ref('parent')", field: 'pid' }, { limit: 3 }))
        .failures,
    ).toBe(3);
  });

  it('25 checks in one aggregate scan, deduplicated; a broken check is error, the others run', async () => {
    const specs: CheckSpec[] = [];
    for (let i = 0; i < 5; i++) {
      specs.push(spec('not_null', { column: 'id' }));
      specs.push(
        spec('expect_column_values_to_be_between', { column: 'score', min_value: 0, max_value: 1000 + i }),
      );
      specs.push(
        spec('expect_column_values_to_be_in_set', { column: 'code', value_set: ['A', 'B', 'C', 'Z'] }),
      );
      specs.push(spec('expect_table_row_count_to_be_between', { min_value: i }));
      specs.push(spec('expect_column_mean_to_be_between', { column: 'id', min_value: 0 }));
    }
    const stats: CheckRunStats = { scans: 0, queries: 0 };
    const results = await runChecks(
      s,
      [...specs, spec('not_null', { column: 'no_such_col' })],
      { relation: 't' },
      { stats },
    );
    expect(stats).toEqual({ scans: 1, queries: 0 });
    expect(results.slice(0, 25).every((r) => r.status === 'pass')).toBe(true);
    const broken = results[25]!;
    expect(broken.status).toBe('error');
    expect(broken.success).toBeNull();
    expect(broken.error?.code).toBe('WEIR-Q004');
  });

  it('unknown names list the closest ones, at the yml line', async () => {
    const r = await one('expect_column_values_to_be_betwen', { column: 'id' });
    expect(r.status).toBe('error');
    expect(r.error?.code).toBe('WEIR-Q001');
    expect(r.error?.hint).toContain("'expect_column_values_to_be_between'");
    expect(r.error?.at).toEqual({ file: 'models/schema.yml', line: 7 });
    expect(() =>
      compileGenericTest({
        testName: 'uniqe',
        model: 't',
        kwargs: {},
        columnName: 'id',
        resolveRelation: (x) => x,
        at: { file: 'm.yml', line: 3 },
      }),
    ).toThrow(/unknown check/);
  });

  it('every listed expectation compiles for weir compile', () => {
    const args: Record<string, unknown> = {
      min_value: 0,
      max_value: 1,
      value: 1,
      value_set: [1],
      column_set: ['id'],
      column_list: ['id', 'a'],
      regex: 'x',
      regex_list: ['x'],
      like_pattern: 'x%',
      type_: 'INTEGER',
      type_list: ['INTEGER'],
      column_A: 'a',
      column_B: 'b',
      sum_total: 1,
      quantile_ranges: { quantiles: [0.5], value_ranges: [[0, 1]] },
      unexpected_rows_query: 'select * from {batch}',
    };
    for (const name of EXPECTATIONS) {
      const sql = compileGenericTest({
        testName: name,
        model: 't',
        columnName: 'id',
        kwargs: args,
        resolveRelation: (x) => x,
        at: { file: 'm.yml', line: 1 },
      });
      expect(sql.length, name).toBeGreaterThan(10);
    }
  });
});
