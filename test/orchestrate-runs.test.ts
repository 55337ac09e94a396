import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BASE_PROJECT, openProject, writeTree } from './orchestrate-helpers.js';

describe('pipeline runs with step policies', () => {
  it('a step that fails twice then succeeds with exponential backoff records attempts and delays', async () => {
    const dir = await writeTree({
      ...BASE_PROJECT,
      'pipelines/flaky.ts': `
        import { pipeline, step } from 'weir';
        let calls = 0;
        export default pipeline('flaky')
          .select('+order_count')
          .step(step('load', async (ctx) => {
            calls++;
            if (calls <= 2) throw new Error('transient failure ' + calls);
            const r = await ctx.session.query('select n from main.order_count');
            return [{ n: Number(r.rows[0].n), attempt: ctx.attempt }];
          }, { inputs: ['order_count'], output: 'analytics.flaky_out',
               retries: { attempts: 3, backoff: 'exponential', delay: '40ms', maxDelay: '1s' } }));
      `,
    });
    const p = await openProject(dir);
    try {
      const t0 = Date.now();
      const summary = await p.run('flaky');
      expect(summary.status).toBe('success');
      const attempts = await p.orch.listAttempts(summary.runId, 'step.flaky.load');
      expect(attempts.map((a) => a.status)).toEqual(['failed', 'failed', 'success']);
      expect(attempts.map((a) => a.retryDelayMs)).toEqual([40, 80, null]);
      expect(attempts[0]?.error).toContain('transient failure 1');
      expect(attempts.map((a) => a.attemptId)).toEqual(
        [1, 2, 3].map((n) => `${summary.runId}:step.flaky.load:${n}`),
      );
      // The second attempt started at least the first delay after the first failed.
      const gap1 = Date.parse(attempts[1]!.startedAt) - Date.parse(attempts[0]!.finishedAt!);
      const gap2 = Date.parse(attempts[2]!.startedAt) - Date.parse(attempts[1]!.finishedAt!);
      expect(gap1).toBeGreaterThanOrEqual(35);
      expect(gap2).toBeGreaterThanOrEqual(75);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(120);
      const events = await p.rt.state.listEvents(summary.runId, 'step.flaky.load');
      const retries = events.filter((e) => e.type === 'retry_scheduled').map((e) => e.data['delay_ms']);
      expect(retries).toEqual([40, 80]);
      expect(events.every((e) => e.runId === summary.runId)).toBe(true);
      expect(events.filter((e) => e.type === 'attempt_started').map((e) => e.data['attempt_id'])).toEqual(
        attempts.map((a) => a.attemptId),
      );
      // The step's rows became a Delta table.
      const s = await p.rt.engine.session();
      const entry = await p.rt.state.getCatalogEntry('analytics.flaky_out');
      expect(entry?.kind).toBe('table');
      s.close();
      const result = summary.results.find((r) => r.nodeId === 'step.flaky.load');
      expect(result?.rows).toBe(1);
    } finally {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('trigger rules: a one_failed notification runs only after a failure, all_done always, downstream skipped', async () => {
    const dir = await writeTree({
      ...BASE_PROJECT,
      'models/broken.sql': 'select * from no_such_table',
      'models/after_broken.sql': 'select * from {{ ref("broken") }}',
      'pipelines/rules.ts': `
        import { pipeline, step } from 'weir';
        export const seen: string[] = [];
        export default pipeline('rules')
          .select('orders', 'broken', 'after_broken')
          .step('on_fail', async () => { seen.push('on_fail'); }, { inputs: ['broken'], triggerRule: 'one_failed' })
          .step('on_ok', async () => { seen.push('on_ok'); }, { inputs: ['orders'], triggerRule: 'one_failed' })
          .step('always', async () => { seen.push('always'); }, { inputs: ['after_broken'], triggerRule: 'all_done' })
          .step('needs_ok', async () => { seen.push('needs_ok'); }, { inputs: ['broken'] });
      `,
    });
    const p = await openProject(dir);
    try {
      const summary = await p.run('rules');
      const status = Object.fromEntries(summary.results.map((r) => [r.nodeId, r.status]));
      expect(summary.status).toBe('failed');
      expect(status['model.shop.broken']).toBe('error');
      expect(status['model.shop.after_broken']).toBe('skipped');
      expect(status['step.rules.on_fail']).toBe('success');
      expect(status['step.rules.on_ok']).toBe('skipped');
      expect(status['step.rules.always']).toBe('success');
      expect(status['step.rules.needs_ok']).toBe('skipped');
      const events = await p.rt.state.listEvents(summary.runId, 'step.rules.on_ok');
      expect(events.find((e) => e.type === 'step_skipped')?.data['reason']).toContain('one_failed');
    } finally {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a timeout interrupts the running DuckDB query', async () => {
    const dir = await writeTree({
      ...BASE_PROJECT,
      'models/slow.sql':
        "{{ config(materialized='table') }} select sum(a.range % 7) as n from range(100000000000) a",
      'pipelines/slow.yml': 'name: slow\nselect: [slow]\ntimeout: 400ms\n',
    });
    const p = await openProject(dir);
    try {
      const t0 = Date.now();
      const summary = await p.run('slow');
      const elapsed = Date.now() - t0;
      expect(summary.status).toBe('failed');
      expect(elapsed).toBeLessThan(8000);
      const [attempt] = await p.orch.listAttempts(summary.runId, 'model.shop.slow');
      expect(attempt?.status).toBe('timed_out');
      expect(attempt?.errorCode).toBe('WEIR-O011');
      // The session is usable again: the query was interrupted, not abandoned.
      const again = await p.run('slow', {});
      expect(again.status).toBe('failed');
    } finally {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('a cancel request from the store stops the run and interrupts its query', async () => {
    const dir = await writeTree({
      ...BASE_PROJECT,
      'models/slow.sql':
        "{{ config(materialized='table') }} select sum(a.range % 7) as n from range(100000000000) a",
      'models/after_slow.sql': 'select * from {{ ref("slow") }}',
      'pipelines/c.yml': 'name: c\nselect: [slow, after_slow]\n',
    });
    const p = await openProject(dir);
    try {
      const runId = 'cancel-test-run';
      const pending = p.run('c', { runId });
      await new Promise((r) => setTimeout(r, 600));
      await p.orch.requestCancel(runId, new Date().toISOString(), 'test');
      const summary = await pending;
      expect(summary.status).toBe('cancelled');
      expect((await p.rt.state.getRun(runId))?.status).toBe('cancelled');
      const [attempt] = await p.orch.listAttempts(runId, 'model.shop.slow');
      expect(attempt?.status).toBe('cancelled');
      const after = summary.results.find((r) => r.nodeId === 'model.shop.after_slow');
      expect(after?.status).toBe('skipped');
    } finally {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('retry runs only the failed steps and their descendants', async () => {
    const dir = await writeTree({
      ...BASE_PROJECT,
      'models/flaky.sql': 'select * from read_csv(\'{{ env_var("FLAKY_FILE", "/nonexistent.csv") }}\')',
      'models/after_flaky.sql': 'select count(*) as n from {{ ref("flaky") }}',
      'pipelines/r.yml': 'name: r\nselect: [orders, flaky, after_flaky]\n',
    });
    const p = await openProject(dir);
    try {
      const first = await p.run('r');
      expect(first.status).toBe('failed');
      const failed = (await p.rt.state.listNodeResults(first.runId))
        .filter((r) => r.status !== 'success')
        .map((r) => r.nodeId)
        .sort();
      expect(failed).toEqual(['model.shop.after_flaky', 'model.shop.flaky']);
      const retry = await p.run('r', { only: failed, trigger: 'retry' });
      expect(retry.results.map((r) => r.nodeId).sort()).toEqual(failed);
    } finally {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
