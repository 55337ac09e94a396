import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../core/engine.js';
import { createDuckDbEngine } from '../../engine/duckdb/duckdb-engine.js';
import { ConversionEngines, conversionOptions, type ConversionEngineOptions } from './conversion.js';

function counting(): {
  open: (o: ConversionEngineOptions) => Promise<Engine>;
  opened: number;
  closed: number;
} {
  const c = {
    opened: 0,
    closed: 0,
    open: async (o: ConversionEngineOptions): Promise<Engine> => {
      c.opened++;
      const engine = await createDuckDbEngine(o);
      return {
        name: engine.name,
        session: () => engine.session(),
        close: async () => {
          c.closed++;
          await engine.close();
        },
      };
    },
  };
  return c;
}

describe('conversion engine', () => {
  it('is opened with its threads and memory limit, insertion order off and malloc trimming', async () => {
    const c = counting();
    const engines = new ConversionEngines(c.open, conversionOptions({ threads: 1, memoryLimit: '128MB' }));
    const lease = await engines.session();
    const res = await lease.session.query(
      `SELECT current_setting('threads') AS threads, current_setting('memory_limit') AS mem,
              current_setting('preserve_insertion_order') AS pio,
              current_setting('allocator_bulk_deallocation_flush_threshold') AS flush,
              current_setting('temp_directory') AS temp`,
    );
    const row = res.rows[0] ?? {};
    expect(row).toMatchObject({ threads: 1, pio: false });
    // DuckDB shows decimal megabytes in MiB.
    expect(row['mem']).toBe('122.0 MiB');
    expect(row['flush']).toBe('3.8 MiB');
    expect(String(row['temp'])).toContain('weir-convert-');
    await lease.release();
    expect(existsSync(String(row['temp']))).toBe(false);
  });

  it('is shared by the streams loading at once and closed after the last one', async () => {
    const c = counting();
    const engines = new ConversionEngines(c.open, conversionOptions());
    const [a, b] = await Promise.all([engines.session(), engines.session()]);
    expect(c.opened).toBe(1);
    await a.release();
    await a.release();
    expect(c.closed).toBe(0);
    expect((await b.session.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await b.release();
    expect(c.closed).toBe(1);
    const again = await engines.session();
    expect(c.opened).toBe(2);
    await again.release();
    expect(c.closed).toBe(2);
  });

  it("defaults to at most two threads and DuckDB's memory limit", () => {
    const o = conversionOptions();
    expect(o.threads).toBeGreaterThanOrEqual(1);
    expect(o.threads).toBeLessThanOrEqual(2);
    expect(o.memoryLimit).toBeUndefined();
  });
});
