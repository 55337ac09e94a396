import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession } from '../src/core/engine.js';
import { WeirError } from '../src/core/errors.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { compileCheck } from '../src/quality/compile-checks.js';
import { runChecks } from '../src/quality/run-checks.js';
import type { CheckHistory, CheckSpec, HistoryPoint } from '../src/quality/types.js';
import { parseDuration } from '../src/quality/weir-checks.js';

let engine: Engine;
let s: EngineSession;
beforeAll(async () => {
  engine = await createDuckDbEngine({ threads: 1 });
  s = await engine.session();
  await s.exec(`CREATE TABLE t AS SELECT range AS id, range * 1.0 AS amount,
    TIMESTAMP '2024-03-01 00:00:00' + INTERVAL (range) MINUTE AS updated_at FROM range(100)`);
});
afterAll(async () => {
  s.close();
  await engine.close();
});

const NOW = new Date('2024-03-01T04:00:00Z');
function spec(type: string, kwargs: Record<string, unknown>, column?: string): CheckSpec {
  return {
    id: `m_${type}`,
    name: type,
    type,
    kwargs,
    severity: 'error',
    origin: 'monitor',
    ...(column ? { column } : {}),
  };
}
function history(extra: Partial<CheckHistory> = {}): CheckHistory {
  return { now: NOW, rowCounts: [], observed: () => [], ...extra };
}
function days(values: readonly number[], start = Date.parse('2024-02-01T00:00:00Z')): HistoryPoint<number>[] {
  return values.map((value, i) => ({ at: new Date(start + i * 86_400_000).toISOString(), value }));
}

describe('weir_freshness', () => {
  it('passes, warns and fails against the clock', async () => {
    // Latest updated_at is 01:39; the clock is 04:00: 2.35h old.
    const cases: [Record<string, unknown>, string][] = [
      [{ warn_after: '3h', error_after: '6h' }, 'pass'],
      [{ warn_after: '2h', error_after: '6h' }, 'warn'],
      [{ warn_after: '1h', error_after: '2h' }, 'fail'],
      [{ error_after: { count: 1, period: 'hour' } }, 'fail'],
    ];
    for (const [kwargs, status] of cases) {
      const [r] = await runChecks(s, [spec('weir_freshness', kwargs, 'updated_at')], {
        relation: 't',
        history: history(),
      });
      expect(r?.status, JSON.stringify(kwargs)).toBe(status);
      expect(r?.observedValue).toBe('2024-03-01T01:39:00.000Z');
    }
  });

  it('rejects a check with no threshold', () => {
    expect(() => compileCheck(spec('weir_freshness', {}, 'updated_at'), { relation: 't' })).toThrow(
      WeirError,
    );
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('soon')).toBeUndefined();
  });
});

describe('weir_row_count_anomaly', () => {
  const monitor = spec('weir_row_count_anomaly', { sensitivity: 3, min_history: 7 });
  it('learns until it has min_history runs', async () => {
    const [r] = await runChecks(s, [monitor], {
      relation: 't',
      history: history({ rowCounts: days([100, 101, 99]) }),
    });
    expect(r?.status).toBe('pass');
    expect(r?.message).toContain('learning: 3 of 7');
  });

  it('flags a count far from the history and accepts a normal one', async () => {
    const normal = days([98, 102, 100, 97, 103, 101, 99, 100]);
    const [ok] = await runChecks(s, [monitor], { relation: 't', history: history({ rowCounts: normal }) });
    expect(ok?.status).toBe('pass');
    const [bad] = await runChecks(s, [monitor], {
      relation: 't',
      history: history({ rowCounts: days([1000, 1010, 990, 1005, 995, 1000, 1002]) }),
    });
    expect(bad?.status).toBe('fail');
    expect(bad?.observedValue).toBe(100);
    expect(bad?.message).toMatch(/row count 100 is \d+(\.\d+)? standard deviations below the mean 1000/);
  });

  it('compares with the same weekday when seasonality is day_of_week', async () => {
    // Fridays (2024-03-01 is a Friday) carry 100 rows; every other day 1000.
    const points = days(Array.from({ length: 28 }, (_v, i) => (i % 7 === 1 ? 100 : 1000)));
    const seasonal = spec('weir_row_count_anomaly', {
      sensitivity: 2,
      min_history: 7,
      seasonality: 'day_of_week',
    });
    const plain = spec('weir_row_count_anomaly', { sensitivity: 2, min_history: 7 });
    expect(points.filter((p) => new Date(p.at).getUTCDay() === 5).every((p) => p.value === 100)).toBe(true);
    const [withSeason] = await runChecks(s, [seasonal], {
      relation: 't',
      history: history({ rowCounts: points }),
    });
    expect(withSeason?.status).toBe('pass');
    const [without] = await runChecks(s, [plain], { relation: 't', history: history({ rowCounts: points }) });
    expect(without?.status).toBe('fail');
  });
});

describe('weir_schema_drift', () => {
  it('reports added, removed and retyped columns against the previous schema', async () => {
    const previousSchema = [
      { name: 'id', type: 'INTEGER' },
      { name: 'amount', type: 'DECIMAL(18,3)' },
      { name: 'gone', type: 'VARCHAR' },
    ];
    const [r] = await runChecks(s, [spec('weir_schema_drift', {})], {
      relation: 't',
      history: history({ previousSchema }),
    });
    expect(r?.status).toBe('fail');
    expect(r?.observedValue).toEqual({
      added: ['updated_at'],
      removed: ['gone'],
      retyped: ['id INTEGER -> BIGINT', 'amount DECIMAL(18,3) -> DECIMAL(21,1)'],
    });
    const [first] = await runChecks(s, [spec('weir_schema_drift', {})], {
      relation: 't',
      history: history(),
    });
    expect(first?.status).toBe('pass');
    const [onlyRemoved] = await runChecks(s, [spec('weir_schema_drift', { fail_on: ['removed'] })], {
      relation: 't',
      history: history({
        previousSchema: [...previousSchema.slice(0, 2), { name: 'updated_at', type: 'TIMESTAMP' }],
      }),
    });
    expect(onlyRemoved?.status).toBe('pass');
  });
});

describe('weir_distribution_drift', () => {
  it('flags a mean far from its history', async () => {
    const monitor = spec('weir_distribution_drift', { min_history: 3 }, 'amount');
    const past = (mean: number): HistoryPoint<unknown>[] =>
      [0, 1, 2, 3].map((i) => ({
        at: `2024-02-0${i + 1}T00:00:00Z`,
        value: { mean: mean + i * 0.1, stddev: 29 },
      }));
    const [ok] = await runChecks(s, [monitor], {
      relation: 't',
      history: history({ observed: () => past(49.4) }),
    });
    expect(ok?.status).toBe('pass');
    expect(ok?.observedValue).toEqual({ mean: 49.5, stddev: expect.closeTo(29.01, 1) as number });
    const [bad] = await runChecks(s, [monitor], {
      relation: 't',
      history: history({ observed: () => past(10) }),
    });
    expect(bad?.status).toBe('fail');
    expect(bad?.message).toContain('mean 49.5 vs 10.15');
  });
});
