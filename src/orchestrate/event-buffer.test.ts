import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WeirError } from '../core/errors.js';
import type { EventRecord, StateStore } from '../core/state-store.js';
import { openSqliteStateStore } from '../state/sqlite/sqlite-state-store.js';
import { EventBuffer } from './event-buffer.js';

const event = (runId: string, type: string): EventRecord => ({
  runId,
  nodeId: null,
  ts: new Date().toISOString(),
  type,
  data: {},
});

describe('EventBuffer', () => {
  let dir: string;
  let store: StateStore;
  let batches: number[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weir-events-'));
    store = await openSqliteStateStore(join(dir, 'state.sqlite'));
    await store.init();
    await store.createRun({
      runId: 'r1',
      command: 'build',
      status: 'running',
      args: {},
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    });
    batches = [];
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The store, counting the batches written to it. */
  const counted = (): Pick<StateStore, 'appendEvents'> => ({
    appendEvents: (events) => {
      batches.push(events.length);
      return store.appendEvents(events);
    },
  });

  it('writes the events appended meanwhile as one batch, in order, by flush', async () => {
    const buffer = new EventBuffer(counted(), 60_000);
    for (const type of ['a', 'b', 'c']) await buffer.appendEvent(event('r1', type));
    expect(await store.listEvents('r1')).toEqual([]);
    await buffer.flush();
    expect((await store.listEvents('r1')).map((e) => e.type)).toEqual(['a', 'b', 'c']);
    expect(batches).toEqual([3]);
    await buffer.flush();
    expect(batches).toEqual([3]);
  });

  it('writes on its own once the wait is over', async () => {
    const buffer = new EventBuffer(counted(), 10);
    await buffer.appendEvent(event('r1', 'a'));
    await buffer.appendEvent(event('r1', 'b'));
    await expect.poll(async () => (await store.listEvents('r1')).length).toBe(2);
    expect(batches).toEqual([2]);
  });

  it('writes a full batch at once, without waiting', async () => {
    const buffer = new EventBuffer(counted(), 60_000);
    for (let i = 0; i < 500; i++) await buffer.appendEvent(event('r1', `e${i}`));
    await expect.poll(async () => (await store.listEvents('r1')).length).toBe(500);
    expect(batches).toEqual([500]);
  });

  it('does not lose a failed write quietly: flush and later appends reject with it', async () => {
    const buffer = new EventBuffer(counted(), 60_000);
    await buffer.appendEvent(event('ghost', 'x'));
    const err = await buffer.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as WeirError).code).toBe('WEIR-S002');
    await expect(buffer.appendEvent(event('r1', 'later'))).rejects.toBe(err);
    await expect(buffer.flush()).rejects.toBe(err);
    expect(await store.listEvents('r1')).toEqual([]);
  });
});
