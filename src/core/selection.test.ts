import { describe, expect, it } from 'vitest';
import { WeirError } from './errors.js';
import { Graph, type GraphNode, type ResourceType } from './graph.js';
import { parseSelector, select, type IndirectSelection, type SelectOptions } from './selection.js';

interface Spec {
  readonly id: string;
  readonly path: string;
  readonly deps?: string[];
  readonly tags?: string[];
  readonly config?: Record<string, unknown>;
  readonly fqn?: string[];
  readonly testName?: string;
  readonly sourceName?: string;
}

function make(spec: Spec): GraphNode {
  const [type, pkg, ...rest] = spec.id.split('.') as [ResourceType, string, ...string[]];
  const name = rest.at(-1) as string;
  const folders = spec.path.split('/').slice(1, -1);
  return {
    id: spec.id,
    name,
    resourceType: type,
    packageName: pkg,
    path: spec.path,
    fqn: spec.fqn ?? [pkg, ...folders, name],
    tags: spec.tags ?? [],
    config: spec.config ?? {},
    dependsOn: spec.deps ?? [],
    ...(spec.testName ? { testName: spec.testName } : {}),
    ...(spec.sourceName ? { sourceName: spec.sourceName } : {}),
  };
}

const ids = {
  rawCustomers: 'seed.shop.raw_customers',
  rawPayments: 'seed.shop.raw_payments',
  srcOrders: 'source.shop.raw.orders',
  srcCharges: 'source.shop.stripe.charges',
  stgCustomers: 'model.shop.stg_customers',
  stgOrders: 'model.shop.stg_orders',
  stgPayments: 'model.shop.stg_payments',
  intOrderPayments: 'model.shop.int_order_payments',
  customers: 'model.shop.customers',
  orders: 'model.shop.orders',
  calendar: 'model.utils.calendar',
  snapshot: 'snapshot.shop.orders_snapshot',
  revenue: 'analysis.shop.revenue',
  nnStgOrders: 'test.shop.not_null_stg_orders_order_id',
  relStgOrdersStgCustomers: 'test.shop.relationships_stg_orders_customer_id__customer_id__ref_stg_customers_',
  srcNnOrders: 'test.shop.source_not_null_raw_orders_id',
  assertPositive: 'test.shop.assert_positive_payments',
  uniqueCustomers: 'test.shop.unique_customers_customer_id',
  relOrdersCustomers: 'test.shop.relationships_orders_customer_id__customer_id__ref_customers_',
  relOrdersStgOrders: 'test.shop.relationships_orders_order_id__order_id__ref_stg_orders_',
} as const;

