import { MinHeap } from './min-heap.js';
import { WeirError } from './errors.js';
import { suggest } from './suggest.js';
import { compareText } from './compare.js';

export const RESOURCE_TYPES = ['model', 'seed', 'snapshot', 'test', 'source', 'analysis', 'step'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const GRAPH_CYCLE = 'WEIR-G001';
export const GRAPH_UNKNOWN_DEPENDENCY = 'WEIR-G002';
export const GRAPH_DUPLICATE_NODE = 'WEIR-G003';
export const GRAPH_UNKNOWN_NODE = 'WEIR-G004';

export interface GraphNode {
  /** Unique id, e.g. `model.shop.stg_orders`, `source.shop.raw.orders`, `test.shop.not_null_orders_id`. */
  readonly id: string;
  readonly name: string;
  readonly resourceType: ResourceType;
  readonly packageName: string;
  /** Project-relative posix path of the file that defines the node. */
  readonly path: string;
  /** Package, folders, then name, as dbt builds it (`['shop', 'staging', 'stg_orders']`). */
  readonly fqn: readonly string[];
  readonly tags: readonly string[];
  /** Merged config: materialized, schema, severity, ... */
  readonly config: Readonly<Record<string, unknown>>;
  /** Ids of the parents. */
  readonly dependsOn: readonly string[];
  /** For sources: the source the table belongs to (the node's name is the table). */
  readonly sourceName?: string;
  /** For tests: `unique`, `not_null`, ... or `singular`. */
  readonly testName?: string;
}

/** Relatives are listed in id order so that everything derived from them is deterministic. */
const byId = compareText;

/**
 * The asset graph: immutable, acyclic, every edge resolved. Built once per project load; all
 * lookups are O(1) and the topological order is computed at build time. Internally nodes are
 * integers (their position in `nodes()`), which keeps building and walking 10k-node graphs in
 * the low milliseconds.
 */
export class Graph<N extends GraphNode = GraphNode> {
  readonly #nodes: readonly N[];
  readonly #index: ReadonlyMap<string, number>;
  readonly #parents: ReadonlyArray<readonly number[]>;
  readonly #children: ReadonlyArray<readonly number[]>;
  readonly #parentIds: ReadonlyArray<readonly string[]>;
  readonly #childIds: ReadonlyArray<readonly string[]>;
  readonly #topo: readonly string[];
  /** Position of each node (by index) in the topological order of the whole graph. */
  readonly #topoPos: Int32Array;

  private constructor(
    nodes: readonly N[],
    index: ReadonlyMap<string, number>,
    parents: ReadonlyArray<readonly number[]>,
    children: ReadonlyArray<readonly number[]>,
    topo: readonly number[],
  ) {
    this.#nodes = nodes;
    this.#index = index;
    this.#parents = parents;
    this.#children = children;
    const idOf = (i: number): string => (nodes[i] as N).id;
    this.#parentIds = parents.map((list) => list.map(idOf));
    this.#childIds = children.map((list) => list.map(idOf));
    this.#topo = topo.map(idOf);
    this.#topoPos = new Int32Array(nodes.length);
    topo.forEach((i, position) => (this.#topoPos[i] = position));
  }

  /**
   * Validates and indexes the nodes. Throws WEIR-G003 for a duplicate id, WEIR-G002 when a
   * `dependsOn` id is unknown, WEIR-G001 when the dependencies form a cycle.
   */
  static build<N extends GraphNode>(nodes: readonly N[]): Graph<N> {
    const n = nodes.length;
    const index = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const node = nodes[i] as N;
      const prior = index.get(node.id);
      if (prior !== undefined) {
        throw new WeirError(
          GRAPH_DUPLICATE_NODE,
          `Two nodes have the id "${node.id}": ${(nodes[prior] as N).path} and ${node.path}`,
          {
            at: { file: node.path },
            node: node.id,
            hint: 'Rename one of them; names must be unique per resource type within a package.',
          },
        );
      }
      index.set(node.id, i);
    }

    // rank = position in id order: the tie-breaker for every list and for the topological order.
    const byRank = nodes.map((_, i) => i).sort((a, b) => byId((nodes[a] as N).id, (nodes[b] as N).id));
    const rank = new Int32Array(n);
    byRank.forEach((i, r) => (rank[i] = r));

    const parents: number[][] = new Array<number[]>(n);
    const unknown: Array<{ node: N; dep: string }> = [];
    // stamp[p] === i + 1 when p is already a parent of i: dedupes without a Set per node.
    const stamp = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const node = nodes[i] as N;
      const own: number[] = [];
      for (const dep of node.dependsOn) {
        const p = index.get(dep);
        if (p === undefined) unknown.push({ node, dep });
        else if (stamp[p] !== i + 1) {
          stamp[p] = i + 1;
          own.push(p);
        }
      }
      parents[i] = sortByRank(own, rank);
    }
    if (unknown.length > 0) throw unknownDependencyError(unknown, index.keys());

    // Visiting children in rank order leaves every children list sorted by rank.
    const children: number[][] = Array.from({ length: n }, () => []);
    for (const i of byRank) for (const p of parents[i] as number[]) (children[p] as number[]).push(i);

    const topo = topoSort(nodes, parents, children, rank, byRank);
    return new Graph(nodes, index, parents, children, topo);
  }

  /** The node with this id; throws WEIR-G004 (with close ids) when there is none. */
  node(id: string): N {
    return this.#nodes[this.#at(id)] as N;
  }

  has(id: string): boolean {
    return this.#index.has(id);
  }

  /** Every node, in the order given to `build`. */
  nodes(): readonly N[] {
    return this.#nodes;
  }

  /** Direct parents, sorted by id. */
  parents(id: string): readonly string[] {
    return this.#parentIds[this.#at(id)] as readonly string[];
  }

  /** Direct children, sorted by id. */
  children(id: string): readonly string[] {
    return this.#childIds[this.#at(id)] as readonly string[];
  }

  /** Ancestors up to `depth` generations (1 = parents; default all), without the node itself. */
  ancestors(id: string, depth?: number): Set<string> {
    return this.#walk([id], this.#parents, depth);
  }

  /** Descendants up to `depth` generations (1 = children; default all), without the node itself. */
  descendants(id: string, depth?: number): Set<string> {
    return this.#walk([id], this.#children, depth);
  }

  /**
   * Ancestors of any of `ids` (multi-source, so selecting `+tag:x` stays linear). A start node
   * is included only when it is an ancestor of another start node.
   */
  ancestorsOfAll(ids: Iterable<string>, depth?: number): Set<string> {
    return this.#walk(ids, this.#parents, depth);
  }

  /** Descendants of any of `ids`; same rules as `ancestorsOfAll`. */
  descendantsOfAll(ids: Iterable<string>, depth?: number): Set<string> {
    return this.#walk(ids, this.#children, depth);
  }

  /**
   * The ids (default: all) in dependency order. The order is the whole graph's, so it also
   * respects dependencies that run through nodes left out of `ids`; ties are broken by id.
   */
  topoOrder(ids?: Iterable<string>): string[] {
    if (ids === undefined) return [...this.#topo];
    const picked = new Uint8Array(this.#nodes.length);
    const positions: number[] = [];
    for (const id of ids) {
      const position = this.#topoPos[this.#at(id)] as number;
      if (picked[position]) continue;
      picked[position] = 1;
      positions.push(position);
    }
    positions.sort((a, b) => a - b);
    return positions.map((p) => this.#topo[p] as string);
  }

  /** Position of a node in `topoOrder()`. */
  topoIndex(id: string): number {
    return this.#topoPos[this.#at(id)] as number;
  }

  #at(id: string): number {
    const i = this.#index.get(id);
    if (i === undefined) throw this.#unknown(id);
    return i;
  }

  #walk(start: Iterable<string>, edges: ReadonlyArray<readonly number[]>, depth?: number): Set<string> {
    const limit = depth ?? Infinity;
    const seen = new Uint8Array(this.#nodes.length);
    const found = new Set<string>();
    let frontier: number[] = [];
    for (const id of start) frontier.push(this.#at(id));
    for (let level = 0; level < limit && frontier.length > 0; level++) {
      const next: number[] = [];
      for (const i of frontier) {
        for (const relative of edges[i] as readonly number[]) {
          if (seen[relative]) continue;
          seen[relative] = 1;
          found.add((this.#nodes[relative] as N).id);
          next.push(relative);
        }
      }
      frontier = next;
    }
    return found;
  }

  #unknown(id: string): WeirError {
    const close = suggest(id, this.#index.keys());
    return new WeirError(GRAPH_UNKNOWN_NODE, `No node with id "${id}" in the graph`, {
      node: id,
      hint: close.length > 0 ? `Did you mean ${quoteList(close)}?` : 'Run `weir ls` to list the node ids.',
    });
  }
}

/** Insertion sort for the usual short lists (Array#sort's call overhead dominates on them). */
function sortByRank(list: number[], rank: Int32Array): number[] {
  if (list.length > 16) return list.sort((a, b) => (rank[a] as number) - (rank[b] as number));
  for (let i = 1; i < list.length; i++) {
    const item = list[i] as number;
    const r = rank[item] as number;
    let j = i - 1;
    while (j >= 0 && (rank[list[j] as number] as number) > r) {
      list[j + 1] = list[j] as number;
      j--;
    }
    list[j + 1] = item;
  }
  return list;
}

function quoteList(items: readonly string[]): string {
  return items.map((s) => `"${s}"`).join(' or ');
}

function unknownDependencyError<N extends GraphNode>(
  unknown: ReadonlyArray<{ node: N; dep: string }>,
  known: Iterable<string>,
): WeirError {
  const knownIds = [...known];
  const closest = unknown.map(({ dep }) => suggest(dep, knownIds, 1)[0]);
  const lines = unknown.map(
    ({ node, dep }, i) =>
      `  ${node.id} (${node.path}) depends on "${dep}"${closest[i] ? ` (did you mean "${closest[i]}"?)` : ''}`,
  );
  const first = unknown[0] as { node: N; dep: string };
  return new WeirError(
    GRAPH_UNKNOWN_DEPENDENCY,
    unknown.length === 1
      ? `${first.node.id} (${first.node.path}) depends on unknown node "${first.dep}"`
      : `${unknown.length} dependencies point to unknown nodes:\n${lines.join('\n')}`,
    {
      at: { file: first.node.path },
      node: first.node.id,
      hint:
        unknown.length === 1 && closest[0]
          ? `Did you mean "${closest[0]}"? Fix the ref()/source() call.`
          : 'Fix the ref()/source() calls, or add the missing model, seed, snapshot or source.',
      data: { missing: unknown.map(({ node, dep }) => ({ node: node.id, dependsOn: dep })) },
    },
  );
}

/**
 * Kahn's algorithm with a min-heap on rank (id order): linear apart from the heap, and
 * deterministic. Nodes left over when the heap runs dry are on or behind a cycle, which is then
 * traced for the error.
 */
function topoSort<N extends GraphNode>(
  nodes: readonly N[],
  parents: ReadonlyArray<readonly number[]>,
  children: ReadonlyArray<readonly number[]>,
  rank: Int32Array,
  byRank: readonly number[],
): number[] {
  const n = nodes.length;
  const pending = new Int32Array(n);
  const heap = new MinHeap();
  for (let i = 0; i < n; i++) {
    pending[i] = (parents[i] as readonly number[]).length;
    if (pending[i] === 0) heap.push(rank[i] as number);
  }
  const order: number[] = [];
  while (heap.size > 0) {
    const i = byRank[heap.pop()] as number;
    order.push(i);
    for (const c of children[i] as readonly number[]) {
      const left = (pending[c] as number) - 1;
      pending[c] = left;
      if (left === 0) heap.push(rank[c] as number);
    }
  }
  if (order.length === n) return order;
  throw cycleError(shortestCycle(pending, parents, byRank), nodes);
}

/**
 * Every node Kahn left behind has a parent that was left behind too, so walking up from one
 * must come back to a node already seen. A breadth-first search from that node then finds the
 * shortest cycle through it, which makes the error readable even in a tangled graph.
 */
function shortestCycle(
  pending: Int32Array,
  parents: ReadonlyArray<readonly number[]>,
  byRank: readonly number[],
): number[] {
  const left = (i: number): boolean => (pending[i] as number) > 0;
  const seen = new Set<number>();
  let current = byRank.find(left) as number;
  while (!seen.has(current)) {
    seen.add(current);
    current = (parents[current] as readonly number[]).find(left) as number;
  }
  const start = current;
  const via = new Map<number, number>();
  let frontier = [start];
  search: while (frontier.length > 0) {
    const next: number[] = [];
    for (const i of frontier) {
      for (const p of parents[i] as readonly number[]) {
        if (!left(p) || via.has(p)) continue;
        via.set(p, i);
        if (p === start) break search;
        next.push(p);
      }
    }
    frontier = next;
  }
  // via maps a parent to the child it was reached from, so following it walks down the data flow.
  const cycle = [start];
  for (let i = via.get(start) as number; i !== start; i = via.get(i) as number) cycle.push(i);
  return cycle;
}

function cycleError<N extends GraphNode>(cycle: readonly number[], nodes: readonly N[]): WeirError {
  const ids = cycle.map((i) => (nodes[i] as N).id);
  const smallest = ids.indexOf([...ids].sort(byId)[0] as string);
  const ordered = [...ids.slice(smallest), ...ids.slice(0, smallest)];
  const chain = [...ordered, ordered[0] as string].join(' -> ');
  const pathOf = new Map(cycle.map((i) => [(nodes[i] as N).id, (nodes[i] as N).path]));
  const files = ordered.map((id) => `  ${id}  ${pathOf.get(id) ?? '?'}`).join('\n');
  const first = ordered[0] as string;
  return new WeirError(GRAPH_CYCLE, `Dependency cycle: ${chain}\n${files}`, {
    at: { file: pathOf.get(first) ?? '' },
    node: first,
    hint: 'Remove one of these ref()/source() dependencies so that no node depends on itself.',
    data: { cycle: ordered },
  });
}
