import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/core/logger.js';
import type { PipelineSpec } from '../src/orchestrate/pipeline/load-pipelines.js';
import { SchedulerDaemon } from '../src/orchestrate/scheduler/daemon.js';
import { dueTicks, ticksBetween } from '../src/orchestrate/scheduler/ticks.js';
import { openSqliteOrchestrationStore } from '../src/state/sqlite/sqlite-orchestration-store.js';
import { openSqliteStateStore } from '../src/state/sqlite/sqlite-state-store.js';

const berlin = { cron: '30 2 * * *', timezone: 'Europe/Berlin', catchup: true };

describe('tick computation', () => {
  it('a daily 02:30 Berlin cron across the spring-forward and fall-back changes fires once a day at the right instants', () => {
    // 2024-03-31: clocks jump 02:00 -> 03:00 (02:30 does not exist); 2024-10-27: 03:00 -> 02:00.
    const spring = ticksBetween(berlin, new Date('2024-03-29T12:00:00Z'), new Date('2024-04-02T00:00:00Z'));
    expect(spring.map((d) => d.toISOString())).toEqual([
      '2024-03-30T01:30:00.000Z', // CET (+1)
      '2024-03-31T01:30:00.000Z', // 02:30 does not exist that day: it fires once, at 03:30 CEST
      '2024-04-01T00:30:00.000Z', // CEST (+2)
    ]);
    const fall = ticksBetween(berlin, new Date('2024-10-25T12:00:00Z'), new Date('2024-10-29T00:00:00Z'));
    expect(fall.map((d) => d.toISOString())).toEqual([
      '2024-10-26T00:30:00.000Z',
      '2024-10-27T01:30:00.000Z', // 02:30 happens twice that day: it fires once (at 02:30 CET)
      '2024-10-28T01:30:00.000Z',
    ]);
  });

  it('an hourly cron in New York has 23 ticks on the spring-forward day', () => {
    const ny = { cron: '@hourly', timezone: 'America/New_York', catchup: true };
    const ticks = ticksBetween(ny, new Date('2024-03-10T04:59:59Z'), new Date('2024-03-11T03:59:59Z'));
    expect(ticks).toHaveLength(23);
  });

  it('catchup fires every missed tick; without it only the latest; start and end bound them', () => {
    const now = new Date('2024-01-10T12:00:00Z');
    const last = new Date('2024-01-05T06:00:00Z');
    const on = { cron: '0 6 * * *', timezone: 'UTC', catchup: true };
    expect(dueTicks(on, now, last, now).map((d) => d.toISOString().slice(0, 10))).toEqual([
      '2024-01-06',
      '2024-01-07',
      '2024-01-08',
      '2024-01-09',
      '2024-01-10',
    ]);
    expect(dueTicks({ ...on, catchup: false }, now, last, now).map((d) => d.toISOString())).toEqual([
      '2024-01-10T06:00:00.000Z',
    ]);
    expect(dueTicks({ ...on, end: '2024-01-08T00:00:00Z' }, now, last, now)).toHaveLength(2);
    expect(dueTicks({ ...on, start: '2024-01-09T00:00:00Z' }, now, last, now)).toHaveLength(2);
    // A daemon starting fresh does not fire ticks from before it started.
    expect(dueTicks(on, now, undefined, now)).toEqual([]);
  });
});

describe('scheduler daemons', () => {
  it('two daemons against one state store fire each tick exactly once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-daemon-'));
    const path = join(dir, 'state.sqlite');
    const state = await openSqliteStateStore(path);
    await state.init();
    try {
      const storeA = await openSqliteOrchestrationStore(path);
      const storeB = await openSqliteOrchestrationStore(path);
      const spec: PipelineSpec = {
        name: 'every_minute',
        file: 'pipelines/x.ts',
        select: [],
        exclude: [],
        schedule: { cron: '* * * * *', timezone: 'UTC', catchup: true },
        maxActiveRuns: 1,
        pools: {},
        steps: [],
        params: {},
        alerts: [],
        sensors: [],
      };
      let clock = new Date('2024-01-01T00:00:30Z').getTime();
      const fired: string[] = [];
      const make = (store: typeof storeA, owner: string): SchedulerDaemon =>
        new SchedulerDaemon({
          store,
          pipelines: [spec],
          owner,
          logger: silentLogger,
          leaseTtlMs: 5_000,
          now: () => new Date(clock),
          getRun: () => Promise.resolve(undefined),
          launch: async (_s, at) => {
            fired.push(`${owner}@${at}`);
          },
          resume: async () => undefined,
        });
      const a = make(storeA, 'A');
      const b = make(storeB, 'B');
      // 30 minutes of clock, both daemons polling every 10 s; A dies (stops polling) at minute 10.
      for (let step = 0; step < 180; step++) {
        clock += 10_000;
        const polls = step < 60 ? [a.tickOnce(), b.tickOnce()] : [b.tickOnce()];
        await Promise.all(polls);
      }
      const times = fired.map((f) => f.split('@')[1]);
      expect(new Set(times).size).toBe(times.length);
      // Every minute from 00:01 to 00:30 fired once, by A first then by B after A's lease expired.
      expect(times.sort()).toEqual(
        Array.from({ length: 30 }, (_, i) => new Date(Date.UTC(2024, 0, 1, 0, i + 1)).toISOString()),
      );
      expect(fired.some((f) => f.startsWith('A@'))).toBe(true);
      expect(fired.some((f) => f.startsWith('B@'))).toBe(true);
      const ticks = await storeA.listTicks('every_minute');
      expect(ticks).toHaveLength(30);
      await storeA.close();
      await storeB.close();
    } finally {
      await state.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