// seeds + sources -> staging -> intermediate -> marts, a package model, a snapshot, an analysis,
// and tests with one or two parents.
const nodes: GraphNode[] = [
  make({ id: ids.rawCustomers, path: 'seeds/raw_customers.csv' }),
  make({ id: ids.rawPayments, path: 'seeds/raw_payments.csv', tags: ['finance'] }),
  make({
    id: ids.srcOrders,
    path: 'models/staging/sources.yml',
    sourceName: 'raw',
    fqn: ['shop', 'staging', 'raw', 'orders'],
  }),
  make({
    id: ids.srcCharges,
    path: 'models/staging/sources.yml',
    sourceName: 'stripe',
    fqn: ['shop', 'staging', 'stripe', 'charges'],
    tags: ['finance'],
  }),
  make({
    id: ids.stgCustomers,
    path: 'models/staging/stg_customers.sql',
    deps: [ids.rawCustomers],
    tags: ['staging'],
    config: { materialized: 'view' },
  }),
  make({
    id: ids.stgOrders,
    path: 'models/staging/stg_orders.sql',
    deps: [ids.srcOrders],
    tags: ['staging'],
    config: { materialized: 'view' },
  }),
  make({
    id: ids.stgPayments,
    path: 'models/staging/stg_payments.sql',
    deps: [ids.rawPayments, ids.srcCharges],
    tags: ['staging', 'finance'],
    config: { materialized: 'view' },
  }),
  make({
    id: ids.intOrderPayments,
    path: 'models/intermediate/int_order_payments.sql',
    deps: [ids.stgOrders, ids.stgPayments],
    tags: ['nightly'],
    config: { materialized: 'ephemeral' },
  }),
  make({
    id: ids.customers,
    path: 'models/marts/customers.sql',
    deps: [ids.stgCustomers, ids.intOrderPayments],
    tags: ['nightly', 'finance'],
    config: {
      materialized: 'table',
      schema: 'marts',
      partition_by: ['day', 'region'],
      meta: { owner: 'finance' },
      contract: { enforced: true },
    },
  }),
  make({
    id: ids.orders,
    path: 'models/marts/orders.sql',
    deps: [ids.stgOrders, ids.intOrderPayments, ids.calendar],
    tags: ['nightly'],
    config: { materialized: 'incremental', schema: 'marts', meta: { owner: 'ops' }, threads: 4 },
  }),
  make({ id: ids.calendar, path: 'dbt_packages/utils/models/calendar.sql', fqn: ['utils', 'calendar'] }),
  make({ id: ids.snapshot, path: 'snapshots/orders_snapshot.sql', deps: [ids.stgOrders] }),
  make({ id: ids.revenue, path: 'analyses/revenue.sql', deps: [ids.orders] }),
  make({
    id: ids.nnStgOrders,
    path: 'models/staging/schema.yml',
    deps: [ids.stgOrders],
    testName: 'not_null',
  }),
  make({
    id: ids.relStgOrdersStgCustomers,
    path: 'models/staging/schema.yml',
    deps: [ids.stgOrders, ids.stgCustomers],
    testName: 'relationships',
  }),
  make({
    id: ids.srcNnOrders,
    path: 'models/staging/sources.yml',
    deps: [ids.srcOrders],
    testName: 'not_null',
  }),
  make({
    id: ids.assertPositive,
    path: 'tests/assert_positive_payments.sql',
    deps: [ids.stgPayments],
    testName: 'singular',
  }),
  make({
    id: ids.uniqueCustomers,
    path: 'models/marts/schema.yml',
    deps: [ids.customers],
    testName: 'unique',
    config: { severity: 'warn' },
  }),
  make({
    id: ids.relOrdersCustomers,
    path: 'models/marts/schema.yml',
    deps: [ids.orders, ids.customers],
    testName: 'relationships',
    config: { severity: 'ERROR' },
  }),
  make({
    id: ids.relOrdersStgOrders,
    path: 'models/marts/schema.yml',
    deps: [ids.orders, ids.stgOrders],
    testName: 'relationships',
  }),
];
const graph = Graph.build(nodes);

/** Selected ids, sorted, with no indirect tests unless the mode is given. */
function sel(selectors: string | string[], options: Omit<SelectOptions, 'select'> = {}): string[] {
  const list = Array.isArray(selectors) ? selectors : [selectors];
  return [...select(graph, { indirectSelection: 'empty', ...options, select: list }).ids].sort();
}

const sorted = (...list: string[]): string[] => [...list].sort();

function syntaxError(expr: string): WeirError {
  try {
    parseSelector(expr);
  } catch (err) {
    if (err instanceof WeirError) return err;
    throw err;
  }
  throw new Error(`expected "${expr}" to be refused`);
}

