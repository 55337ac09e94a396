import { describe, expect, it } from 'vitest';
import { WeirError } from '../core/errors.js';
import { Graph, type GraphNode } from '../core/graph.js';
import { runDag, type DagView, type NodeOutcome } from './dag-runner.js';

function graphOf(edges: Record<string, string[]>): Graph {
  const nodes: GraphNode[] = Object.entries(edges).map(([id, dependsOn]) => ({
    id,
    name: id,
    resourceType: 'step',
    packageName: 'p',
    path: `${id}.sql`,
    fqn: ['p', id],
    tags: [],
    config: {},
    dependsOn,
  }));
  return Graph.build(nodes);
}

/** A promise the test settles by hand. */
function deferred<T = NodeOutcome>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('runDag', () => {
  it('runs every node after its parents, within the concurrency limit', async () => {
    const rand = random(7);
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 150; i++) {
      const deps = new Set<string>();
      for (let k = 0; k < 3 && i > 0; k++) if (rand() < 0.6) deps.add(`n${Math.floor(rand() * i)}`);
      edges[`n${i}`] = [...deps];
    }
    const graph = graphOf(edges);
    const started = new Map<string, number>();
    const finished = new Map<string, number>();
    let clock = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const results = await runDag({
      graph,
      ids: graph.topoOrder(),
      concurrency: 4,
      run: async (id) => {
        started.set(id, clock++);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, rand() < 0.3 ? 1 : 0));
        inFlight--;
        finished.set(id, clock++);
        return 'success';
      },
    });
    expect(results.size).toBe(150);
    expect([...results.values()].every((r) => r.outcome === 'success')).toBe(true);
    for (const [id, deps] of Object.entries(edges)) {
      for (const dep of deps) expect(finished.get(dep) as number).toBeLessThan(started.get(id) as number);
    }
    expect(maxInFlight).toBe(4);
  });

  it('never runs more than the limit, even with everything ready', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `n${i}`);
    const graph = graphOf(Object.fromEntries(ids.map((id) => [id, []])));
    for (const concurrency of [1, 3, 8]) {
      let inFlight = 0;
      let maxInFlight = 0;
      await runDag({
        graph,
        ids,
        concurrency,
        run: async () => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await tick();
          inFlight--;
          return 'success';
        },
      });
      expect(maxInFlight).toBe(concurrency);
    }
  });

  it('starts a node as soon as its own parents are done, not when a level is', async () => {
    // a -> b; c is slow and unrelated. A level-by-level runner would hold b until c finished.
    const graph = graphOf({ a: [], c: [], b: ['a'] });
    const gates = { a: deferred(), b: deferred(), c: deferred() };
    const log: string[] = [];
    const done = runDag({
      graph,
      ids: ['a', 'c', 'b'],
      concurrency: 4,
      run: (id) => {
        log.push(`start ${id}`);
        return gates[id as keyof typeof gates].promise;
      },
    });
    await tick();
    gates.a.resolve('success');
    await tick();
    expect(log).toEqual(['start a', 'start c', 'start b']);
    gates.b.resolve('success');
    gates.c.resolve('success');
    const results = await done;
    expect([...results.keys()]).toEqual(['a', 'c', 'b']);
  });

  it('starts ready nodes in topological order, deterministically', async () => {
    const graph = graphOf({ root: [], e: ['root'], d: ['root'], c: ['root'], b: ['root'], a: ['root'] });
    const ids = graph.topoOrder();
    const runOnce = async (): Promise<string[]> => {
      const order: string[] = [];
      await runDag({
        graph,
        ids,
        concurrency: 2,
        run: async (id) => {
          order.push(id);
          await tick();
          return 'success';
        },
      });
      return order;
    };
    const first = await runOnce();
    expect(first).toEqual(['root', 'a', 'b', 'c', 'd', 'e']);
    expect(await runOnce()).toEqual(first);
  });

  it('skips the descendants of a failed node, naming it, while other branches go on', async () => {
    // x fails: y and z below it skip (z also has the healthy parent a); a -> b and e carry on.
    const graph = graphOf({ a: [], b: ['a'], x: [], y: ['x'], z: ['y', 'a'], e: [] });
    const skipped: Array<[string, string]> = [];
    const ran: string[] = [];
    const results = await runDag({
      graph,
      ids: graph.topoOrder(),
      concurrency: 2,
      onSkip: (id, because) => skipped.push([id, because]),
      run: async (id) => {
        ran.push(id);
        return id === 'x' ? 'error' : 'success';
      },
    });
    expect(ran.sort()).toEqual(['a', 'b', 'e', 'x']);
    expect(skipped.sort()).toEqual([
      ['y', 'x'],
      ['z', 'x'],
    ]);
    expect(results.get('x')).toEqual({ outcome: 'error' });
    expect(results.get('y')).toEqual({ outcome: 'skipped' });
    expect(results.get('z')?.outcome).toBe('skipped');
    expect(results.get('b')?.outcome).toBe('success');
    expect(results.get('e')?.outcome).toBe('success');
  });

  it('counts a throwing or rejecting run as an error and keeps the error', async () => {
    const graph = graphOf({ sync: [], async: [], below: ['async'], ok: [] });
    const boom = new Error('boom');
    const skipped: string[] = [];
    const results = await runDag({
      graph,
      ids: graph.topoOrder(),
      concurrency: 2,
      onSkip: (id, because) => skipped.push(`${id}<-${because}`),
      run: (id) => {
        if (id === 'sync') throw boom;
        if (id === 'async') return Promise.reject(new WeirError('WEIR-E001', 'bad sql'));
        return Promise.resolve({ outcome: 'success', value: id.length });
      },
    });
    expect(results.get('sync')).toEqual({ outcome: 'error', error: boom });
    expect(results.get('async')?.outcome).toBe('error');
    expect((results.get('async')?.error as WeirError).code).toBe('WEIR-E001');
    expect(results.get('below')).toEqual({ outcome: 'skipped' });
    expect(skipped).toEqual(['below<-async']);
    expect(results.get('ok')).toEqual({ outcome: 'success', value: 2 });
  });

  it('treats an invalid outcome as an error (WEIR-G022)', async () => {
    const graph = graphOf({ a: [] });
    const results = await runDag({
      graph,
      ids: ['a'],
      concurrency: 1,
      run: async () => 'done' as unknown as NodeOutcome,
    });
    expect(results.get('a')?.outcome).toBe('error');
    expect((results.get('a')?.error as WeirError).code).toBe('WEIR-G022');
  });

  it('lets warn pass by default and block when asked', async () => {
    const graph = graphOf({ t: [], m: ['t'] });
    const run = async (id: string): Promise<NodeOutcome> => (id === 't' ? 'warn' : 'success');
    const passing = await runDag({ graph, ids: ['t', 'm'], concurrency: 1, run });
    expect(passing.get('m')?.outcome).toBe('success');
    const strict = await runDag({
      graph,
      ids: ['t', 'm'],
      concurrency: 1,
      run,
      blocking: (_id, outcome) => outcome === 'error' || outcome === 'warn',
    });
    expect(strict.get('m')?.outcome).toBe('skipped');
  });

  it('cancels: no new node starts, running ones see the signal, the rest are skipped', async () => {
    const graph = graphOf({ a: [], b: [], c: ['a'], d: [] });
    const controller = new AbortController();
    const started: string[] = [];
    const sawAbort: string[] = [];
    const done = runDag({
      graph,
      ids: graph.topoOrder(),
      concurrency: 2,
      signal: controller.signal,
      run: (id, signal) =>
        new Promise<NodeOutcome>((resolve) => {
          started.push(id);
          signal.addEventListener('abort', () => {
            sawAbort.push(id);
            resolve('error');
          });
        }),
    });
    await tick();
    expect(started).toEqual(['a', 'b']);
    const reason = new Error('user pressed ctrl-c');
    controller.abort(reason);
    const results = await done;
    expect(started).toEqual(['a', 'b']);
    expect(sawAbort.sort()).toEqual(['a', 'b']);
    expect(results.get('a')?.outcome).toBe('error');
    expect(results.get('c')).toEqual({ outcome: 'skipped', error: reason });
    expect(results.get('d')).toEqual({ outcome: 'skipped', error: reason });
  });

  it('starts nothing when the signal is already aborted', async () => {
    const graph = graphOf({ a: [], b: ['a'] });
    let calls = 0;
    const results = await runDag({
      graph,
      ids: ['a', 'b'],
      concurrency: 2,
      signal: AbortSignal.abort(),
      run: async () => {
        calls++;
        return 'success';
      },
    });
    expect(calls).toBe(0);
    expect([...results.values()].map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
  });

  it('stops after the first failure with failFast', async () => {
    const graph = graphOf({ bad: [], slow: [], later: [], after: ['slow'] });
    const started: string[] = [];
    const skipped: Array<[string, string]> = [];
    let abortReason: unknown;
    const results = await runDag({
      graph,
      ids: ['bad', 'slow', 'later', 'after'],
      concurrency: 2,
      failFast: true,
      onSkip: (id, because) => skipped.push([id, because]),
      run: (id, signal) => {
        started.push(id);
        if (id === 'bad') return Promise.resolve('error');
        return new Promise<NodeOutcome>((resolve) => {
          signal.addEventListener('abort', () => {
            abortReason = signal.reason;
            resolve('success');
          });
        });
      },
    });
    expect(started).toEqual(['bad', 'slow']);
    expect((abortReason as WeirError).code).toBe('WEIR-G021');
    expect(skipped).toEqual([
      ['later', 'bad'],
      ['after', 'bad'],
    ]);
    expect(results.get('slow')?.outcome).toBe('success');
    expect(results.get('after')?.outcome).toBe('skipped');
  });

  it('waits for selected ancestors through unselected nodes', async () => {
    // Alphabetically a comes first, but a depends on z through y, which is not selected.
    const graph = graphOf({ z: [], y: ['z'], a: ['y'], free: [] });
    const order: string[] = [];
    const results = await runDag({
      graph,
      ids: ['a', 'free', 'z'],
      concurrency: 4,
      run: async (id) => {
        order.push(id);
        await tick();
        return 'success';
      },
    });
    expect(order.indexOf('z')).toBeLessThan(order.indexOf('a'));
    expect(order.slice(0, 2)).toEqual(['free', 'z']);
    expect([...results.keys()]).toEqual(['free', 'z', 'a']);
  });

  it('accepts a plain view, and refuses a cycle in it (WEIR-G001)', async () => {
    const edges: Record<string, string[]> = { a: [], b: ['a'], c: ['b'] };
    const view: DagView = { parents: (id) => edges[id] ?? [] };
    const results = await runDag({
      graph: view,
      ids: ['c', 'b', 'a'],
      concurrency: 2,
      run: async () => 'success',
    });
    expect([...results.keys()]).toEqual(['a', 'b', 'c']);

    const cyclic: DagView = { parents: (id) => ({ a: ['c'], b: ['a'], c: ['b'] })[id] ?? [] };
    await expect(
      runDag({ graph: cyclic, ids: ['a', 'b', 'c'], concurrency: 1, run: async () => 'success' }),
    ).rejects.toMatchObject({
      code: 'WEIR-G001',
    });
    await expect(
      runDag({ graph: cyclic, ids: ['a'], concurrency: 1, run: async () => 'success' }),
    ).rejects.toMatchObject({
      code: 'WEIR-G001',
    });
  });

  it('refuses a concurrency below 1 (WEIR-G020) and runs an empty selection', async () => {
    const graph = graphOf({ a: [] });
    await expect(
      runDag({ graph, ids: ['a'], concurrency: 0, run: async () => 'success' }),
    ).rejects.toMatchObject({
      code: 'WEIR-G020',
    });
    expect((await runDag({ graph, ids: [], concurrency: 1, run: async () => 'success' })).size).toBe(0);
  });

  it('rejects when a callback throws, after running nodes finish', async () => {
    const graph = graphOf({ a: [], b: ['a'], c: [] });
    await expect(
      runDag({
        graph,
        ids: ['a', 'b', 'c'],
        concurrency: 2,
        onSkip: () => {
          throw new Error('listener broke');
        },
        run: async (id) => (id === 'a' ? 'error' : 'success'),
      }),
    ).rejects.toThrow('listener broke');
  });
});
