import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { injectCtes, skipLeadingTrivia, stripTrailingSemicolon } from './sql-text.js';

describe('stripTrailingSemicolon', () => {
  it('removes trailing semicolons, whitespace and comments after them', () => {
    expect(stripTrailingSemicolon('select 1;')).toBe('select 1');
    expect(stripTrailingSemicolon('select 1 ;\n\n')).toBe('select 1');
    expect(stripTrailingSemicolon('select 1;;  ;')).toBe('select 1');
    expect(stripTrailingSemicolon('select 1; -- done\n/* end */\n')).toBe('select 1');
  });

  it('leaves semicolons inside strings, quoted names and comments alone', () => {
    expect(stripTrailingSemicolon("select ';'")).toBe("select ';'");
    expect(stripTrailingSemicolon('select 1 as ";"')).toBe('select 1 as ";"');
    expect(stripTrailingSemicolon('select 1 -- trailing;')).toBe('select 1 -- trailing;');
    expect(stripTrailingSemicolon("select 'it''s;'\n")).toBe("select 'it''s;'");
    expect(stripTrailingSemicolon('select 1\n')).toBe('select 1');
  });
});

describe('skipLeadingTrivia', () => {
  it('skips whitespace and both comment styles', () => {
    const sql = '  -- a\n/* b\n c */\n  select 1';
    expect(sql.slice(skipLeadingTrivia(sql))).toBe('select 1');
  });
});

describe('injectCtes', () => {
  const ctes = [
    { name: '__dbt__cte__stg_a', sql: 'select 1 as id;' },
    { name: '__dbt__cte__stg_b', sql: 'select id from __dbt__cte__stg_a' },
  ];

  it('returns the SQL unchanged without CTEs', () => {
    expect(injectCtes('select 1', [])).toBe('select 1');
  });

  it('adds a WITH clause to a query without one', () => {
    expect(injectCtes('select * from __dbt__cte__stg_b', ctes)).toBe(
      'with __dbt__cte__stg_a as (\nselect 1 as id\n), __dbt__cte__stg_b as (\nselect id from __dbt__cte__stg_a\n)\nselect * from __dbt__cte__stg_b',
    );
  });

  it("merges into the query's own WITH, keeping leading comments first", () => {
    const sql =
      '-- model: orders\n/* generated */\nWITH final AS (select * from __dbt__cte__stg_b) select * from final';
    expect(injectCtes(sql, ctes)).toBe(
      '-- model: orders\n/* generated */\nWITH __dbt__cte__stg_a as (\nselect 1 as id\n), __dbt__cte__stg_b as (\nselect id from __dbt__cte__stg_a\n), final AS (select * from __dbt__cte__stg_b) select * from final',
    );
  });

  it('keeps WITH RECURSIVE and does not mistake identifiers starting with "with"', () => {
    expect(injectCtes('with recursive t(n) as (select 1) select * from t', [ctes[0]!])).toMatch(
      /^with recursive __dbt__cte__stg_a as \(\nselect 1 as id\n\), t\(n\) as/,
    );
    expect(injectCtes('without_rows', [ctes[0]!])).toMatch(
      /^with __dbt__cte__stg_a as \([\s\S]*\)\nwithout_rows$/,
    );
  });

  it('produces SQL DuckDB runs, with and without an existing WITH', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const plain = await conn.runAndReadAll(
        injectCtes('-- c\nselect count(*) as n from __dbt__cte__stg_b', ctes),
      );
      expect(plain.getRowObjectsJS()).toEqual([{ n: 1n }]);
      const merged = await conn.runAndReadAll(
        injectCtes('with x as (select id + 1 as id from __dbt__cte__stg_b) select id from x;', ctes),
      );
      expect(merged.getRowObjectsJS()).toEqual([{ id: 2 }]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