describe('parseSelector', () => {
  it('parses methods, arguments and graph operators', () => {
    expect(parseSelector('2+config.meta.owner:finance+3')).toEqual({
      kind: 'criterion',
      raw: '2+config.meta.owner:finance+3',
      offset: 0,
      method: 'config',
      args: ['meta', 'owner'],
      value: 'finance',
      parents: true,
      parentsDepth: 2,
      children: true,
      childrenDepth: 3,
      childrensParents: false,
    });
    expect(parseSelector('@stg_orders')).toMatchObject({
      method: 'fqn',
      childrensParents: true,
      parents: false,
    });
    expect(parseSelector('+name+')).toMatchObject({ parents: true, children: true, value: 'name' });
    expect(parseSelector('models/staging')).toMatchObject({ method: 'path', value: 'models/staging' });
    expect(parseSelector('stg_orders.sql')).toMatchObject({ method: 'file' });
    expect(parseSelector('2023_orders')).toMatchObject({
      method: 'fqn',
      value: '2023_orders',
      parents: false,
    });
  });

  it('reads commas as intersection and spaces as union', () => {
    const ast = parseSelector(' tag:nightly,config.materialized:table  +orders ');
    expect(ast.kind).toBe('union');
    if (ast.kind !== 'union') return;
    expect(ast.items.map((i) => i.kind)).toEqual(['intersection', 'criterion']);
    const [first, second] = ast.items;
    expect(first?.kind === 'intersection' && first.items.map((c) => [c.method, c.value, c.offset])).toEqual([
      ['tag', 'nightly', 1],
      ['config', 'table', 13],
    ]);
    expect(second).toMatchObject({ raw: '+orders', offset: 40 });
  });

  it.each([
    ['+', 2, 'needs a name'],
    ['tag:', 5, 'the method "tag" needs a value'],
    ['config.:x', 8, 'an empty config key'],
    ['config:table', 7, 'config method needs a key'],
    ['foo:bar', 1, 'unknown selector method "foo"'],
    ['tag:a,,tag:b', 7, 'empty criterion'],
    ['@+orders', 2, '"@" cannot be combined'],
    ['@orders+', 8, '"@" cannot be combined'],
    ['orders++', 7, 'unexpected "+"'],
    ['tag.x:y', 4, 'takes no'],
    ['resource_type:modle', 15, 'not a valid resource_type'],
    ['test_type:unit', 11, 'not a valid test_type'],
    ['source:a.b.c.d', 8, 'too many parts'],
    ['  ', 1, 'empty selector'],
  ])('refuses %j at position %i (WEIR-G010)', (expr, position, problem) => {
    const err = syntaxError(expr);
    expect(err.code).toBe('WEIR-G010');
    expect(err.message).toContain(`Invalid selector "${expr}" at position ${position}`);
    expect(err.message).toContain(problem);
    expect(err.message).toContain(`\n  ${' '.repeat(position - 1)}^`);
    expect(err.data).toEqual({ expression: expr, position });
    expect(err.hint).toBeTruthy();
  });

  it('suggests the method a typo meant and lists the valid ones', () => {
    expect(syntaxError('tga:nightly').hint).toMatch(/^Did you mean "tag"\? Valid methods: fqn, tag, path/);
    expect(syntaxError('resource_typ:model').hint).toContain('Did you mean "resource_type"?');
    expect(syntaxError('resource_type:modle').hint).toContain('Did you mean "model"?');
    expect(syntaxError('xyz:1').hint).toMatch(/^Valid methods: /);
  });
});

