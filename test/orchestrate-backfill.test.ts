import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/cli.js';
import { BASE_PROJECT, openProject, writeTree } from './orchestrate-helpers.js';

const PARTITIONED = {
  ...BASE_PROJECT,
  'models/events.sql': `{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by='event_date') }}
select cast(ts as date) as event_date, ts, 1 as amount
from (select unnest(generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-03-01', INTERVAL 1 HOUR)) as ts)
where ts >= '{{ partition_start }}' and ts < '{{ partition_end }}'
`,
  'pipelines/daily.ts': `
import { pipeline, daily } from 'weir';
export default pipeline('daily_events').select('events').partitions(daily({ start: '2024-01-01' }));
`,
};

async function countsByDay(dir: string): Promise<Map<string, number>> {
  const p = await openProject(dir);
  try {
    // Files not in the Delta log must not count: read through the table's snapshot instead.
    const { TableHandle } = await import('../src/orchestrate/table-handle.js');
    const s2 = await p.rt.engine.session();
    const table = new TableHandle(p.rt.lake, 'main/events', 10, s2);
    const rows = await s2.query(
      `select cast(event_date as varchar) as d, count(*) as n from (${await table.scanSql()}) group by 1 order by 1`,
    );
    s2.close();
    return new Map(rows.rows.map((r) => [String(r['d']), Number(r['n'])]));
  } finally {
    await p.close();
  }
}

describe('partitions and backfills', () => {
  it('a partition run replaces exactly its window, idempotently, in one commit', async () => {
    const dir = await writeTree(PARTITIONED);
    const p = await openProject(dir);
    try {
      expect((await p.run('daily_events', { partitionKey: '2024-01-02' })).status).toBe('success');
      expect((await p.run('daily_events', { partitionKey: '2024-01-03' })).status).toBe('success');
      const again = await p.run('daily_events', { partitionKey: '2024-01-02' });
      expect(again.status).toBe('success');
      const ev = again.results.find((r) => r.nodeId === 'model.shop.events');
      expect(ev?.message).toContain('partition 2024-01-02: replaced');
      expect(ev?.version).toBe(2);
      const parts = await p.orch.listPartitions('daily_events');
      expect(parts.map((x) => [x.key, x.status])).toEqual([
        ['2024-01-02', 'success'],
        ['2024-01-03', 'success'],
      ]);
    } finally {
      await p.close();
    }
    const counts = await countsByDay(dir);
    expect([...counts]).toEqual([
      ['2024-01-02', 24],
      ['2024-01-03', 24],
    ]);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('a 30-day backfill killed with SIGKILL and resumed materializes every partition exactly once', async () => {
    const dir = await writeTree(PARTITIONED);
    try {
      // First attempt: killed after a few partitions succeeded.
      const child = spawn(
        process.execPath,
        [BIN, 'backfill', 'daily_events', '--from', '2024-01-01', '--to', '2024-01-30', '--parallel', '2'],
        {
          cwd: dir,
          env: { ...process.env, NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if ((stdout.match(/: success/g) ?? []).length >= 6 && !child.killed) {
            child.kill('SIGKILL');
          }
        });
        child.on('close', () => resolve());
      });
      expect(child.signalCode).toBe('SIGKILL');
      const firstDone = (stdout.match(/: success/g) ?? []).length;
      expect(firstDone).toBeGreaterThanOrEqual(6);
      expect(firstDone).toBeLessThan(30);

      const resumed = await runCli(
        ['backfill', 'daily_events', '--from', '2024-01-01', '--to', '2024-01-30', '--parallel', '3'],
        { cwd: dir },
      );
      expect(resumed.stderr).toBe('');
      expect(resumed.code).toBe(0);
      const m = /(\d+) to run, (\d+) already done/.exec(resumed.stdout);
      expect(Number(m?.[2])).toBeGreaterThanOrEqual(firstDone);
      expect(Number(m?.[1]) + Number(m?.[2])).toBe(30);

      const counts = await countsByDay(dir);
      expect(counts.size).toBe(30);
      for (const [day, n] of counts) {
        expect(day >= '2024-01-01' && day <= '2024-01-30').toBe(true);
        expect(n).toBe(24);
      }
      const parts = await runCli(
        ['partitions', 'daily_events', '--from', '2024-01-01', '--to', '2024-01-31', '--output', 'json'],
        { cwd: dir },
      );
      const rows = parts.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { partition: string; status: string });
      expect(rows.filter((r) => r.status === 'materialized')).toHaveLength(30);
      expect(rows.find((r) => r.partition === '2024-01-31')?.status).toBe('missing');

      // A third run has nothing to do; --force reruns and still gives the same table.
      const third = await runCli(['backfill', 'daily_events', '--from', '2024-01-01', '--to', '2024-01-30'], {
        cwd: dir,
      });
      expect(third.stdout).toContain('0 to run, 30 already done');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
