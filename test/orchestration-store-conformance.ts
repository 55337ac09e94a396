import { describe, expect, it } from 'vitest';
import type { OrchestrationStore } from '../src/core/orchestration-store.js';

export interface OrchestrationStoreFixture {
  readonly store: OrchestrationStore;
  /** A second store on the same state (another process would open it like this). */
  readonly other: () => Promise<OrchestrationStore>;
  readonly cleanup: () => Promise<void>;
}

/** The contract every OrchestrationStore implementation passes. */
export function orchestrationStoreConformance(
  name: string,
  make: () => Promise<OrchestrationStoreFixture>,
): void {
  const withStore = async (work: (f: OrchestrationStoreFixture) => Promise<void>): Promise<void> => {
    const f = await make();
    try {
      await work(f);
    } finally {
      await f.store.close();
      await f.cleanup();
    }
  };

  describe(`OrchestrationStore conformance: ${name}`, () => {
    it('records attempts and updates them by attempt id', () =>
      withStore(async ({ store }) => {
        const base = {
          runId: 'r1',
          stepId: 's',
          startedAt: '2024-01-01T00:00:00.000Z',
          error: null,
          errorCode: null,
        };
        await store.putAttempt({
          ...base,
          attempt: 1,
          attemptId: 'r1:s:1',
          status: 'running',
          finishedAt: null,
          retryDelayMs: null,
        });
        await store.putAttempt({
          ...base,
          attempt: 1,
          attemptId: 'r1:s:1',
          status: 'failed',
          finishedAt: '2024-01-01T00:00:01.000Z',
          retryDelayMs: 50,
          error: 'boom',
          errorCode: 'WEIR-X001',
        });
        await store.putAttempt({
          ...base,
          attempt: 2,
          attemptId: 'r1:s:2',
          status: 'success',
          finishedAt: '2024-01-01T00:00:02.000Z',
          retryDelayMs: null,
        });
        await store.putAttempt({
          ...base,
          stepId: 't',
          attempt: 1,
          attemptId: 'r1:t:1',
          status: 'success',
          finishedAt: null,
          retryDelayMs: null,
        });
        const s = await store.listAttempts('r1', 's');
        expect(s.map((a) => [a.attempt, a.status, a.retryDelayMs, a.error])).toEqual([
          [1, 'failed', 50, 'boom'],
          [2, 'success', null, null],
        ]);
        expect(await store.listAttempts('r1')).toHaveLength(3);
        expect(await store.listAttempts('nope')).toEqual([]);
      }));

    it('keeps the first cancel request', () =>
      withStore(async ({ store }) => {
        expect(await store.cancelRequest('r')).toBeUndefined();
        await store.requestCancel('r', '2024-01-01T00:00:00.000Z', 'first');
        await store.requestCancel('r', '2024-01-01T00:00:05.000Z', 'second');
        expect(await store.cancelRequest('r')).toEqual({
          requestedAt: '2024-01-01T00:00:00.000Z',
          reason: 'first',
        });
      }));

    it('a lease has one holder until it expires; the holder renews it', () =>
      withStore(async ({ store, other }) => {
        const b = await other();
        const t0 = new Date('2024-01-01T00:00:00Z');
        const at = (ms: number): Date => new Date(t0.getTime() + ms);
        expect(await store.acquireLease('L', 'A', 1000, t0)).toBe(true);
        expect(await b.acquireLease('L', 'B', 1000, at(500))).toBe(false);
        expect(await store.acquireLease('L', 'A', 1000, at(900))).toBe(true);
        expect(await b.acquireLease('L', 'B', 1000, at(1500))).toBe(false);
        expect(await b.acquireLease('L', 'B', 1000, at(1901))).toBe(true);
        expect((await store.getLease('L'))?.owner).toBe('B');
        await store.releaseLease('L', 'A');
        expect((await store.getLease('L'))?.owner).toBe('B');
        await b.releaseLease('L', 'B');
        expect(await store.getLease('L')).toBeUndefined();
        await b.close();
      }));

    it('claims a tick once, across stores', () =>
      withStore(async ({ store, other }) => {
        const b = await other();
        const tick = {
          pipeline: 'p',
          scheduledAt: '2024-01-01T06:00:00.000Z',
          firedAt: '2024-01-01T06:00:01.000Z',
          owner: 'A',
          runId: null,
        };
        expect(await store.claimTick(tick)).toBe(true);
        expect(await b.claimTick({ ...tick, owner: 'B' })).toBe(false);
        await store.setTickRun('p', tick.scheduledAt, 'run-1');
        expect(await store.claimTick({ ...tick, scheduledAt: '2024-01-02T06:00:00.000Z' })).toBe(true);
        expect(await store.lastTick('p')).toBe('2024-01-02T06:00:00.000Z');
        expect(await store.lastTick('q')).toBeUndefined();
        const ticks = await b.listTicks('p');
        expect(ticks.map((t) => [t.scheduledAt, t.owner, t.runId])).toEqual([
          ['2024-01-02T06:00:00.000Z', 'A', null],
          ['2024-01-01T06:00:00.000Z', 'A', 'run-1'],
        ]);
        await b.close();
      }));

    it('stores partitions and sensor cursors', () =>
      withStore(async ({ store }) => {
        await store.putPartition({
          owner: 'p',
          key: '2024-01-02',
          status: 'running',
          runId: 'r1',
          updatedAt: 't',
          error: null,
        });
        await store.putPartition({
          owner: 'p',
          key: '2024-01-01',
          status: 'success',
          runId: 'r0',
          updatedAt: 't',
          error: null,
        });
        await store.putPartition({
          owner: 'p',
          key: '2024-01-02',
          status: 'failed',
          runId: 'r1',
          updatedAt: 't2',
          error: 'x',
        });
        expect((await store.listPartitions('p')).map((x) => [x.key, x.status])).toEqual([
          ['2024-01-01', 'success'],
          ['2024-01-02', 'failed'],
        ]);
        expect(await store.getCursor('s')).toBeUndefined();
        await store.setCursor('s', 'c1', 't');
        await store.setCursor('s', 'c2', 't');
        expect(await store.getCursor('s')).toBe('c2');
      }));

    it('limits active runs per pipeline; stale heartbeats free their slot', () =>
      withStore(async ({ store }) => {
        const now = new Date('2024-01-01T00:00:10Z');
        const hb = (runId: string, at: string) => ({ runId, pipeline: 'p', owner: 'o', heartbeatAt: at });
        expect(await store.claimRunSlot(hb('r1', now.toISOString()), 1, 5000, now)).toBe(true);
        expect(await store.claimRunSlot(hb('r2', now.toISOString()), 1, 5000, now)).toBe(false);
        expect(await store.claimRunSlot(hb('r1', now.toISOString()), 1, 5000, now)).toBe(true);
        const later = new Date(now.getTime() + 6000);
        expect(await store.claimRunSlot(hb('r2', later.toISOString()), 1, 5000, later)).toBe(true);
        await store.heartbeat('r2', later.toISOString());
        expect((await store.listRunHeartbeats()).map((h) => h.runId).sort()).toEqual(['r1', 'r2']);
        await store.releaseRunSlot('r1');
        expect((await store.listRunHeartbeats()).map((h) => h.runId)).toEqual(['r2']);
      }));
  });
}