describe('select: methods', () => {
  it('selects everything when nothing is given, in topological order', () => {
    const all = select(graph, {});
    expect(all.ids).toEqual(graph.topoOrder());
    expect(all.ids).toHaveLength(nodes.length);
    expect(all.warnings).toEqual([]);
  });

  it('matches bare names, wildcards and fqn prefixes (not sources)', () => {
    expect(sel('stg_orders')).toEqual([ids.stgOrders]);
    expect(sel('stg_*')).toEqual(sorted(ids.stgCustomers, ids.stgOrders, ids.stgPayments));
    expect(sel('stg_order?')).toEqual([ids.stgOrders]);
    expect(sel('*orders*', { resourceTypes: ['model', 'snapshot'] })).toEqual(
      sorted(ids.stgOrders, ids.orders, ids.snapshot),
    );
    // A folder of the fqn, with or without the package, and a full fqn.
    expect(sel('marts', { resourceTypes: ['model'] })).toEqual(sorted(ids.customers, ids.orders));
    expect(sel('staging', { resourceTypes: ['model', 'source'] })).toEqual(
      sorted(ids.stgCustomers, ids.stgOrders, ids.stgPayments),
    );
    expect(sel('shop.staging.stg_orders')).toEqual([ids.stgOrders]);
    expect(sel('staging.*', { resourceTypes: ['model'] })).toEqual(
      sorted(ids.stgCustomers, ids.stgOrders, ids.stgPayments),
    );
    expect(sel('utils')).toEqual([ids.calendar]);
    expect(sel('fqn:marts.orders')).toEqual([ids.orders]);
    expect(sel('orders')).toEqual([ids.orders]);
  });

  it('matches tags, with globs', () => {
    expect(sel('tag:nightly')).toEqual(sorted(ids.intOrderPayments, ids.customers, ids.orders));
    expect(sel('tag:fin*')).toEqual(sorted(ids.rawPayments, ids.srcCharges, ids.stgPayments, ids.customers));
  });

  it('matches paths: folders, files and globs', () => {
    expect(sel('path:models/marts')).toEqual(
      sorted(ids.customers, ids.orders, ids.uniqueCustomers, ids.relOrdersCustomers, ids.relOrdersStgOrders),
    );
    expect(sel('path:./models/marts/')).toEqual(sel('path:models/marts'));
    expect(sel('path:models/marts/*.sql')).toEqual(sorted(ids.customers, ids.orders));
    expect(sel('path:models/staging/stg_orders.sql')).toEqual([ids.stgOrders]);
    expect(sel('models/staging/stg_orders.sql')).toEqual([ids.stgOrders]);
    expect(sel('path:models/*/sources.yml')).toEqual(sorted(ids.srcOrders, ids.srcCharges, ids.srcNnOrders));
    expect(sel('path:**/calendar.sql')).toEqual([ids.calendar]);
    expect(sel('path:seeds')).toEqual(sorted(ids.rawCustomers, ids.rawPayments));
    // * stays within a folder
    expect(sel('path:models/*.sql')).toEqual([]);
  });

  it('matches file names with or without extension', () => {
    expect(sel('file:stg_orders.sql')).toEqual([ids.stgOrders]);
    expect(sel('file:stg_orders')).toEqual([ids.stgOrders]);
    expect(sel('stg_orders.sql')).toEqual([ids.stgOrders]);
    expect(sel('file:raw_*.csv')).toEqual(sorted(ids.rawCustomers, ids.rawPayments));
  });

  it('matches config values, nested keys, lists, booleans, numbers and severity', () => {
    expect(sel('config.materialized:incremental')).toEqual([ids.orders]);
    expect(sel('config.materialized:view')).toEqual(sorted(ids.stgCustomers, ids.stgOrders, ids.stgPayments));
    expect(sel('config.partition_by:region')).toEqual([ids.customers]);
    expect(sel('config.meta.owner:finance')).toEqual([ids.customers]);
    expect(sel('config.contract.enforced:true')).toEqual([ids.customers]);
    expect(sel('config.contract.enforced:false')).toEqual([]);
    expect(sel('config.threads:4')).toEqual([ids.orders]);
    expect(sel('config.severity:WARN')).toEqual([ids.uniqueCustomers]);
    expect(sel('config.severity:error')).toEqual([ids.relOrdersCustomers]);
    expect(sel('config.materialized:Table')).toEqual([]);
  });

  it('matches resource types, packages and sources', () => {
    expect(sel('resource_type:seed')).toEqual(sorted(ids.rawCustomers, ids.rawPayments));
    expect(sel('resource_type:snapshot')).toEqual([ids.snapshot]);
    expect(sel('package:utils')).toEqual([ids.calendar]);
    expect(sel('package:sho?')).toHaveLength(nodes.length - 1);
    expect(sel('source:raw')).toEqual([ids.srcOrders]);
    expect(sel('source:raw.orders')).toEqual([ids.srcOrders]);
    expect(sel('source:stripe.orders')).toEqual([]);
    expect(sel('source:shop.stripe.*')).toEqual([ids.srcCharges]);
    expect(sel('source:*')).toEqual(sorted(ids.srcOrders, ids.srcCharges));
    expect(sel('source:other.raw.orders')).toEqual([]);
  });

  it('matches test types and test names', () => {
    expect(sel('test_type:singular')).toEqual([ids.assertPositive]);
    expect(sel('test_type:generic')).toEqual(
      sorted(
        ids.nnStgOrders,
        ids.relStgOrdersStgCustomers,
        ids.srcNnOrders,
        ids.uniqueCustomers,
        ids.relOrdersCustomers,
        ids.relOrdersStgOrders,
      ),
    );
    expect(sel('test_name:relationships')).toEqual(
      sorted(ids.relStgOrdersStgCustomers, ids.relOrdersCustomers, ids.relOrdersStgOrders),
    );
    expect(sel('test_name:not_*')).toEqual(sorted(ids.nnStgOrders, ids.srcNnOrders));
    expect(sel('test_name:singular')).toEqual([]);
  });
});

