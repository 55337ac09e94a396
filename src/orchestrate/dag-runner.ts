import { MinHeap } from '../core/min-heap.js';
import { WeirError } from '../core/errors.js';

/**
 * The in-process parallel executor core: runs a selected subset of a DAG with bounded
 * concurrency, starting each node as soon as its own parents are done (no level barriers),
 * skipping what sits below a failure, and honouring cancellation. It knows nothing about what a
 * node does; `weir build` and pipelines plug that in through `run`.
 */
export const NODE_OUTCOMES = ['success', 'error', 'skipped', 'warn'] as const;
export type NodeOutcome = (typeof NODE_OUTCOMES)[number];

export const DAG_INVALID_OPTIONS = 'WEIR-G020';
export const DAG_FAIL_FAST = 'WEIR-G021';
export const DAG_INVALID_OUTCOME = 'WEIR-G022';
export const DAG_CYCLE = 'WEIR-G001';

/** The part of a graph the runner reads. `Graph` (src/core/graph.ts) is one. */
export interface DagView {
  parents(id: string): readonly string[];
}

export interface DagRunOptions<T> {
  /**
   * Where dependencies come from: a `Graph`, or any `{ parents(id) }` view. Parents outside
   * `ids` are looked through: if `a -> b -> c` and only `a` and `c` are selected, `c` still waits
   * for `a` (dbt keeps such transitive edges too).
   */
  readonly graph: DagView;
  /** The selected nodes; their order breaks ties between nodes ready at the same time. */
  readonly ids: readonly string[];
  /** Most nodes running at once (>= 1). */
  readonly concurrency: number;
  readonly run: (
    id: string,
    signal: AbortSignal,
  ) => Promise<NodeOutcome | { readonly outcome: NodeOutcome; readonly value?: T }>;
  /** Called once per node skipped because `because` (a failed ancestor, or with failFast the failed node) blocked it. */
  readonly onSkip?: (id: string, because: string) => void;
  /**
   * Cancellation: no new node starts, running ones see the signal. Nodes that never started are
   * reported `skipped` with the abort reason as `error` (onSkip is not called for them).
   */
  readonly signal?: AbortSignal;
  /** Stop starting nodes after the first blocking outcome; running nodes see their signal abort. */
  readonly failFast?: boolean;
  /** Whether an outcome blocks the node's descendants. Default: only `error` does. */
  readonly blocking?: (id: string, outcome: NodeOutcome) => boolean;
}

export interface NodeRunResult<T> {
  readonly outcome: NodeOutcome;
  readonly value?: T;
  /** What `run` threw, or the abort reason for nodes cancelled before they started. */
  readonly error?: unknown;
}

const PENDING = 0;
const RUNNING = 1;
const DONE = 2;

const defaultBlocking = (_id: string, outcome: NodeOutcome): boolean => outcome === 'error';

/**
 * Runs `ids` in dependency order, up to `concurrency` at a time, and resolves (never rejects
 * because of a node) with every node's result, keyed in the order nodes could run. A `run` that
 * throws or rejects counts as `error`. Rejects only for invalid options, a cycle, or a throwing
 * `onSkip` / `blocking` callback.
 */
export async function runDag<T>(options: DagRunOptions<T>): Promise<Map<string, NodeRunResult<T>>> {
  const { concurrency } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new WeirError(
      DAG_INVALID_OPTIONS,
      `Concurrency must be a whole number of at least 1, got ${concurrency}`,
      {
        hint: 'Pass --threads 1 or more.',
      },
    );
  }
  const plan = planDag(options.graph, options.ids);
  return new DagRun(options, plan).start();
}

interface DagPlan {
  readonly ids: readonly string[];
  /** Number of selected parents (direct or through unselected nodes) per node. */
  readonly waitingOn: Int32Array;
  /** Children of node i are `childList[childStart[i] .. childStart[i + 1])` (CSR, no per-node arrays). */
  readonly childStart: Int32Array;
  readonly childList: Int32Array;
  /** Nodes in topological order (by index). */
  readonly order: Int32Array;
  /** Position of each node in `order`: the start priority. */
  readonly rank: Int32Array;
}

