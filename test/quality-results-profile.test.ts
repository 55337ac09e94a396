import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { parseContract } from '../src/quality/contract-parse.js';
import { bindContracts, contractChecks } from '../src/quality/contracts.js';
import { runChecks } from '../src/quality/run-checks.js';
import { odcsLogicalType, profileTable, suggestContract } from '../src/quality/profile.js';
import { REPO_ROOT } from './helpers/cli.js';

const officialSchema = JSON.parse(
  readFileSync(join(REPO_ROOT, '../shared/fixtures/odcs/odcs-json-schema-v3.1.0.json'), 'utf8'),
) as object;

async function withTable<T>(
  sql: string,
  fn: (s: Awaited<ReturnType<Awaited<ReturnType<typeof createDuckDbEngine>>['session']>>) => Promise<T>,
): Promise<T> {
  const engine = await createDuckDbEngine();
  const session = await engine.session();
  try {
    await session.exec(sql);
    return await fn(session);
  } finally {
    session.close();
    await engine.close();
  }
}

const TABLE = `CREATE TABLE p AS SELECT * FROM (VALUES
  (1, 'a@x.io', '+1 (555) 123-4567', '123e4567-e89b-12d3-a456-426614174000', '2024-01-02', '01/02/2024', 'https://x.io/a', 1.5, DATE '2024-01-01', 'red'),
  (2, 'b@x.io', '555-123-4568', '123e4567-e89b-12d3-a456-426614174001', '2024-01-03T10:00:00Z', '12/31/2023', 'http://x.io/b?q=1', 2.5, DATE '2024-01-02', 'red'),
  (3, 'c@x.io', '555.123.4569', '123e4567-e89b-12d3-a456-426614174002', '2024-01-04', '1/5/2024', 'https://x.io/c', NULL, DATE '2024-01-03', 'blue'),
  (4, 'not an email', '555 123 4560', '123e4567-e89b-12d3-a456-426614174003', '2024-01-05', '02/29/2024', 'https://x.io/d', 10.0, DATE '2024-01-04', NULL)
) t(id, email, phone, uid, iso, us, url, amount, day, color)`;

describe('weir profile (profileTable)', () => {
  it('computes per-column statistics and patterns in two queries', async () => {
    const p = await withTable(TABLE, (s) => profileTable(s, 'p', 'main.p'));
    expect(p.rows).toBe(4);
    expect(p.queries).toBe(2);
    const col = (n: string) => p.columns.find((c) => c.name === n);
    expect(col('id')).toMatchObject({ kind: 'numeric', nulls: 0, distinct: 4, min: 1, max: 4, mean: 2.5 });
    expect(col('id')?.stddev).toBeCloseTo(1.291, 3);
    expect(col('id')?.quantiles).toEqual({ p25: 1.75, p50: 2.5, p75: 3.25 });
    expect(col('amount')).toMatchObject({ nulls: 1, distinct: 3, min: 1.5, max: 10 });
    expect(col('amount')?.nullPercent).toBe(25);
    expect(col('day')).toMatchObject({ kind: 'temporal', min: '2024-01-01', max: '2024-01-04' });
    expect(col('day')?.quantiles?.p50).toBe('2024-01-02');
    expect(col('color')?.top).toEqual([
      { value: 'red', count: 2 },
      { value: 'blue', count: 1 },
    ]);
    // 3 of 4 emails match: 75% is below the 90% threshold, so not detected, but counted
    expect(col('email')?.patternMatches.email).toBe(3);
    expect(col('email')?.patterns).toEqual([]);
    expect(col('phone')?.patterns).toEqual(['phone']);
    expect(col('uid')?.patterns).toEqual(['uuid']);
    expect(col('iso')?.patterns).toEqual(['iso_date']);
    expect(col('us')?.patterns).toEqual(['us_date']);
    expect(col('url')?.patterns).toEqual(['url']);
    expect(col('color')?.patterns).toEqual([]);
  }, 30_000);

  it('handles an empty table and a UUID-typed column', async () => {
    const p = await withTable(
      `CREATE TABLE e (id INTEGER, u UUID, s VARCHAR); CREATE TABLE f AS SELECT gen_random_uuid() AS u FROM range(3)`,
      async (s) => [await profileTable(s, 'e', 'main.e'), await profileTable(s, 'f', 'main.f')],
    );
    expect(p[0]?.rows).toBe(0);
    expect(p[0]?.columns.map((c) => [c.name, c.nulls, c.distinct, c.mean])).toEqual([
      ['id', 0, 0, null],
      ['u', 0, 0, null],
      ['s', 0, 0, null],
    ]);
    expect(p[1]?.columns[0]).toMatchObject({ kind: 'uuid', patterns: ['uuid'], distinct: 3 });
  }, 30_000);

  it('suggests an ODCS v3.1 contract that the contract loader accepts and whose checks pass', async () => {
    const { yaml, results, specs } = await withTable(TABLE, async (s) => {
      const text = suggestContract(await profileTable(s, 'p', 'main.p'), { id: 'p', name: 'p' });
      const c = parseContract({ path: 'contracts/p.odcs.yaml', content: text }).contract;
      const { bindings } = bindContracts(c ? [c] : [], [{ asset: 'main.p', name: 'p', identifier: 'p' }]);
      const cols = await s.describe('SELECT * FROM p');
      const checkSpecs = bindings[0] ? contractChecks(bindings[0], cols) : [];
      return { yaml: text, specs: checkSpecs, results: await runChecks(s, checkSpecs, { relation: 'p' }) };
    });
    // type checks for 10 columns, required, unique, patterns, rowCount: all pass on the profiled data
    expect(specs.length).toBeGreaterThan(20);
    expect(results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message}`)).toEqual([]);
    expect(specs.map((s) => s.type)).toContain('expect_column_values_to_match_regex');
    const parsed = parseContract({ path: 'contracts/p.odcs.yaml', content: yaml }, { officialSchema });
    expect(parsed.diagnostics).toEqual([]);
    const contract = parsed.contract;
    expect(contract?.status).toBe('draft');
    const obj = contract?.objects[0];
    expect(obj?.physicalName).toBe('main.p');
    const prop = (n: string) => obj?.properties.find((x) => x.name === n);
    expect(prop('id')).toMatchObject({ logicalType: 'integer', required: true, unique: true });
    expect(prop('amount')).toMatchObject({ logicalType: 'number' });
    expect(prop('amount')?.required).toBeFalsy();
    expect(prop('color')?.unique).toBeFalsy();
    expect(prop('day')).toMatchObject({ logicalType: 'date' });
    expect(prop('phone')?.options['pattern']).toMatch(/^\^/);
    expect(prop('email')?.options['pattern']).toBeUndefined();
    expect(odcsLogicalType('TIMESTAMP WITH TIME ZONE')).toBe('timestamp');
    expect(odcsLogicalType('INTEGER[]')).toBe('array');
    expect(odcsLogicalType('STRUCT(a INTEGER)')).toBe('object');
  }, 30_000);
});