describe('select: graph operators', () => {
  const models: Omit<SelectOptions, 'select'> = {
    resourceTypes: ['model', 'seed', 'source', 'snapshot', 'analysis'],
  };

  it('+name selects the node and all its ancestors', () => {
    expect(sel('+customers', models)).toEqual(
      sorted(
        ids.customers,
        ids.stgCustomers,
        ids.rawCustomers,
        ids.intOrderPayments,
        ids.stgOrders,
        ids.srcOrders,
        ids.stgPayments,
        ids.rawPayments,
        ids.srcCharges,
      ),
    );
  });

  it('N+name limits the generations', () => {
    expect(sel('1+customers', models)).toEqual(sorted(ids.customers, ids.stgCustomers, ids.intOrderPayments));
    expect(sel('2+customers', models)).toEqual(
      sorted(
        ids.customers,
        ids.stgCustomers,
        ids.intOrderPayments,
        ids.rawCustomers,
        ids.stgOrders,
        ids.stgPayments,
      ),
    );
  });

  it('name+ and name+N select descendants', () => {
    expect(sel('stg_orders+', models)).toEqual(
      sorted(ids.stgOrders, ids.intOrderPayments, ids.customers, ids.orders, ids.snapshot, ids.revenue),
    );
    expect(sel('stg_orders+1', models)).toEqual(
      sorted(ids.stgOrders, ids.intOrderPayments, ids.orders, ids.snapshot),
    );
    // Tests are descendants too.
    expect(sel('customers+1')).toEqual(sorted(ids.customers, ids.uniqueCustomers, ids.relOrdersCustomers));
  });

  it('+name+ selects both directions', () => {
    expect(sel('+int_order_payments+', models)).toEqual(
      sorted(
        ids.rawPayments,
        ids.srcCharges,
        ids.srcOrders,
        ids.stgOrders,
        ids.stgPayments,
        ids.intOrderPayments,
        ids.customers,
        ids.orders,
        ids.revenue,
      ),
    );
  });

  it('@name adds the ancestors of every descendant', () => {
    const at = sel('@int_order_payments', models);
    expect(at).toEqual(
      sorted(
        ids.rawPayments,
        ids.srcCharges,
        ids.srcOrders,
        ids.stgOrders,
        ids.stgPayments,
        ids.intOrderPayments,
        ids.customers,
        ids.orders,
        ids.revenue,
        // Parents of descendants, which int_order_payments+ does not reach:
        ids.stgCustomers,
        ids.rawCustomers,
        ids.calendar,
      ),
    );
    expect(at).toContain(ids.calendar);
    expect(sel('int_order_payments+', models)).not.toContain(ids.calendar);
  });

  it('applies operators to every node a method matched', () => {
    expect(sel('+tag:staging', { resourceTypes: ['model', 'seed', 'source'] })).toEqual(
      sorted(
        ids.stgCustomers,
        ids.stgOrders,
        ids.stgPayments,
        ids.rawCustomers,
        ids.rawPayments,
        ids.srcOrders,
        ids.srcCharges,
      ),
    );
    expect(sel('source:raw+1', models)).toEqual(sorted(ids.srcOrders, ids.stgOrders));
  });
});