function planDag(view: DagView, given: readonly string[]): DagPlan {
  const index = new Map<string, number>();
  const ids: string[] = [];
  for (const id of given) {
    if (index.has(id)) continue;
    index.set(id, ids.length);
    ids.push(id);
  }
  const n = ids.length;

  const parentStart = new Int32Array(n + 1);
  const parentList: number[] = [];
  // stamp[j] === i + 1 when j is already a parent of i: dedupes without a Set per node.
  const stamp = new Int32Array(n);
  const through = new Through(view, index);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    parentStart[i] = parentList.length;
    const add = (k: number): void => {
      if (stamp[k] === i + 1) return;
      stamp[k] = i + 1;
      parentList.push(k);
      if (k >= i) sorted = false;
    };
    for (const p of view.parents(ids[i] as string)) {
      const j = index.get(p);
      if (j !== undefined) add(j);
      else for (const k of through.nearest(p)) add(k);
    }
  }
  parentStart[n] = parentList.length;

  const waitingOn = new Int32Array(n);
  const childStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) waitingOn[i] = (parentStart[i + 1] as number) - (parentStart[i] as number);
  for (const p of parentList) childStart[p + 1] = (childStart[p + 1] as number) + 1;
  for (let i = 0; i < n; i++) childStart[i + 1] = (childStart[i + 1] as number) + (childStart[i] as number);
  const childList = new Int32Array(parentList.length);
  const fill = childStart.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let e = parentStart[i] as number; e < (parentStart[i + 1] as number); e++) {
      const p = parentList[e] as number;
      childList[fill[p] as number] = i;
      fill[p] = (fill[p] as number) + 1;
    }
  }

  // When ids already come in topological order (as `select` returns them) that order is kept
  // as is; otherwise Kahn's algorithm keyed by position in `ids`.
  let order: Int32Array;
  if (sorted) {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  } else {
    order = kahn(ids, waitingOn, childStart, childList);
  }
  const rank = new Int32Array(n);
  for (let position = 0; position < n; position++) rank[order[position] as number] = position;
  return { ids, waitingOn, childStart, childList, order, rank };
}

function kahn(
  ids: readonly string[],
  waitingOn: Int32Array,
  childStart: Int32Array,
  childList: Int32Array,
): Int32Array {
  const n = ids.length;
  const left = Int32Array.from(waitingOn);
  const heap = new MinHeap();
  for (let i = 0; i < n; i++) if (left[i] === 0) heap.push(i);
  const order = new Int32Array(n);
  let emitted = 0;
  while (heap.size > 0) {
    const i = heap.pop();
    order[emitted++] = i;
    for (let e = childStart[i] as number; e < (childStart[i + 1] as number); e++) {
      const c = childList[e] as number;
      const remaining = (left[c] as number) - 1;
      left[c] = remaining;
      if (remaining === 0) heap.push(c);
    }
  }
  if (emitted < n) {
    const stuck = ids.filter((_, i) => (left[i] as number) > 0);
    throw new WeirError(
      DAG_CYCLE,
      `Dependency cycle among the nodes to run: ${stuck.slice(0, 10).join(', ')}`,
      {
        hint: 'Remove one of the dependencies between these nodes so that no node depends on itself.',
        data: { nodes: stuck },
      },
    );
  }
  return order;
}

/**
 * Selected ancestors nearest to an unselected node, looking through other unselected ones
 * (memoised, so a large graph with a small selection is still walked once).
 */
class Through {
  readonly #view: DagView;
  readonly #index: ReadonlyMap<string, number>;
  readonly #memo = new Map<string, readonly number[]>();
  readonly #inProgress = new Set<string>();

