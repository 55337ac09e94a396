import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../src/core/logger.js';
import type { RunRecord } from '../src/core/state-store.js';
import { fileArrival, sensor } from '../src/index.js';
import { loadPipelines, type PipelineSpec } from '../src/orchestrate/pipeline/load-pipelines.js';
import { SchedulerDaemon } from '../src/orchestrate/scheduler/daemon.js';
import { pollSensor, sensorSource, type SensorFiring } from '../src/orchestrate/sensors/evaluate.js';
import { openSqliteOrchestrationStore } from '../src/state/sqlite/sqlite-orchestration-store.js';
import { openSqliteStateStore } from '../src/state/sqlite/sqlite-state-store.js';
import { BASE_PROJECT, openProject, writeTree } from './orchestrate-helpers.js';

async function stores(dir: string) {
  const path = join(dir, 'state.sqlite');
  const state = await openSqliteStateStore(path);
  await state.init();
  return { path, state };
}

function recordingLogger(lines: Array<{ msg: string; fields: Record<string, unknown> }>): Logger {
  const log =
    () =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      lines.push({ msg, fields });
    };
  const logger: Logger = {
    debug: log(),
    info: log(),
    warn: log(),
    error: log(),
    child: () => logger,
  } as Logger;
  return logger;
}

describe('file arrival sensor', () => {
  it('fires once per new set of files, with the files as params; the cursor survives a restart; a changed file fires again', async () => {
    const root = await mkdtemp(join(tmpdir(), 'weir-sensor-'));
    const { path, state } = await stores(root);
    const def = fileArrival({ glob: 'landing/*.csv' });
    const deps = { root, state, logger: silentLogger };
    let store = await openSqliteOrchestrationStore(path);
    try {
      const now = new Date('2024-01-01T00:00:00Z');
      expect(await pollSensor(store, def, 'ingest', deps, 'A', now)).toBeUndefined();
      await mkdir(join(root, 'landing'));
      await writeFile(join(root, 'landing', 'a.csv'), 'id\n1\n');
      await writeFile(join(root, 'landing', 'b.csv'), 'id\n2\n');
      await writeFile(join(root, 'landing', 'ignored.txt'), 'x');
      const first = await pollSensor(store, def, 'ingest', deps, 'A', now);
      expect(first?.params).toEqual({ files: ['landing/a.csv', 'landing/b.csv'] });
      expect(await pollSensor(store, def, 'ingest', deps, 'A', now)).toBeUndefined();

      // A restarted daemon (new connection) does not fire again for the same files.
      await store.close();
      store = await openSqliteOrchestrationStore(path);
      expect(await pollSensor(store, def, 'ingest', deps, 'B', now)).toBeUndefined();

      await writeFile(join(root, 'landing', 'c.csv'), 'id\n3\n');
      const second = await pollSensor(store, def, 'ingest', deps, 'B', now);
      expect(second?.params).toEqual({ files: ['landing/c.csv'] });
      await writeFile(join(root, 'landing', 'a.csv'), 'id\n1\n4\n');
      const third = await pollSensor(store, def, 'ingest', deps, 'B', now);
      expect(third?.params).toEqual({ files: ['landing/a.csv'] });

      const firings = await store.listFirings(sensorSource('ingest', def.name));
      expect(firings.map((f) => f.runId).sort()).toEqual([first?.runId, second?.runId, third?.runId].sort());
      expect(new Set(firings.map((f) => f.key)).size).toBe(3);
    } finally {
      await store.close();
      await state.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('two daemons polling the same new files claim one firing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'weir-sensor-'));
    const { path, state } = await stores(root);
    const a = await openSqliteOrchestrationStore(path);
    const b = await openSqliteOrchestrationStore(path);
    try {
      await mkdir(join(root, 'in'));
      await writeFile(join(root, 'in', 'x.json'), '{}');
      const def = fileArrival({ glob: ['in/*.json'], name: 'json_files' });
      const deps = { root, state, logger: silentLogger };
      const now = new Date();
      const got = await Promise.all([
        pollSensor(a, def, 'p', deps, 'A', now),
        pollSensor(b, def, 'p', deps, 'B', now),
      ]);
      expect(got.filter((g) => g !== undefined)).toHaveLength(1);
      expect(await a.listFirings(sensorSource('p', 'json_files'))).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
      await state.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('asset materialized sensor', () => {
  it('fires when the upstream asset gets a new successful materialization, not for the one it found', async () => {
    const dir = await writeTree({
      ...BASE_PROJECT,
      'pipelines/up.yml': 'name: up\nselect: [orders]\n',
      'pipelines/down.yml':
        'name: down\nselect: [order_count]\nsensors:\n  - asset_materialized: { asset: model.shop.orders, name: orders_done }\n',
    });
    const p = await openProject(dir);
    try {
      const down = p.pipelines.find((s) => s.name === 'down') as PipelineSpec;
      expect(down.sensors).toEqual([
        { kind: 'asset_materialized', asset: 'model.shop.orders', name: 'orders_done', intervalMs: 30_000 },
      ]);
      const [def] = down.sensors;
      if (!def) throw new Error('no sensor');
      const deps = { root: dir, state: p.rt.state, logger: silentLogger };
      const first = await p.run('up');
      expect(first.status).toBe('success');
      // The materialization that existed before the sensor first looked does not fire.
      expect(await pollSensor(p.orch, def, 'down', deps, 'A', new Date())).toBeUndefined();
      const second = await p.run('up');
      const fired = await pollSensor(p.orch, def, 'down', deps, 'A', new Date());
      expect(fired?.params['upstream']).toMatchObject({ run_id: second.runId });
      expect(await pollSensor(p.orch, def, 'down', deps, 'A', new Date())).toBeUndefined();
    } finally {
      await p.close();
    }
  });
});

describe('custom sensors in the daemon', () => {
  it('are evaluated on their interval under the lease, keep their cursor, and trigger one run per firing with their params', async () => {
    const dir = await writeTree({
      'pipelines/custom.ts': `
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, sensor } from 'weir';
export default pipeline('custom')
  .select('orders')
  .sensor(sensor('counter', async (ctx) => {
    const file = join(ctx.root, 'counter.txt');
    const value = existsSync(file) ? readFileSync(file, 'utf8').trim() : '0';
    return { fire: value !== (ctx.cursor ?? '0'), cursor: value, params: { value, previous: ctx.cursor ?? null } };
  }, { interval: '1m' }));
`,
    });
    const { path, state } = await stores(dir);
    const storeA = await openSqliteOrchestrationStore(path);
    const storeB = await openSqliteOrchestrationStore(path);
    try {
      const pipelines = await loadPipelines(dir);
      expect(pipelines[0]?.sensors[0]).toMatchObject({ kind: 'custom', name: 'counter', intervalMs: 60_000 });
      let clock = new Date('2024-01-01T00:00:00Z').getTime();
      const fired: Array<{ owner: string; firing: SensorFiring }> = [];
      const make = (store: typeof storeA, owner: string): SchedulerDaemon =>
        new SchedulerDaemon({
          store,
          pipelines,
          owner,
          logger: silentLogger,
          leaseTtlMs: 5_000,
          now: () => new Date(clock),
          root: dir,
          state,
          getRun: () => Promise.resolve(undefined),
          launch: async () => undefined,
          resume: async () => undefined,
          launchSensor: async (_spec, firing) => {
            fired.push({ owner, firing });
          },
        });
      const a = make(storeA, 'A');
      const b = make(storeB, 'B');
      const poll = async (): Promise<void> => {
        await Promise.all([a.tickOnce(), b.tickOnce()]);
      };
      await poll();
      expect(fired).toHaveLength(0);
      await writeFile(join(dir, 'counter.txt'), '1');
      clock += 30_000; // within the interval: not evaluated
      await poll();
      expect(fired).toHaveLength(0);
      clock += 30_000;
      await poll();
      // The first evaluation stored cursor '0' without firing.
      expect(fired.map((f) => f.firing.params)).toEqual([{ value: '1', previous: '0' }]);
      clock += 60_000;
      await poll(); // nothing new
      await writeFile(join(dir, 'counter.txt'), '2');
      // A's lease lapses: B takes over and fires with the cursor A stored.
      clock += 60_000;
      await b.tickOnce();
      expect(fired.map((f) => f.firing.params)).toEqual([
        { value: '1', previous: '0' },
        { value: '2', previous: '1' },
      ]);
      expect(fired.map((f) => f.owner)).toEqual(['A', 'B']);
      expect(await storeA.getCursor(sensorSource('custom', 'counter'))).toBe('2');
    } finally {
      await storeA.close();
      await storeB.close();
      await state.close();
    }
  });

  it('a sensor that throws or returns garbage is logged with its code and retried next interval', async () => {
    const root = await mkdtemp(join(tmpdir(), 'weir-sensor-'));
    const { path, state } = await stores(root);
    const store = await openSqliteOrchestrationStore(path);
    const lines: Array<{ msg: string; fields: Record<string, unknown> }> = [];
    let calls = 0;
    try {
      const base = {
        file: 'pipelines/x.ts',
        select: [],
        exclude: [],
        maxActiveRuns: 1,
        pools: {},
        steps: [],
        params: {},
        alerts: [],
      };
      const pipelines: PipelineSpec[] = [
        {
          ...base,
          name: 'broken',
          sensors: [
            {
              ...sensor('boom', () => {
                calls++;
                throw new Error('landing bucket unreachable');
              }),
              intervalMs: 1000,
            },
            { ...sensor('garbage', () => ({ fire: 'yes' }) as never), intervalMs: 1000 },
          ],
        },
      ];
      let clock = Date.parse('2024-01-01T00:00:00Z');
      const daemon = new SchedulerDaemon({
        store,
        pipelines,
        owner: 'A',
        logger: recordingLogger(lines),
        now: () => new Date(clock),
        root,
        state,
        getRun: (): Promise<RunRecord | undefined> => Promise.resolve(undefined),
        launch: async () => undefined,
        resume: async () => undefined,
        launchSensor: async () => {
          throw new Error('must not fire');
        },
      });
      await daemon.tickOnce();
      clock += 1000;
      await daemon.tickOnce();
      expect(calls).toBe(2);
      const failures = lines.filter((l) => l.msg === 'sensor evaluation failed');
      expect(failures.map((f) => f.fields['code'])).toEqual([
        'WEIR-O070',
        'WEIR-O071',
        'WEIR-O070',
        'WEIR-O071',
      ]);
      expect(String(failures[0]?.fields['error'])).toContain('landing bucket unreachable');
    } finally {
      await store.close();
      await state.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('rejects duplicate sensor names and bad intervals with WEIR-O003 / O010', async () => {
    const dup = await writeTree({
      'pipelines/d.yml':
        'name: d\nsensors:\n  - file_arrival: { glob: "a/*.csv", name: s }\n  - file_arrival: { glob: "b/*.csv", name: s }\n',
    });
    await expect(loadPipelines(dup)).rejects.toMatchObject({ code: 'WEIR-O003' });
    const bad = await writeTree({
      'pipelines/d.yml': 'name: d\nsensors:\n  - file_arrival: { glob: "a/*.csv", interval: soon }\n',
    });
    await expect(loadPipelines(bad)).rejects.toMatchObject({ code: 'WEIR-O010' });
    const ok = await writeTree({
      'pipelines/d.yml': 'name: d\nsensors:\n  - file_arrival: "landing/*.csv"\n',
    });
    expect((await loadPipelines(ok))[0]?.sensors).toEqual([
      { kind: 'file_arrival', glob: ['landing/*.csv'], name: 'files_landing_csv', intervalMs: 30_000 },
    ]);
  });
});
