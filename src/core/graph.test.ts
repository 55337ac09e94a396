import { describe, expect, it } from 'vitest';
import { WeirError } from './errors.js';
import { Graph, type GraphNode, type ResourceType } from './graph.js';

function node(id: string, dependsOn: string[] = [], resourceType: ResourceType = 'model'): GraphNode {
  const name = id.split('.').at(-1) as string;
  return {
    id,
    name,
    resourceType,
    packageName: 'shop',
    path: `models/${name}.sql`,
    fqn: ['shop', name],
    tags: [],
    config: {},
    dependsOn,
  };
}

function thrown(fn: () => unknown): WeirError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WeirError) return err;
    throw err;
  }
  throw new Error('expected a WeirError');
}

// a -> b -> d, a -> c -> d, d -> e; f stands alone
const diamond = [
  node('model.shop.e', ['model.shop.d']),
  node('model.shop.d', ['model.shop.b', 'model.shop.c']),
  node('model.shop.c', ['model.shop.a']),
  node('model.shop.b', ['model.shop.a', 'model.shop.a']),
  node('model.shop.a'),
  node('model.shop.f'),
];

describe('Graph', () => {
  const graph = Graph.build(diamond);

  it('indexes nodes and edges, relatives sorted by id', () => {
    expect(graph.has('model.shop.a')).toBe(true);
    expect(graph.has('model.shop.z')).toBe(false);
    expect(graph.node('model.shop.d').name).toBe('d');
    expect(graph.nodes().map((n) => n.id)).toEqual(diamond.map((n) => n.id));
    expect(graph.parents('model.shop.d')).toEqual(['model.shop.b', 'model.shop.c']);
    expect(graph.parents('model.shop.b')).toEqual(['model.shop.a']);
    expect(graph.children('model.shop.a')).toEqual(['model.shop.b', 'model.shop.c']);
    expect(graph.children('model.shop.e')).toEqual([]);
  });

  it('walks ancestors and descendants, optionally to a depth', () => {
    expect([...graph.ancestors('model.shop.e')].sort()).toEqual([
      'model.shop.a',
      'model.shop.b',
      'model.shop.c',
      'model.shop.d',
    ]);
    expect([...graph.ancestors('model.shop.e', 1)]).toEqual(['model.shop.d']);
    expect([...graph.ancestors('model.shop.e', 2)].sort()).toEqual([
      'model.shop.b',
      'model.shop.c',
      'model.shop.d',
    ]);
    expect(graph.ancestors('model.shop.e', 0).size).toBe(0);
    expect([...graph.descendants('model.shop.a')].sort()).toEqual([
      'model.shop.b',
      'model.shop.c',
      'model.shop.d',
      'model.shop.e',
    ]);
    expect([...graph.descendants('model.shop.b', 1)]).toEqual(['model.shop.d']);
    expect(graph.descendants('model.shop.f').size).toBe(0);
    expect([...graph.ancestorsOfAll(['model.shop.b', 'model.shop.f'])]).toEqual(['model.shop.a']);
    expect([...graph.descendantsOfAll(['model.shop.b', 'model.shop.c'], 1)]).toEqual(['model.shop.d']);
  });

  it('orders topologically, ties broken by id', () => {
    expect(graph.topoOrder()).toEqual([
      'model.shop.a',
      'model.shop.b',
      'model.shop.c',
      'model.shop.d',
      'model.shop.e',
      'model.shop.f',
    ]);
    // Same result whatever the input order.
    expect(Graph.build([...diamond].reverse()).topoOrder()).toEqual(graph.topoOrder());
    expect(graph.topoIndex('model.shop.d')).toBe(3);
  });

  it('orders a subset by the whole graph, so dependencies through left-out nodes hold', () => {
    const chain = Graph.build([
      node('model.shop.z'),
      node('model.shop.y', ['model.shop.z']),
      node('model.shop.a', ['model.shop.y']),
    ]);
    // Alphabetically a < z, but a depends on z through y.
    expect(chain.topoOrder(['model.shop.a', 'model.shop.z'])).toEqual(['model.shop.z', 'model.shop.a']);
    expect(chain.topoOrder(new Set(['model.shop.a', 'model.shop.a']))).toEqual(['model.shop.a']);
  });

  it('reports a cycle with its whole chain and files (WEIR-G001)', () => {
    const err = thrown(() =>
      Graph.build([
        node('model.shop.a', ['model.shop.c']),
        node('model.shop.b', ['model.shop.a']),
        node('model.shop.c', ['model.shop.b']),
        node('model.shop.d', ['model.shop.c']),
        node('model.shop.base'),
      ]),
    );
    expect(err.code).toBe('WEIR-G001');
    expect(err.message).toContain('model.shop.a -> model.shop.b -> model.shop.c -> model.shop.a');
    expect(err.message).toContain('models/a.sql');
    expect(err.message).toContain('models/c.sql');
    expect(err.message).not.toContain('model.shop.d');
    expect(err.at?.file).toBe('models/a.sql');
    expect(err.hint).toBeTruthy();
    expect(err.data?.cycle).toEqual(['model.shop.a', 'model.shop.b', 'model.shop.c']);
  });

  it('reports a node depending on itself', () => {
    const err = thrown(() => Graph.build([node('model.shop.a', ['model.shop.a'])]));
    expect(err.code).toBe('WEIR-G001');
    expect(err.message).toContain('model.shop.a -> model.shop.a');
  });

  it('reports unknown dependencies with a close id (WEIR-G002)', () => {
    const err = thrown(() =>
      Graph.build([node('model.shop.stg_orders'), node('model.shop.orders', ['model.shop.stg_order'])]),
    );
    expect(err.code).toBe('WEIR-G002');
    expect(err.message).toContain(
      'model.shop.orders (models/orders.sql) depends on unknown node "model.shop.stg_order"',
    );
    expect(err.hint).toContain('model.shop.stg_orders');
    expect(err.node).toBe('model.shop.orders');

    const many = thrown(() =>
      Graph.build([node('model.shop.a', ['model.shop.x']), node('model.shop.b', ['source.shop.y'])]),
    );
    expect(many.message).toContain('2 dependencies point to unknown nodes');
    expect(many.message).toContain('source.shop.y');
  });

  it('refuses duplicate ids (WEIR-G003)', () => {
    const err = thrown(() =>
      Graph.build([node('model.shop.a'), { ...node('model.shop.a'), path: 'models/x/a.sql' }]),
    );
    expect(err.code).toBe('WEIR-G003');
    expect(err.message).toContain('models/a.sql');
    expect(err.message).toContain('models/x/a.sql');
  });

  it('refuses lookups of unknown ids with a suggestion (WEIR-G004)', () => {
    for (const fn of [
      () => graph.node('model.shop.ee'),
      () => graph.parents('model.shop.ee'),
      () => graph.children('model.shop.ee'),
      () => graph.ancestors('model.shop.ee'),
      () => graph.topoOrder(['model.shop.ee']),
    ]) {
      const err = thrown(fn);
      expect(err.code).toBe('WEIR-G004');
      expect(err.hint).toContain('model.shop.e');
    }
  });

  it('keeps the node type it was built with', () => {
    const typed = Graph.build([{ ...node('model.shop.a'), rawCode: 'select 1' }]);
    expect(typed.node('model.shop.a').rawCode).toBe('select 1');
  });

  it('builds and checks 10,000 nodes quickly, and finds a cycle at the end of a long chain', () => {
    const nodes: GraphNode[] = [];
    for (let i = 0; i < 10_000; i++) {
      const deps = i === 0 ? [] : [`model.shop.n${i - 1}`];
      if (i > 10) deps.push(`model.shop.n${i - 10}`);
      nodes.push(node(`model.shop.n${i}`, deps));
    }
    const started = performance.now();
    const big = Graph.build(nodes);
    const elapsed = performance.now() - started;
    expect(big.topoOrder()[9_999]).toBe('model.shop.n9999');
    expect(big.ancestors('model.shop.n9999').size).toBe(9_999);
    // Generous bound for a shared CI machine; locally this is a few milliseconds.
    expect(elapsed).toBeLessThan(500);

    const cyclic = [...nodes];
    cyclic[0] = node('model.shop.n0', ['model.shop.n9999']);
    const err = thrown(() => Graph.build(cyclic));
    expect(err.code).toBe('WEIR-G001');
    expect((err.data?.cycle as string[]).length).toBeGreaterThan(1);
  });
});
