import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/core/logger.js';
import type { OrchestrationStore } from '../src/core/orchestration-store.js';
import type { StateStore } from '../src/core/state-store.js';
import { sendAlert, slaMissAlert, type AlertTargetSpec } from '../src/observe/alerts/notify.js';
import { loadPipelines, type PipelineSpec } from '../src/orchestrate/pipeline/load-pipelines.js';
import { SchedulerDaemon } from '../src/orchestrate/scheduler/daemon.js';
import { findSlaMisses } from '../src/orchestrate/scheduler/sla.js';
import { openSqliteOrchestrationStore } from '../src/state/sqlite/sqlite-orchestration-store.js';
import { openSqliteStateStore } from '../src/state/sqlite/sqlite-state-store.js';
import { writeTree } from './orchestrate-helpers.js';

const BASE: Omit<PipelineSpec, 'name' | 'sla'> = {
  file: 'pipelines/daily.ts',
  select: [],
  exclude: [],
  schedule: { cron: '0 6 * * *', timezone: 'Europe/Berlin', catchup: false },
  maxActiveRuns: 1,
  pools: {},
  steps: [],
  params: {},
  alerts: [],
  sensors: [],
};

async function withStores(
  work: (state: StateStore, orch: OrchestrationStore, path: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-sla-'));
  const path = join(dir, 'state.sqlite');
  const state = await openSqliteStateStore(path);
  await state.init();
  const orch = await openSqliteOrchestrationStore(path);
  try {
    await work(state, orch, path);
  } finally {
    await orch.close();
    await state.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function addRun(
  state: StateStore,
  runId: string,
  pipeline: string,
  status: 'success' | 'failed' | 'running',
  startedAt: string,
  finishedAt: string | null,
): Promise<void> {
  await state.createRun({
    runId,
    command: pipeline,
    status: 'running',
    args: { pipeline, trigger: 'schedule' },
    startedAt,
    finishedAt: null,
    error: null,
  });
  if (status !== 'running') await state.updateRun(runId, { status, finishedAt });
}

async function httpReceiver(): Promise<{ url: string; bodies: unknown[]; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('SLA checks', () => {
  const spec: PipelineSpec = {
    ...BASE,
    name: 'daily',
    sla: { deadline: '09:00', timezone: 'Europe/Berlin' },
  };

  it("a '09:00' Berlin deadline on the spring-forward day is 07:00 UTC; met only by a run of that day that succeeded by then", () =>
    withStores(async (state, orch) => {
      const deps = { state, store: orch, notBefore: new Date('2024-03-31T00:00:00Z') };
      // 08:59 CEST: the deadline has not passed; the day before is before notBefore.
      expect(await findSlaMisses(spec, deps, new Date('2024-03-31T06:59:00Z'))).toEqual([]);
      const late = await findSlaMisses(spec, deps, new Date('2024-03-31T07:30:00Z'));
      expect(late).toEqual([
        {
          kind: 'deadline',
          key: 'deadline:2024-03-31',
          pipeline: 'daily',
          runId: null,
          status: null,
          sla: '09:00 Europe/Berlin on 2024-03-31',
          deadlineAt: '2024-03-31T07:00:00.000Z',
        },
      ]);
      // Yesterday's success does not count; a success that finished after the deadline does not either.
      await addRun(state, 'r-yesterday', 'daily', 'success', '2024-03-30T04:00:00Z', '2024-03-30T05:00:00Z');
      await addRun(state, 'r-slow', 'daily', 'success', '2024-03-31T04:00:00Z', '2024-03-31T07:10:00Z');
      expect(await findSlaMisses(spec, deps, new Date('2024-03-31T07:30:00Z'))).toMatchObject([
        { key: 'deadline:2024-03-31', runId: 'r-slow', status: 'success' },
      ]);
      await addRun(state, 'r-ok', 'daily', 'success', '2024-03-31T04:00:00Z', '2024-03-31T06:30:00Z');
      expect(await findSlaMisses(spec, deps, new Date('2024-03-31T07:30:00Z'))).toEqual([]);
      // Another pipeline's success does not count for this one.
      const other = { ...spec, name: 'other' };
      expect(await findSlaMisses(other, deps, new Date('2024-03-31T07:30:00Z'))).toHaveLength(1);
    }));

  it('no SLA on a day the schedule does not run', () =>
    withStores(async (state, orch) => {
      const weekly: PipelineSpec = {
        ...spec,
        schedule: { cron: '0 6 * * 1', timezone: 'Europe/Berlin', catchup: false },
      };
      const deps = { state, store: orch };
      // 2024-03-31 is a Sunday; 2024-04-01 a Monday.
      expect(await findSlaMisses(weekly, deps, new Date('2024-03-31T08:00:00Z'))).toEqual([]);
      expect(await findSlaMisses(weekly, deps, new Date('2024-04-01T08:00:00Z'))).toHaveLength(1);
    }));

  it('a run over its maximum duration misses its SLA; a shorter one does not', () =>
    withStores(async (state, orch) => {
      const capped: PipelineSpec = {
        ...BASE,
        name: 'capped',
        sla: { timezone: 'UTC', maxDurationMs: 1_800_000 },
      };
      const now = new Date('2024-01-01T12:00:00Z');
      await addRun(state, 'r-long', 'capped', 'running', '2024-01-01T11:20:00Z', null);
      await addRun(state, 'r-short', 'capped', 'running', '2024-01-01T11:50:00Z', null);
      for (const runId of ['r-long', 'r-short'])
        await orch.claimRunSlot(
          { runId, pipeline: 'capped', owner: 'x', heartbeatAt: now.toISOString() },
          10,
          30_000,
          now,
        );
      expect(await findSlaMisses(capped, { state, store: orch }, now)).toEqual([
        {
          kind: 'max_duration',
          key: 'duration:r-long',
          pipeline: 'capped',
          runId: 'r-long',
          status: 'running',
          sla: 'max duration 30m (running since 2024-01-01T11:20:00Z)',
        },
      ]);
    }));

  it('parses sla forms and rejects a bad deadline with WEIR-O003', async () => {
    const dir = await writeTree({
      'pipelines/a.yml':
        'name: a\nschedule: { cron: "0 6 * * *", timezone: America/New_York }\nobservability: { sla: "09:30" }\n',
      'pipelines/b.yml': 'name: b\nobservability: { sla: { deadline: "07:00", maxDuration: 30m } }\n',
    });
    const specs = await loadPipelines(dir);
    expect(specs.map((s) => s.sla)).toEqual([
      { timezone: 'America/New_York', deadline: '09:30' },
      { timezone: 'UTC', deadline: '07:00', maxDurationMs: 1_800_000 },
    ]);
    const bad = await writeTree({ 'pipelines/c.yml': 'name: c\nobservability: { sla: "9am" }\n' });
    await expect(loadPipelines(bad)).rejects.toMatchObject({ code: 'WEIR-O003' });
  });
});

describe('SLA-miss alerts from the daemon', () => {
  it('two daemons polling across the deadline send one Slack-compatible, one JSON and one email alert per miss', () =>
    withStores(async (state, orchA, path) => {
      const orchB = await openSqliteOrchestrationStore(path);
      const slackRx = await httpReceiver();
      const hookRx = await httpReceiver();
      const mails: string[] = [];
      const smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        onData(stream, _session, callback) {
          let text = '';
          stream.on('data', (d: Buffer) => (text += d.toString()));
          stream.on('end', () => {
            mails.push(text);
            callback();
          });
        },
      });
      await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
      const smtpPort = (smtp.server.address() as AddressInfo).port;
      try {
        const targets: AlertTargetSpec[] = [
          { kind: 'slack', url: slackRx.url },
          { kind: 'webhook', url: { $env: 'HOOK_URL' } },
          { kind: 'email', to: ['oncall@example.com'], smtp: `smtp://127.0.0.1:${smtpPort}?ignoreTLS=true` },
          // Listens only for failures: gets nothing here.
          { kind: 'webhook', url: hookRx.url, on: ['failure'] },
        ];
        const spec: PipelineSpec = {
          ...BASE,
          name: 'daily',
          alerts: targets,
          sla: { deadline: '09:00', timezone: 'Europe/Berlin', maxDurationMs: 3_600_000 },
        };
        let clock = Date.parse('2024-03-31T06:00:00Z'); // 08:00 CEST
        await addRun(state, 'r-stuck', 'daily', 'running', '2024-03-31T04:00:00Z', null);
        await orchA.claimRunSlot(
          { runId: 'r-stuck', pipeline: 'daily', owner: 'x', heartbeatAt: new Date(clock).toISOString() },
          5,
          86_400_000,
          new Date(clock),
        );
        const env = { HOOK_URL: hookRx.url.replace('/hook', '/json') };
        const make = (store: OrchestrationStore, owner: string): SchedulerDaemon =>
          new SchedulerDaemon({
            store,
            pipelines: [spec],
            owner,
            logger: silentLogger,
            leaseTtlMs: 90_000,
            slaCheckMs: 0,
            now: () => new Date(clock),
            state,
            getRun: (id) => state.getRun(id),
            launch: async () => undefined,
            resume: async () => undefined,
            alertSla: (s, miss) => sendAlert(s.alerts, slaMissAlert(miss), env, silentLogger),
          });
        const a = make(orchA, 'A');
        const b = make(orchB, 'B');
        // 08:00 -> 09:30 local, both daemons every 5 minutes; A stops at 08:45 so B takes over.
        for (let i = 0; i <= 18; i++) {
          await Promise.all(i < 9 ? [a.tickOnce(), b.tickOnce()] : [b.tickOnce()]);
          clock += 300_000;
        }
        const slackTexts = slackRx.bodies.map((x) => (x as { text: string }).text);
        expect(slackTexts).toHaveLength(2);
        expect(slackTexts[0]).toContain('exceeded its max duration 1h (running since 2024-03-31T04:00:00Z)');
        expect(slackTexts[0]).toContain('weir runs show r-stuck');
        expect(slackTexts[1]).toContain('had not succeeded by 09:00 Europe/Berlin on 2024-03-31');
        // The JSON webhook (on the same receiver, another path) got the same two.
        const json = hookRx.bodies as Array<Record<string, unknown>>;
        expect(json.map((j) => [j['kind'], j['sla_kind'], j['pipeline']])).toEqual([
          ['sla_miss', 'max_duration', 'daily'],
          ['sla_miss', 'deadline', 'daily'],
        ]);
        expect(mails).toHaveLength(2);
        expect(mails[1]).toContain('Subject: [weir] SLA missed: pipeline daily');
        expect((await orchA.listFirings('sla:daily')).map((f) => f.key).sort()).toEqual([
          'deadline:2024-03-31',
          'duration:r-stuck',
        ]);
      } finally {
        await orchB.close();
        await slackRx.close();
        await hookRx.close();
        await new Promise<void>((r) => smtp.close(() => r()));
      }
    }));
});