describe('select: set operators', () => {
  it('unites space-separated criteria and separate arguments', () => {
    expect(sel('stg_orders stg_customers')).toEqual(sorted(ids.stgOrders, ids.stgCustomers));
    expect(sel(['stg_orders', 'tag:nightly'])).toEqual(
      sorted(ids.stgOrders, ids.intOrderPayments, ids.customers, ids.orders),
    );
  });

  it('intersects comma-separated criteria, each with its own operators', () => {
    expect(sel('tag:nightly,config.materialized:table')).toEqual([ids.customers]);
    expect(sel('+customers,+orders', { resourceTypes: ['model'] })).toEqual(
      sorted(ids.intOrderPayments, ids.stgOrders, ids.stgPayments),
    );
    expect(sel('tag:nightly,config.materialized:table tag:staging,stg_c*')).toEqual(
      sorted(ids.customers, ids.stgCustomers),
    );
  });

  it('excludes after selecting', () => {
    expect(sel('tag:nightly', { exclude: ['orders'] })).toEqual(sorted(ids.intOrderPayments, ids.customers));
    expect(
      sel('+customers', { exclude: ['+stg_orders', 'resource_type:seed'], resourceTypes: ['model'] }),
    ).toEqual(sorted(ids.customers, ids.stgCustomers, ids.intOrderPayments, ids.stgPayments));
    // Exclusion alone: everything else, minus the singular test on the excluded stg_payments.
    expect(select(graph, { exclude: ['path:models'] }).ids).toEqual(
      graph.topoOrder([ids.rawCustomers, ids.rawPayments, ids.calendar, ids.snapshot, ids.revenue]),
    );
  });

  it('filters by resource type last', () => {
    expect(sel('+orders', { resourceTypes: ['seed', 'source'] })).toEqual(
      sorted(ids.rawPayments, ids.srcCharges, ids.srcOrders),
    );
    expect(sel('stg_orders', { indirectSelection: 'eager', resourceTypes: ['test'] })).toEqual(
      sorted(ids.nnStgOrders, ids.relStgOrdersStgCustomers, ids.relOrdersStgOrders),
    );
  });
});