  constructor(view: DagView, index: ReadonlyMap<string, number>) {
    this.#view = view;
    this.#index = index;
  }

  nearest(start: string): readonly number[] {
    const memo = this.#memo;
    const cached = memo.get(start);
    if (cached) return cached;
    const frames: Array<{ id: string; parents: readonly string[]; next: number }> = [
      { id: start, parents: this.#view.parents(start), next: 0 },
    ];
    this.#inProgress.add(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as { id: string; parents: readonly string[]; next: number };
      if (frame.next < frame.parents.length) {
        const p = frame.parents[frame.next++] as string;
        if (this.#index.has(p) || memo.has(p)) continue;
        if (this.#inProgress.has(p)) {
          throw new WeirError(DAG_CYCLE, `Dependency cycle through ${p}`, {
            node: p,
            hint: 'Remove one of the dependencies on the cycle so that no node depends on itself.',
          });
        }
        this.#inProgress.add(p);
        frames.push({ id: p, parents: this.#view.parents(p), next: 0 });
        continue;
      }
      const found = new Set<number>();
      for (const p of frame.parents) {
        const j = this.#index.get(p);
        if (j !== undefined) found.add(j);
        else for (const k of memo.get(p) as readonly number[]) found.add(k);
      }
      memo.set(frame.id, [...found]);
      this.#inProgress.delete(frame.id);
      frames.pop();
    }
    return memo.get(start) as readonly number[];
  }
}

class DagRun<T> {
  readonly #options: DagRunOptions<T>;
  readonly #plan: DagPlan;
  readonly #blocking: (id: string, outcome: NodeOutcome) => boolean;
  readonly #controller = new AbortController();
  readonly #state: Uint8Array;
  readonly #waitingOn: Int32Array;
  readonly #results: Array<NodeRunResult<T> | undefined>;
  readonly #ready = new MinHeap();
  #running = 0;
  #finished = 0;
  #stopped = false;
  #fatal: { error: unknown } | undefined;
  #resolve: (results: Map<string, NodeRunResult<T>>) => void = () => {};
  #reject: (error: unknown) => void = () => {};

  constructor(options: DagRunOptions<T>, plan: DagPlan) {
    this.#options = options;
    this.#plan = plan;
    this.#blocking = options.blocking ?? defaultBlocking;
    this.#state = new Uint8Array(plan.ids.length);
    this.#waitingOn = Int32Array.from(plan.waitingOn);
    this.#results = new Array<NodeRunResult<T> | undefined>(plan.ids.length);
  }

  start(): Promise<Map<string, NodeRunResult<T>>> {
    const done = new Promise<Map<string, NodeRunResult<T>>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    for (const i of this.#plan.order)
      if (this.#waitingOn[i] === 0) this.#ready.push(this.#plan.rank[i] as number);

    const external = this.#options.signal;
    const onAbort = (): void => this.#cancel(external?.reason);
    if (external?.aborted) {
      this.#cancel(external.reason);
    } else {
      external?.addEventListener('abort', onAbort, { once: true });
      this.#pump();
    }
    this.#settleIfDone();
    return done.finally(() => external?.removeEventListener('abort', onAbort));
  }

  #pump(): void {
    const { run } = this.#options;
    const { ids, order } = this.#plan;
    const signal = this.#controller.signal;
    while (!this.#stopped && this.#running < this.#options.concurrency && this.#ready.size > 0) {
      const i = order[this.#ready.pop()] as number;
      this.#state[i] = RUNNING;
      this.#running++;
      let pending: Promise<NodeOutcome | { readonly outcome: NodeOutcome; readonly value?: T }>;
      try {
        pending = run(ids[i] as string, signal);
      } catch (error) {
        pending = Promise.reject(error);
      }
      Promise.resolve(pending).then(
        (value) => this.#finish(i, normalize<T>(ids[i] as string, value)),
        (error: unknown) => this.#finish(i, { outcome: 'error', error }),
      );
    }
  }

  #finish(i: number, result: NodeRunResult<T>): void {
    this.#state[i] = DONE;
    this.#results[i] = result;
    this.#running--;
    this.#finished++;
    const id = this.#plan.ids[i] as string;
    try {
      if (this.#blocking(id, result.outcome)) {
        if (this.#options.failFast && !this.#stopped) {
          this.#stop(new WeirError(DAG_FAIL_FAST, `Stopped after ${id} failed (fail-fast)`, { node: id }));
          this.#skipAllPending(id);
        } else {
          this.#skipBelow(i, id);
        }
      } else {
        const { childStart, childList } = this.#plan;
        for (let e = childStart[i] as number; e < (childStart[i + 1] as number); e++) {
          const c = childList[e] as number;
          if (this.#state[c] !== PENDING) continue;
          const left = (this.#waitingOn[c] as number) - 1;
          this.#waitingOn[c] = left;
          if (left === 0) this.#ready.push(this.#plan.rank[c] as number);
        }
      }
    } catch (error) {
      this.#fatal ??= { error };
      this.#stop(error);
    }
    this.#pump();
    this.#settleIfDone();
  }

  /** Marks every not-yet-started descendant of `i` skipped, naming the node that blocked them. */
  #skipBelow(i: number, because: string): void {
    const { childStart, childList } = this.#plan;
    const stack = [i];
    while (stack.length > 0) {
      const at = stack.pop() as number;
      for (let e = childStart[at] as number; e < (childStart[at + 1] as number); e++) {
        const c = childList[e] as number;
        if (this.#state[c] !== PENDING) continue;
        this.#skip(c, { outcome: 'skipped' });
        this.#options.onSkip?.(this.#plan.ids[c] as string, because);
        stack.push(c);
      }
    }
  }

  #skipAllPending(because: string): void {
    for (const i of this.#plan.order) {
      if (this.#state[i] !== PENDING) continue;
      this.#skip(i, { outcome: 'skipped' });
      this.#options.onSkip?.(this.#plan.ids[i] as string, because);
    }
  }

  #cancel(reason: unknown): void {
    if (this.#stopped) return;
    this.#stop(reason);
    for (const i of this.#plan.order)
      if (this.#state[i] === PENDING) this.#skip(i, { outcome: 'skipped', error: reason });
    this.#settleIfDone();
  }

  #skip(i: number, result: NodeRunResult<T>): void {
    this.#state[i] = DONE;
    this.#results[i] = result;
    this.#finished++;
  }

  #stop(reason: unknown): void {
    this.#stopped = true;
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  #settleIfDone(): void {
    if (this.#running > 0) return;
    if (this.#fatal) {
      this.#reject(this.#fatal.error);
      return;
    }
    if (this.#finished < this.#plan.ids.length) return;
    const out = new Map<string, NodeRunResult<T>>();
    for (const i of this.#plan.order)
      out.set(this.#plan.ids[i] as string, this.#results[i] as NodeRunResult<T>);
    this.#resolve(out);
  }
}

function normalize<T>(
  id: string,
  value: NodeOutcome | { readonly outcome: NodeOutcome; readonly value?: T },
): NodeRunResult<T> {
  const outcome: unknown = typeof value === 'string' ? value : value?.outcome;
  if (!(NODE_OUTCOMES as readonly unknown[]).includes(outcome)) {
    return {
      outcome: 'error',
      error: new WeirError(
        DAG_INVALID_OUTCOME,
        `Node ${id} returned ${JSON.stringify(outcome)} instead of an outcome`,
        {
          node: id,
          hint: `Return one of ${NODE_OUTCOMES.join(', ')} (or { outcome, value }).`,
        },
      ),
    };
  }
  if (typeof value === 'string') return { outcome: value };
  return 'value' in value ? { outcome: value.outcome, value: value.value as T } : { outcome: value.outcome };
}
