import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MINIMAL_PROJECT, runCli, writeProject } from './helpers/cli.js';

describe('row-volume anomaly over daily runs', () => {
  it('after 14 daily runs of ~1,000 rows, a run with 100 rows is flagged', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/events.sql': `{{ config(materialized='table') }}
select range as id, range % 7 as kind from range({{ var('n') }})
`,
      'models/schema.yml': `version: 2
models:
  - name: events
    tests:
      - weir_row_count_anomaly: {sensitivity: 3, min_history: 7}
      - weir_schema_drift
`,
    });
    const day = (i: number): string => new Date(Date.UTC(2024, 2, 1 + i, 6)).toISOString();
    for (let i = 0; i < 14; i++) {
      const n = 1000 + ((i * 37) % 61) - 30;
      const res = await runCli(['run', '--vars', `{n: ${n}}`], { cwd: dir, env: { WEIR_NOW: day(i) } });
      expect(res.code, `day ${i}: ${res.stdout}\n${res.stderr}`).toBe(0);
    }
    const bad = await runCli(['run', '--vars', '{n: 100}'], { cwd: dir, env: { WEIR_NOW: day(14) } });
    const text = `${bad.stdout}\n${bad.stderr}`;
    expect(bad.code, text).toBe(1);
    expect(text).toContain('WEIR-Q010');
    expect(text).toMatch(
      /weir_row_count_anomaly.*row count 100 is \d+(\.\d+)? standard deviations below the mean 99\d/,
    );

    const db = new Database(join(dir, '.weir/state.sqlite'), { readonly: true });
    try {
      const tables = db
        .prepare("SELECT at, row_count FROM quality_tables WHERE asset = 'main.events' ORDER BY at")
        .all() as { at: string; row_count: number }[];
      // The refused write is not history: 14 snapshots, one a day, at the injected clock.
      expect(tables.length).toBe(14);
      expect(tables[0]?.at).toBe('2024-03-01T06:00:00.000Z');
      expect(tables.every((t) => t.row_count >= 970 && t.row_count <= 1030)).toBe(true);
      const checks = db
        .prepare(
          "SELECT status, observed FROM quality_checks WHERE asset = 'main.events' AND type = 'weir_row_count_anomaly' ORDER BY at",
        )
        .all() as { status: string; observed: string }[];
      expect(checks.length).toBe(15);
      expect(checks.slice(0, 14).every((c) => c.status === 'pass')).toBe(true);
      expect(checks[14]).toEqual({ status: 'fail', observed: '100' });
    } finally {
      db.close();
    }
  }, 120_000);
});
