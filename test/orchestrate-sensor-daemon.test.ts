import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.js';
import { BASE_PROJECT, writeTree } from './orchestrate-helpers.js';

const PIPELINE = `
import { appendFileSync } from 'node:fs';
import { fileArrival, pipeline } from 'weir';
export default pipeline('landing')
  .select('orders')
  .sensor(fileArrival({ glob: 'landing/*.csv', name: 'csv_files', interval: '100ms' }))
  .step('load', async (ctx) => {
    const files = ctx.params.files as string[];
    const rows = [];
    for (const f of files) {
      const r = await ctx.session.query(\`select count(*)::int as n from read_csv('\${f}')\`);
      rows.push({ file: f, n: Number(r.rows[0]?.n) });
    }
    appendFileSync('processed.log', JSON.stringify(rows) + '\\n');
    return rows;
  }, { inputs: ['orders'], output: 'raw.landed' });
`;

function serve(dir: string, extra: readonly string[] = [], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, 'serve', '--poll-ms', '100', '--lease-ttl-ms', '1500', ...extra], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const closed = new Promise((r) => child.once('close', r));
  child.kill('SIGTERM');
  await closed;
}

function sensorRuns(dir: string): Array<{ run_id: string; status: string }> {
  let db: Database.Database | undefined;
  try {
    db = new Database(join(dir, '.weir', 'state.sqlite'), { readonly: true, fileMustExist: true });
    return db
      .prepare(
        "select run_id, status from runs where json_extract(args, '$.trigger') = 'sensor' order by started_at",
      )
      .all() as Array<{ run_id: string; status: string }>;
  } catch {
    return [];
  } finally {
    db?.close();
  }
}

async function waitFor(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const processed = (dir: string): unknown[] =>
  existsSync(join(dir, 'processed.log'))
    ? readFileSync(join(dir, 'processed.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown)
    : [];

describe('weir serve with a file arrival sensor', () => {
  it('runs the pipeline once per new set of landed files, with the files as params, and a restarted daemon does not fire again', async () => {
    const dir = await writeTree({ ...BASE_PROJECT, 'pipelines/landing.ts': PIPELINE });
    await mkdir(join(dir, 'landing'));
    let daemon: ChildProcess | undefined;
    try {
      daemon = serve(dir);
      let stderr = '';
      daemon.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      await writeFile(join(dir, 'landing', 'a.csv'), 'id\n1\n2\n');
      await writeFile(join(dir, 'landing', 'b.csv'), 'id\n3\n');
      await waitFor('the sensor run', () => sensorRuns(dir).some((r) => r.status !== 'running'));
      expect(
        sensorRuns(dir).map((r) => r.status),
        stderr,
      ).toEqual(['success']);
      expect(processed(dir)).toEqual([
        [
          { file: 'landing/a.csv', n: 2 },
          { file: 'landing/b.csv', n: 1 },
        ],
      ]);
      await stop(daemon);

      daemon = serve(dir);
      // Many evaluation intervals pass: the same files must not fire again.
      await new Promise((r) => setTimeout(r, 2000));
      expect(sensorRuns(dir)).toHaveLength(1);
      await writeFile(join(dir, 'landing', 'c.csv'), 'id\n4\n5\n6\n');
      await waitFor(
        'the second sensor run',
        () => sensorRuns(dir).filter((r) => r.status === 'success').length === 2,
      );
      expect(processed(dir)).toEqual([
        [
          { file: 'landing/a.csv', n: 2 },
          { file: 'landing/b.csv', n: 1 },
        ],
        [{ file: 'landing/c.csv', n: 3 }],
      ]);
    } finally {
      if (daemon) await stop(daemon);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('sends one SLA alert for a sensor-triggered run that exceeds its maximum duration', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(text) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const dir = await writeTree({
      ...BASE_PROJECT,
      'pipelines/slow.ts': `
import { env, pipeline, sensor, webhook } from 'weir';
export default pipeline('slow')
  .select('orders')
  .sensor(sensor('once', (ctx) => ({ fire: ctx.cursor === undefined, cursor: 'fired' }), { interval: '100ms' }))
  .step('wait', async () => { await new Promise((r) => setTimeout(r, 2500)); })
  .withObservability({ alerts: [webhook(env('HOOK'))], sla: { maxDuration: '1s' } });
`,
    });
    let daemon: ChildProcess | undefined;
    try {
      daemon = serve(dir, ['--sla-check-ms', '100'], { HOOK: url });
      await waitFor('the sensor run to finish', () => sensorRuns(dir).some((r) => r.status === 'success'));
      await new Promise((r) => setTimeout(r, 500));
      expect(sensorRuns(dir)).toHaveLength(1);
      const runId = sensorRuns(dir)[0]?.run_id;
      expect(bodies.map((b) => [b['kind'], b['sla_kind'], b['run_id']])).toEqual([
        ['sla_miss', 'max_duration', runId],
      ]);
      expect(String(bodies[0]?.['text'])).toContain('exceeded its max duration 1s');
    } finally {
      if (daemon) await stop(daemon);
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