describe('select: indirect test selection', () => {
  const run = (mode: IndirectSelection, ...selectors: string[]): string[] =>
    sel(selectors, { indirectSelection: mode });

  it('eager (default): tests with any selected parent', () => {
    expect([...select(graph, { select: ['stg_orders'] }).ids].sort()).toEqual(
      sorted(ids.stgOrders, ids.nnStgOrders, ids.relStgOrdersStgCustomers, ids.relOrdersStgOrders),
    );
    expect(run('eager', 'orders')).toEqual(
      sorted(ids.orders, ids.relOrdersCustomers, ids.relOrdersStgOrders),
    );
  });

  it('cautious: tests whose parents are all selected', () => {
    expect(run('cautious', 'stg_orders')).toEqual(sorted(ids.stgOrders, ids.nnStgOrders));
    expect(run('cautious', 'orders')).toEqual([ids.orders]);
    // A union completes the parents of a two-parent test.
    expect(run('cautious', 'stg_orders stg_customers')).toEqual(
      sorted(ids.stgOrders, ids.stgCustomers, ids.nnStgOrders, ids.relStgOrdersStgCustomers),
    );
    expect(run('cautious', 'stg_orders', 'stg_customers')).toEqual(
      run('cautious', 'stg_orders stg_customers'),
    );
    expect(run('cautious', '+customers')).not.toContain(ids.relOrdersCustomers);
    expect(run('cautious', '+customers')).toContain(ids.srcNnOrders);
  });

  it('buildable: tests whose parents are selected or upstream of the selection', () => {
    // stg_orders is an ancestor of orders, customers is not.
    expect(run('buildable', 'orders')).toEqual(sorted(ids.orders, ids.relOrdersStgOrders));
    expect(run('buildable', 'stg_orders')).toEqual(sorted(ids.stgOrders, ids.nnStgOrders));
    expect(run('buildable', 'customers orders')).toEqual(
      sorted(ids.customers, ids.orders, ids.uniqueCustomers, ids.relOrdersCustomers, ids.relOrdersStgOrders),
    );
  });

  it('empty: no tests unless selected directly', () => {
    expect(run('empty', 'stg_orders')).toEqual([ids.stgOrders]);
    expect(run('empty', 'stg_orders', 'test_name:not_null')).toEqual(
      sorted(ids.stgOrders, ids.nnStgOrders, ids.srcNnOrders),
    );
  });

  it('excluding a node excludes the tests indirect selection attaches to it', () => {
    const eager = select(graph, { select: ['+orders'], exclude: ['stg_orders'] }).ids;
    expect([...eager].sort()).toEqual(
      sorted(
        ids.orders,
        ids.intOrderPayments,
        ids.stgPayments,
        ids.rawPayments,
        ids.srcCharges,
        ids.srcOrders,
        ids.calendar,
        ids.relOrdersCustomers,
        ids.srcNnOrders,
        ids.assertPositive,
      ),
    );
    expect(eager).not.toContain(ids.nnStgOrders);
    expect(eager).not.toContain(ids.relOrdersStgOrders);
    // Directly excluding tests works too.
    expect(select(graph, { select: ['customers'], exclude: ['test_type:generic'] }).ids).toEqual([
      ids.customers,
    ]);
  });
});

describe('select: results', () => {
  it('returns ids in topological order', () => {
    const { ids: order } = select(graph, { select: ['+orders+'] });
    expect(order).toEqual(graph.topoOrder(order));
    for (const id of order) {
      for (const parent of graph.parents(id)) {
        if (order.includes(parent)) expect(order.indexOf(parent)).toBeLessThan(order.indexOf(id));
      }
    }
  });

  it('warns about criteria that match nothing, with close names', () => {
    const result = select(graph, { select: ['stg_ordrs', 'tag:nope customers'], exclude: ['tag:gone'] });
    expect(result.ids).toContain(ids.customers);
    expect(result.warnings).toEqual([
      'The selection criterion "stg_ordrs" does not match any node (did you mean "stg_orders"?)',
      'The selection criterion "tag:nope" does not match any node',
      'The selection criterion "tag:gone" does not match any node',
    ]);
    expect(
      select(graph, { select: ['tag:nightly,tag:staging'], indirectSelection: 'empty' }).warnings,
    ).toEqual(['The selection criterion "tag:nightly,tag:staging" does not match any node']);
    // As in dbt, each side of an intersection picks up its tests first: a test between a
    // nightly and a staging model is in both.
    expect(select(graph, { select: ['tag:nightly,tag:staging'] })).toEqual({
      ids: [ids.relOrdersStgOrders],
      warnings: [],
    });
  });

  it('throws WEIR-G010 for a bad selector in select or exclude', () => {
    expect(() => select(graph, { select: ['tag:'] })).toThrow(WeirError);
    expect(() => select(graph, { exclude: ['bogus:x'] })).toThrow(/unknown selector method "bogus"/);
  });
});
