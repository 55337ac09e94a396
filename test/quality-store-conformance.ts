import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckRecord, QualityStore, TableRecord } from '../src/core/quality-store.js';

export interface QualityStoreFixture {
  /** A fresh, empty, ready store. */
  readonly store: QualityStore;
  readonly dispose: () => Promise<void>;
}

function check(runId: string, at: string, extra: Partial<CheckRecord> = {}): CheckRecord {
  return {
    runId,
    at,
    asset: 'main.orders',
    checkId: 'test.demo.not_null_orders_id',
    name: 'not_null_orders_id',
    type: 'not_null',
    column: 'id',
    severity: 'error',
    origin: 'schema',
    status: 'pass',
    observedValue: null,
    elementCount: 10,
    unexpectedCount: 0,
    failures: 0,
    message: 'pass: 0 failing rows',
    samples: [],
    ...extra,
  };
}

function table(runId: string, at: string, rowCount: number, asset = 'main.orders'): TableRecord {
  return {
    runId,
    at,
    asset,
    rowCount,
    freshness: null,
    schema: [
      { name: 'id', type: 'INTEGER' },
      { name: 'amount', type: 'DECIMAL(18,2)' },
    ],
  };
}

/** The contract every QualityStore implementation keeps. */
export function qualityStoreConformance(name: string, make: () => Promise<QualityStoreFixture>): void {
  describe(`QualityStore conformance: ${name}`, () => {
    let f: QualityStoreFixture;
    beforeEach(async () => {
      f = await make();
    });
    afterEach(async () => {
      await f.dispose();
    });

    it('returns table history oldest first, newest N, per asset', async () => {
      for (let i = 0; i < 5; i++)
        await f.store.recordTable(table(`r${i}`, `2024-03-0${i + 1}T00:00:00.000Z`, 1000 + i));
      await f.store.recordTable(table('r9', '2024-03-09T00:00:00.000Z', 7, 'main.other'));
      const h = await f.store.tableHistory('main.orders', 3);
      expect(h.map((t) => t.rowCount)).toEqual([1002, 1003, 1004]);
      expect(h[0]?.schema).toEqual([
        { name: 'id', type: 'INTEGER' },
        { name: 'amount', type: 'DECIMAL(18,2)' },
      ]);
      expect(await f.store.assets()).toEqual(['main.orders', 'main.other']);
    });

    it('replaces the record of the same run and asset', async () => {
      await f.store.recordTable(table('r1', '2024-03-01T00:00:00.000Z', 10));
      await f.store.recordTable(table('r1', '2024-03-01T00:00:00.000Z', 11));
      expect((await f.store.tableHistory('main.orders')).map((t) => t.rowCount)).toEqual([11]);
    });

    it('keeps observed values, counts and samples of checks as JSON', async () => {
      await f.store.recordChecks([
        check('r1', '2024-03-01T00:00:00.000Z', { observedValue: { mean: 1.5, stddev: 0.5 } }),
        check('r2', '2024-03-02T00:00:00.000Z', {
          status: 'fail',
          failures: 2,
          unexpectedCount: 2,
          samples: [
            { id: null, amount: 3 },
            { id: null, amount: 4n as unknown as number },
          ],
        }),
        check('r2', '2024-03-02T00:00:00.000Z', { checkId: 'other', name: 'other' }),
      ]);
      const h = await f.store.checkHistory('main.orders', 'test.demo.not_null_orders_id');
      expect(h.map((c) => [c.runId, c.status])).toEqual([
        ['r1', 'pass'],
        ['r2', 'fail'],
      ]);
      expect(h[0]?.observedValue).toEqual({ mean: 1.5, stddev: 0.5 });
      expect(h[1]?.samples).toEqual([
        { id: null, amount: 3 },
        { id: null, amount: 4 },
      ]);
      expect((await f.store.runChecks('r2')).map((c) => c.checkId)).toEqual([
        'other',
        'test.demo.not_null_orders_id',
      ]);
      expect((await f.store.runChecks('r2', 'main.nothing')).length).toBe(0);
    });

    it('lists the runs of an asset newest first', async () => {
      await f.store.recordTable(table('a', '2024-03-01T00:00:00.000Z', 1));
      await f.store.recordChecks([check('b', '2024-03-02T00:00:00.000Z')]);
      await f.store.recordTable(table('b', '2024-03-02T00:00:00.000Z', 2));
      expect(await f.store.runsOf('main.orders')).toEqual([
        { runId: 'b', at: '2024-03-02T00:00:00.000Z' },
        { runId: 'a', at: '2024-03-01T00:00:00.000Z' },
      ]);
    });
  });
}
