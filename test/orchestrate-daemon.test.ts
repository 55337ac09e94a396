import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/cli.js';
import { BASE_PROJECT, writeTree } from './orchestrate-helpers.js';

function project(start: Date, end: Date): Record<string, string> {
  return {
    ...BASE_PROJECT,
    'models/slow_a.sql':
      "{{ config(materialized='table') }} select sum(range % 13) as s, count(*) as n from range(300000000)",
    'models/final.sql':
      "{{ config(materialized='table') }} select s, n, s * 2 as s2 from {{ ref('slow_a') }}",
    'pipelines/sched.ts': `
import { pipeline } from 'weir';
export default pipeline('sched')
  .select('+final')
  .schedule('* * * * * *', { timezone: 'UTC', catchup: true, start: '${start.toISOString()}', end: '${end.toISOString()}' })
  .retries({ attempts: 2, delay: '10ms' });
`,
  };
}

function serve(dir: string): ChildProcess {
  return spawn(
    process.execPath,
    [BIN, 'serve', '--poll-ms', '100', '--lease-ttl-ms', '1500', '--stale-ms', '1500'],
    {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function query<T>(dir: string, sql: string): T[] {
  let db: Database.Database | undefined;
  try {
    db = new Database(join(dir, '.weir', 'state.sqlite'), { readonly: true, fileMustExist: true });
    return db.prepare(sql).all() as T[];
  } catch {
    return [];
  } finally {
    db?.close();
  }
}

describe('weir serve', () => {
  it('a daemon killed with SIGKILL mid-run is restarted: the run resumes, no tick fires twice, tables equal an uninterrupted run', async () => {
    // A whole second: the every-second schedule then has exactly one tick in [start, end]. (A window
    // starting mid-second held no tick one time in ten.)
    const start = new Date(Math.ceil((Date.now() + 4000) / 1000) * 1000);
    const end = new Date(start.getTime() + 900);
    const dir = await writeTree(project(start, end));
    const reference = await writeTree(project(start, end));
    let first: ChildProcess | undefined;
    let second: ChildProcess | undefined;
    try {
      first = serve(dir);
      // Kill it while the slow model runs.
      await waitFor('the slow step to start', () =>
        query<{ n: number }>(
          dir,
          "select count(*) as n from events where type = 'attempt_started' and node_id = 'model.shop.slow_a'",
        )[0]?.n
          ? true
          : undefined,
      );
      first.kill('SIGKILL');
      await new Promise((r) => first?.once('close', r));
      const [run] = query<{ run_id: string; status: string }>(dir, 'select run_id, status from runs');
      expect(run?.status).toBe('running');

      second = serve(dir);
      const finished = await waitFor('the run to finish', () => {
        const rows = query<{ status: string }>(
          dir,
          `select status from runs where run_id = '${run?.run_id}'`,
        );
        return rows[0] && rows[0].status !== 'running' ? rows[0].status : undefined;
      });
      expect(finished).toBe('success');
      second.kill('SIGTERM');
      await new Promise((r) => second?.once('close', r));

      expect(query(dir, 'select * from orch_ticks')).toHaveLength(1);
      expect(query(dir, 'select * from runs')).toHaveLength(1);
      const events = query<{ type: string }>(
        dir,
        `select type from events where run_id = '${run?.run_id}'`,
      ).map((e) => e.type);
      expect(events).toContain('run_resumed');

      const uninterrupted = await runCli(['pipeline', 'run', 'sched'], { cwd: reference });
      expect(uninterrupted.code).toBe(0);
      const a = await runCli(['query', 'select * from main.final', '--output', 'json'], { cwd: dir });
      const b = await runCli(['query', 'select * from main.final', '--output', 'json'], { cwd: reference });
      expect(a.stdout.trim().length).toBeGreaterThan(0);
      expect(a.stdout).toBe(b.stdout);
    } finally {
      first?.kill('SIGKILL');
      second?.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      await rm(reference, { recursive: true, force: true });
    }
  }, 180_000);
});
