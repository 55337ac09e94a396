import { fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WeirError } from '../src/core/errors.js';
import type {
  CatalogEntry,
  EventRecord,
  NodeResultRecord,
  RunRecord,
  RunStatus,
  StateStore,
} from '../src/core/state-store.js';

/**
 * How a child process opens its own handle on the same store: `module` exports `exportName`, an
 * async function called with `args` (JSON) that returns a StateStore. Used by the multi-process test.
 */
export interface StateStoreOpener {
  readonly module: string;
  readonly exportName: string;
  readonly args: readonly unknown[];
}

export interface StateStoreFixture {
  /** A fresh, empty store (not yet initialised). */
  readonly store: StateStore;
  /** Opens the same data again (after `store.close()`), when the implementation persists. */
  readonly reopen?: () => Promise<StateStore>;
  /** Lets the suite start other OS processes writing to the same store. */
  readonly opener?: StateStoreOpener;
  readonly cleanup: () => Promise<void>;
}

function run(runId: string, startedAt: string, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    command: 'build',
    status: 'running',
    args: { select: ['tag:nightly'], fullRefresh: false, vars: { day: '2024-01-01' } },
    startedAt,
    finishedAt: null,
    error: null,
    ...extra,
  };
}

function nodeResult(runId: string, nodeId: string, extra: Partial<NodeResultRecord> = {}): NodeResultRecord {
  return {
    runId,
    nodeId,
    asset: null,
    status: 'success',
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    rows: null,
    bytes: null,
    version: null,
    message: null,
    errorCode: null,
    ...extra,
  };
}

function event(
  runId: string,
  nodeId: string | null,
  type: string,
  data: Record<string, unknown> = {},
): EventRecord {
  return { runId, nodeId, ts: new Date().toISOString(), type, data };
}

function catalog(asset: string, extra: Partial<CatalogEntry> = {}): CatalogEntry {
  return {
    asset,
    nodeId: `model.shop.${asset.split('.')[1] ?? asset}`,
    kind: 'table',
    location: `/lake/${asset.replace('.', '/')}`,
    sql: null,
    updatedAt: '2024-01-01T00:00:00.000Z',
    runId: 'r1',
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

// A child process: loads the store module (TypeScript through jiti), waits for "go", then writes.
const CHILD_SCRIPT = `
import { pathToFileURL } from 'node:url';
const [modulePath, exportName, argsJson, worker, iterations] = process.argv.slice(2);
const loaded = await import(pathToFileURL(modulePath).href);
// jiti may hand TypeScript modules over as a CommonJS-style default export.
const open = loaded[exportName] ?? loaded.default?.[exportName];
process.on('message', async (msg) => {
  if (msg !== 'go') return;
  const errors = [];
  try {
    const store = await open(...JSON.parse(argsJson));
    await store.init();
    const runId = 'proc-' + worker;
    await store.createRun({ runId, command: 'run', status: 'running', args: { worker: Number(worker) },
      startedAt: new Date().toISOString(), finishedAt: null, error: null });
    for (let i = 0; i < Number(iterations); i++) {
      await store.appendEvent({ runId, nodeId: 'model.n' + (i % 5), ts: new Date().toISOString(), type: 'tick',
        data: { worker: Number(worker), i } });
      await store.putNodeResult({ runId, nodeId: 'model.n' + i, asset: 'shared.n' + i, status: 'success',
        startedAt: new Date().toISOString(), finishedAt: null, durationMs: i, rows: i, bytes: null, version: null,
        message: null, errorCode: null });
      if (i % 10 === 0) await store.listEvents(runId);
    }
    await store.updateRun(runId, { status: 'success', finishedAt: new Date().toISOString() });
    await store.close();
  } catch (err) {
    errors.push(String(err && err.stack ? err.stack : err));
  }
  process.send({ errors }, () => process.exit(errors.length > 0 ? 1 : 0));
});
process.send('ready');
`;

interface ChildOutcome {
  readonly code: number | null;
  readonly errors: string[];
  readonly stderr: string;
}

async function runChildren(
  opener: StateStoreOpener,
  workers: number,
  iterations: number,
): Promise<ChildOutcome[]> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-state-child-'));
  try {
    const script = join(dir, 'writer.mjs');
    await writeFile(script, CHILD_SCRIPT);
    const jitiDir = dirname(createRequire(import.meta.url).resolve('jiti'));
    const register = pathToFileURL(join(jitiDir, 'jiti-register.mjs')).href;
    const children = Array.from({ length: workers }, (_, w) =>
      fork(
        script,
        [opener.module, opener.exportName, JSON.stringify(opener.args), String(w), String(iterations)],
        {
          execArgv: ['--import', register],
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        },
      ),
    );
    const stderr = children.map(() => '');
    children.forEach((c, i) => c.stderr?.on('data', (d: Buffer) => (stderr[i] += d.toString())));
    const ready = children.map((c) => new Promise<void>((resolve) => c.once('message', () => resolve())));
    const outcomes = children.map(
      (c, i) =>
        new Promise<ChildOutcome>((resolve) => {
          let errors: string[] = ['no report from child'];
          c.on('message', (msg: unknown) => {
            if (typeof msg === 'object' && msg !== null && 'errors' in msg)
              errors = (msg as { errors: string[] }).errors;
          });
          c.once('exit', (code) => resolve({ code, errors, stderr: stderr[i] ?? '' }));
        }),
    );
    // Start them together so their opens, inits and writes really overlap.
    await Promise.race([Promise.all(ready), Promise.all(outcomes)]);
    for (const c of children) if (c.connected) c.send('go');
    return await Promise.all(outcomes);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The contract every StateStore must meet (Dagster/Drizzle-style shared suite). The factory must
 * return a fresh, empty store each time it is called.
 */
export function stateStoreConformance(name: string, factory: () => Promise<StateStoreFixture>): void {
  describe(`StateStore conformance: ${name}`, () => {
    let fixture: StateStoreFixture;
    let store: StateStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
      await store.init();
    });

    afterEach(async () => {
      await store.close().catch(() => undefined);
      await fixture.cleanup();
    });

    describe('init', () => {
      it('is idempotent', async () => {
        await store.init();
        await store.init();
        await store.createRun(run('r1', '2024-01-01T00:00:00.000Z'));
        await store.init();
        expect((await store.listRuns()).map((r) => r.runId)).toEqual(['r1']);
      });
    });

    describe('runs', () => {
      it('creates and reads a run with its JSON args', async () => {
        const r = run('r1', '2024-01-01T00:00:00.000Z', {
          args: { select: ['a', 'b+'], nested: { n: 1, ok: true } },
        });
        await store.createRun(r);
        expect(await store.getRun('r1')).toEqual(r);
        expect(await store.getRun('missing')).toBeUndefined();
      });

      it('refuses a second run with the same id', async () => {
        await store.createRun(run('r1', '2024-01-01T00:00:00.000Z'));
        await rejection(store.createRun(run('r1', '2024-01-02T00:00:00.000Z')));
        expect((await store.getRun('r1'))?.startedAt).toBe('2024-01-01T00:00:00.000Z');
      });

      it('updates only the fields in the patch', async () => {
        await store.createRun(run('r1', '2024-01-01T00:00:00.000Z'));
        await store.updateRun('r1', { status: 'failed' });
        expect(await store.getRun('r1')).toMatchObject({ status: 'failed', finishedAt: null, error: null });
        await store.updateRun('r1', { finishedAt: '2024-01-01T00:05:00.000Z', error: 'boom' });
        expect(await store.getRun('r1')).toMatchObject({
          status: 'failed',
          finishedAt: '2024-01-01T00:05:00.000Z',
          error: 'boom',
          command: 'build',
        });
        await store.updateRun('r1', { error: null });
        expect((await store.getRun('r1'))?.error).toBeNull();
      });

      it('reports an update of an unknown run as WEIR-S002', async () => {
        const err = await rejection(store.updateRun('nope', { status: 'success' }));
        expect(err).toBeInstanceOf(WeirError);
        expect((err as WeirError).code).toBe('WEIR-S002');
      });

      it('lists runs newest first, with limit and status filter', async () => {
        const statuses: RunStatus[] = ['success', 'failed', 'success', 'running'];
        // Inserted out of time order: the order must come from startedAt, not insertion.
        for (const i of [2, 0, 3, 1]) {
          await store.createRun(run(`r${i}`, `2024-01-0${i + 1}T00:00:00.000Z`, { status: statuses[i]! }));
        }
        expect((await store.listRuns()).map((r) => r.runId)).toEqual(['r3', 'r2', 'r1', 'r0']);
        expect((await store.listRuns({ limit: 2 })).map((r) => r.runId)).toEqual(['r3', 'r2']);
        expect((await store.listRuns({ status: 'success' })).map((r) => r.runId)).toEqual(['r2', 'r0']);
        expect((await store.listRuns({ status: 'success', limit: 1 })).map((r) => r.runId)).toEqual(['r2']);
        expect(await store.listRuns({ status: 'cancelled' })).toEqual([]);
      });

      it('orders runs started in the same millisecond by creation', async () => {
        for (const id of ['a', 'b', 'c']) await store.createRun(run(id, '2024-01-01T00:00:00.000Z'));
        expect((await store.listRuns()).map((r) => r.runId)).toEqual(['c', 'b', 'a']);
      });
    });

    describe('node results', () => {
      beforeEach(async () => {
        await store.createRun(run('r1', '2024-01-01T00:00:00.000Z'));
        await store.createRun(run('r2', '2024-01-02T00:00:00.000Z'));
      });

      it('stores every field and replaces the result of the same node in the same run', async () => {
        const first = nodeResult('r1', 'model.shop.orders', {
          asset: 'marts.orders',
          status: 'running',
          startedAt: '2024-01-01T00:00:01.000Z',
        });
        await store.putNodeResult(first);
        expect(await store.listNodeResults('r1')).toEqual([first]);
        const done: NodeResultRecord = {
          ...first,
          status: 'error',
          finishedAt: '2024-01-01T00:00:03.500Z',
          durationMs: 2500.5,
          rows: 1234,
          bytes: 56789,
          version: 7,
          message: 'Binder Error: ...',
          errorCode: 'WEIR-E001',
        };
        await store.putNodeResult(done);
        expect(await store.listNodeResults('r1')).toEqual([done]);
        expect(await store.listNodeResults('r2')).toEqual([]);
      });

      it('lists the results of one run only', async () => {
        await store.putNodeResult(nodeResult('r1', 'a', { startedAt: '2024-01-01T00:00:01.000Z' }));
        await store.putNodeResult(nodeResult('r1', 'b', { startedAt: '2024-01-01T00:00:02.000Z' }));
        await store.putNodeResult(nodeResult('r2', 'a', { startedAt: '2024-01-02T00:00:01.000Z' }));
        expect((await store.listNodeResults('r1')).map((r) => r.nodeId)).toEqual(['a', 'b']);
        expect((await store.listNodeResults('r2')).map((r) => r.nodeId)).toEqual(['a']);
      });

      it('refuses a result for an unknown run with WEIR-S002', async () => {
        const err = await rejection(store.putNodeResult(nodeResult('ghost', 'a')));
        expect((err as WeirError).code).toBe('WEIR-S002');
      });

      it('gives the history of an asset or a node id, newest first', async () => {
        await store.createRun(run('r3', '2024-01-03T00:00:00.000Z'));
        await store.putNodeResult(
          nodeResult('r1', 'model.shop.orders', {
            asset: 'marts.orders',
            startedAt: '2024-01-01T00:00:01.000Z',
          }),
        );
        await store.putNodeResult(
          nodeResult('r3', 'model.shop.orders', {
            asset: 'marts.orders',
            status: 'error',
            startedAt: '2024-01-03T00:00:01.000Z',
          }),
        );
        // Skipped nodes have no start time: they sort by their run's start.
        await store.putNodeResult(
          nodeResult('r2', 'model.shop.orders', { asset: 'marts.orders', status: 'skipped' }),
        );
        await store.putNodeResult(nodeResult('r2', 'test.shop.orders_not_null', { status: 'pass' }));
        await store.putNodeResult(nodeResult('r2', 'model.shop.other', { asset: 'marts.other' }));

        const byAsset = await store.nodeHistory('marts.orders');
        expect(byAsset.map((r) => [r.runId, r.status])).toEqual([
          ['r3', 'error'],
          ['r2', 'skipped'],
          ['r1', 'success'],
        ]);
        expect(await store.nodeHistory('model.shop.orders')).toEqual(byAsset);
        expect((await store.nodeHistory('marts.orders', 2)).map((r) => r.runId)).toEqual(['r3', 'r2']);
        expect((await store.nodeHistory('test.shop.orders_not_null')).map((r) => r.status)).toEqual(['pass']);
        expect(await store.nodeHistory('marts.nothing')).toEqual([]);
      });
    });

    describe('events', () => {
      beforeEach(async () => {
        await store.createRun(run('r1', '2024-01-01T00:00:00.000Z'));
        await store.createRun(run('r2', '2024-01-02T00:00:00.000Z'));
      });

      it('assigns increasing seq numbers and keeps JSON data', async () => {
        await store.appendEvent(event('r1', null, 'run_started', { selection: ['a'], n: 1 }));
        await store.appendEvent(event('r2', 'a', 'node_started'));
        await store.appendEvent({
          ...event('r1', 'a', 'node_finished', { rows: 10, nested: { ok: true } }),
          seq: 999_999,
        });
        const r1 = await store.listEvents('r1');
        expect(r1.map((e) => e.type)).toEqual(['run_started', 'node_finished']);
        expect(r1[0]!.data).toEqual({ selection: ['a'], n: 1 });
        expect(r1[1]!.data).toEqual({ rows: 10, nested: { ok: true } });
        expect(r1[0]!.nodeId).toBeNull();
        const seqs = [...r1, ...(await store.listEvents('r2'))].map((e) => e.seq!).sort((a, b) => a - b);
        expect(seqs.every((s) => Number.isInteger(s))).toBe(true);
        expect(new Set(seqs).size).toBe(3);
        // The store assigns seq: the caller's value is not taken, and order follows appends.
        expect(r1[1]!.seq).not.toBe(999_999);
        expect(r1[1]!.seq!).toBeGreaterThan(r1[0]!.seq!);
      });

      it('filters by node', async () => {
        await store.appendEvent(event('r1', 'a', 'x'));
        await store.appendEvent(event('r1', 'b', 'y'));
        await store.appendEvent(event('r1', 'a', 'z'));
        expect((await store.listEvents('r1', 'a')).map((e) => e.type)).toEqual(['x', 'z']);
        expect(await store.listEvents('r1', 'c')).toEqual([]);
        expect(await store.listEvents('r9')).toEqual([]);
      });

      it('refuses an event for an unknown run with WEIR-S002', async () => {
        const err = await rejection(store.appendEvent(event('ghost', null, 'x')));
        expect((err as WeirError).code).toBe('WEIR-S002');
      });

      it('appends a batch in order, all or none', async () => {
        await store.appendEvents([event('r1', 'a', 'x'), event('r2', 'b', 'y'), event('r1', 'c', 'z')]);
        expect((await store.listEvents('r1')).map((e) => e.type)).toEqual(['x', 'z']);
        expect((await store.listEvents('r2')).map((e) => e.type)).toEqual(['y']);
        // One event of an unknown run refuses the whole batch: nothing of it is written.
        const err = await rejection(
          store.appendEvents([event('r1', 'a', 'kept-out'), event('ghost', null, 'x')]),
        );
        expect((err as WeirError).code).toBe('WEIR-S002');
        expect((await store.listEvents('r1')).map((e) => e.type)).toEqual(['x', 'z']);
        await store.appendEvents([]);
      });

      it('loses nothing when many appends are in flight at once', async () => {
        await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            store.appendEvent(event(i % 2 ? 'r1' : 'r2', null, 'tick', { i })),
          ),
        );
        const all = [...(await store.listEvents('r1')), ...(await store.listEvents('r2'))];
        expect(all).toHaveLength(200);
        expect(new Set(all.map((e) => e.data['i'])).size).toBe(200);
      });
    });

    describe('catalog', () => {
      it('puts, replaces, lists, reads and deletes entries', async () => {
        const orders = catalog('marts.orders');
        const view = catalog('staging.stg_orders', {
          kind: 'view',
          location: null,
          sql: 'SELECT * FROM raw.orders',
        });
        await store.putCatalogEntry(orders);
        await store.putCatalogEntry(view);
        expect(await store.getCatalogEntry('marts.orders')).toEqual(orders);
        expect(await store.getCatalogEntry('staging.stg_orders')).toEqual(view);
        expect(await store.getCatalogEntry('marts.none')).toBeUndefined();

        const moved = {
          ...orders,
          location: '/lake2/marts/orders',
          updatedAt: '2024-02-01T00:00:00.000Z',
          runId: 'r2',
        };
        await store.putCatalogEntry(moved);
        expect(await store.listCatalog()).toEqual([moved, view]);

        await store.deleteCatalogEntry('marts.orders');
        await store.deleteCatalogEntry('marts.orders');
        expect(await store.listCatalog()).toEqual([view]);
      });

      it("writes a node's result and its asset's entry together, or neither", async () => {
        await store.createRun(run('r1', '2024-01-01T00:00:00.000Z'));
        const entry = catalog('marts.orders', { runId: 'r1' });
        await store.putNodeResult(nodeResult('r1', 'model.shop.orders', { asset: 'marts.orders' }), entry);
        expect(await store.getCatalogEntry('marts.orders')).toEqual(entry);
        expect((await store.listNodeResults('r1')).map((r) => r.nodeId)).toEqual(['model.shop.orders']);

        // A result the store refuses (unknown run) leaves the entry out too.
        const err = await rejection(
          store.putNodeResult(
            nodeResult('ghost', 'model.shop.customers', { asset: 'marts.customers' }),
            catalog('marts.customers', { runId: 'ghost' }),
          ),
        );
        expect((err as WeirError).code).toBe('WEIR-S002');
        expect(await store.getCatalogEntry('marts.customers')).toBeUndefined();
      });
    });

    describe('persistence', () => {
      it('keeps everything across close and reopen', async () => {
        if (!fixture.reopen) return;
        await store.createRun(run('r1', '2024-01-01T00:00:00.000Z', { status: 'success' }));
        await store.putNodeResult(nodeResult('r1', 'a', { asset: 's.a', rows: 5 }));
        await store.appendEvent(event('r1', 'a', 'done', { ok: true }));
        await store.putCatalogEntry(catalog('s.a'));
        await store.close();
        store = await fixture.reopen();
        await store.init();
        expect((await store.getRun('r1'))?.status).toBe('success');
        expect((await store.listNodeResults('r1'))[0]?.rows).toBe(5);
        expect((await store.listEvents('r1'))[0]?.data).toEqual({ ok: true });
        expect(await store.getCatalogEntry('s.a')).toEqual(catalog('s.a'));
        // New events keep counting after the old ones.
        const before = (await store.listEvents('r1'))[0]!.seq!;
        await store.appendEvent(event('r1', 'a', 'again'));
        expect((await store.listEvents('r1'))[1]!.seq!).toBeGreaterThan(before);
      });

      it('sees writes of a second handle on the same store', async () => {
        if (!fixture.reopen) return;
        const other = await fixture.reopen();
        try {
          await other.init();
          await store.createRun(run('r1', '2024-01-01T00:00:00.000Z'));
          await other.appendEvent(event('r1', null, 'from-other'));
          await store.appendEvent(event('r1', null, 'from-first'));
          expect((await other.listEvents('r1')).map((e) => e.type)).toEqual(['from-other', 'from-first']);
        } finally {
          await other.close();
        }
      });
    });

    describe('concurrency across processes', () => {
      it('lets several processes init and write at once without losing anything', async () => {
        const fresh = await factory();
        try {
          if (!fresh.opener) return;
          const workers = 4;
          const iterations = 150;
          const outcomes = await runChildren(fresh.opener, workers, iterations);
          for (const o of outcomes) {
            expect(o.errors.join('\n') + o.stderr).not.toMatch(/locked|busy/i);
            expect(o.errors).toEqual([]);
            expect(o.code).toBe(0);
          }
          const check = fresh.store;
          await check.init();
          const runs = await check.listRuns();
          expect(runs.map((r) => r.runId).sort()).toEqual(
            Array.from({ length: workers }, (_, w) => `proc-${w}`),
          );
          expect(runs.every((r) => r.status === 'success')).toBe(true);
          const seqs: number[] = [];
          for (let w = 0; w < workers; w++) {
            const events = await check.listEvents(`proc-${w}`);
            expect(events.map((e) => e.data['i'])).toEqual(Array.from({ length: iterations }, (_, i) => i));
            seqs.push(...events.map((e) => e.seq!));
            expect(await check.listNodeResults(`proc-${w}`)).toHaveLength(iterations);
          }
          expect(new Set(seqs).size).toBe(workers * iterations);
          expect(await check.nodeHistory('shared.n7')).toHaveLength(workers);
        } finally {
          await fresh.store.close().catch(() => undefined);
          await fresh.cleanup();
        }
      });
    });
  });
}
