import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from '../src/core/diagnostics.js';
import { loadProject } from '../src/project/index.js';
import type { Project } from '../src/project/index.js';

const dirs: string[] = [];

async function writeProject(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'weir-project-'));
  dirs.push(root);
  await Promise.all(
    Object.entries(files).map(async ([rel, text]) => {
      await mkdir(dirname(join(root, rel)), { recursive: true });
      await writeFile(join(root, rel), text);
    }),
  );
  return root;
}

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** 1-based line of the first line containing `needle` (fixtures stay readable without counting). */
function lineOf(text: string, needle: string, occurrence = 1): number {
  const lines = text.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.includes(needle) && ++seen === occurrence) return i + 1;
  }
  throw new Error(`'${needle}' not in fixture`);
}

const codes = (diags: readonly Diagnostic[]) => diags.map((d) => d.code);

// ---- a realistic project: jaffle_shop with every feature the loader reads ----

const PROJECT_YML = `name: 'jaffle_shop'
version: '1.0'
profile: 'jaffle_shop'
config-version: 2

model-paths: ["models"]
seed-paths: ["seeds"]
snapshot-paths: ["snapshots"]
test-paths: ["tests"]
analysis-paths: ["analyses"]
macro-paths: ["macros"]
docs-paths: ["docs"]
target-path: "target"
clean-targets: ["target", "dbt_packages"]
require-dbt-version: [">=1.5.0", "<2.0.0"]
quoting:
  identifier: false

vars:
  start_date: '2018-01-01'
  jaffle_shop:
    currency: AUD

on-run-start: "create schema if not exists audit"
on-run-end:
  - "select 1"

models:
  +meta: {owner: analytics}
  jaffle_shop:
    +materialized: table
    +tags: [jaffle]
    staging:
      +materialized: view
      +tags: staging
      legacy:
        +enabled: false
    marts:
      +schema: marts
      finance:
        +tags: [finance]
        orders:
          +materialized: incremental

seeds:
  jaffle_shop:
    +schema: raw
    raw_payments:
      +column_types: {amount: integer}

snapshots:
  jaffle_shop:
    +target_schema: snapshots

data_tests:
  jaffle_shop:
    +severity: warn
    marts:
      +store_failures: true

sources:
  jaffle_shop:
    staging:
      legacy_src:
        +enabled: false
`;

const STAGING_YML = `version: 2

sources:
  - name: jaffle
    description: The shop database
    schema: raw
    loader: weir
    loaded_at_field: _loaded_at
    freshness:
      warn_after: {count: 12, period: hour}
    tags: [raw]
    tables:
      - name: customers
        identifier: raw_customers
        columns:
          - name: id
            tests:
              - unique
              - not_null
      - name: orders
        freshness: null
        meta: {contains_pii: false}
        tests:
          - dbt_utils.unique_combination_of_columns:
              combination_of_columns: [id, user_id]
        columns:
          - name: id
            tags: [key]
            data_tests:
              - not_null:
                  config:
                    severity: error
  - name: legacy_src
    tables:
      - name: old
        columns:
          - name: id
            tests: [not_null]

models:
  - name: stg_customers
    columns:
      - name: customer_id
        data_type: integer
        tests:
          - unique
          - not_null
  - name: stg_orders
    columns:
      - name: order_id
        tests: [unique, not_null]
      - name: status
        tests:
          - accepted_values:
              values: ['placed', 'shipped', 'completed', 'return_pending', 'returned']
  - name: old_orders
    columns:
      - name: id
        tests: [unique]
`;

const MARTS_YML = `version: 2

models:
  - name: customers
    description: One row per customer. {{ doc("customers_intro") }}
    config:
      materialized: view
      tags: [pii]
    docs:
      show: false
    columns:
      - name: customer_id
        description: This is a unique identifier for a customer
        meta: {pk: true}
        quote: false
        tests:
          - unique
          - not_null
      - name: first_name
        description: Customer's first name. PII.
        tags: [pii]

  - name: orders
    description: This table has basic information about orders
    tags: [daily]
    meta: {owner: finance}
    config:
      unique_key: order_id
      on_schema_change: append_new_columns
      incremental_strategy: delete+insert
    tests:
      - name: orders_amount_positive
        test_name: dbt_utils.expression_is_true
        expression: "amount >= 0"
    columns:
      - name: order_id
        tests:
          - unique
          - not_null
      - name: customer_id
        tests:
          - not_null
          - relationships:
              to: ref('customers')
              field: customer_id
      - name: status
        description: '{{ doc("orders_status") }}'
        tests:
          - accepted_values:
              values: ['placed', 'shipped', 'completed', 'return_pending', 'returned']
              severity: warn
      - name: amount
        tests:
          - not_null:
              where: "status != 'returned'"
              config:
                limit: 10
                tags: [money]
          - dbt_expectations.expect_column_values_to_be_between:
              min_value: 0
              max_value: 10000

  - name: retired
    config:
      enabled: false
    columns:
      - name: id
        tests: [not_null]
`;

const SEEDS_YML = `version: 2
seeds:
  - name: raw_orders
    description: Orders as exported
    config:
      delimiter: ";"
      quote_columns: false
    columns:
      - name: id
        tests: [unique]
`;

const SNAPSHOTS_SQL = `{% snapshot orders_snapshot %}
{{
    config(
      unique_key='id',
      strategy='timestamp',
      updated_at='updated_at',
    )
}}
select * from {{ source('jaffle', 'orders') }}
{% endsnapshot %}

{% snapshot payments_snapshot %}
select * from {{ ref('raw_payments') }}
{% endsnapshot %}
`;

const SNAPSHOTS_YML = `snapshots:
  - name: orders_snapshot
    description: Order history
    config:
      hard_deletes: invalidate
  - name: customers_snapshot
    relation: source('jaffle', 'customers')
    config:
      unique_key: id
      strategy: check
      check_cols: all
`;

const PROFILES_YML = `jaffle_shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('JAFFLE_DB', 'jaffle.duckdb') }}"
      schema: "{{ env_var('JAFFLE_SCHEMA') }}"
      threads: 4
      extensions: [httpfs]
    ci:
      type: duckdb
      path: ":memory:"
`;

const WEIR_CONFIG = `import { defineConfig } from 'weir';

export default defineConfig({
  lake: './lake',
  state: { type: 'sqlite', path: '.weir/state.sqlite' },
  threads: 4,
  checkpointInterval: 20,
});
`;

const JAFFLE: Record<string, string> = {
  'dbt_project.yml': PROJECT_YML,
  'profiles.yml': PROFILES_YML,
  'weir.config.ts': WEIR_CONFIG,
  'models/staging/_staging.yml': STAGING_YML,
  'models/staging/stg_customers.sql': "select id as customer_id from {{ source('jaffle', 'customers') }}\n",
  'models/staging/stg_orders.sql': "select id as order_id, status from {{ source('jaffle', 'orders') }}\n",
  'models/staging/stg_payments.sql': "select * from {{ ref('raw_payments') }}\n",
  'models/staging/legacy/old_orders.sql': 'select 1 as id\n',
  'models/marts/schema.yml': MARTS_YML,
  'models/marts/customers.sql': "select * from {{ ref('stg_customers') }}\n",
  'models/marts/finance/orders.sql':
    "{{ config(materialized='incremental') }}\nselect * from {{ ref('stg_orders') }}\n",
  'models/marts/retired.sql': 'select 1 as id\n',
  'models/marts/customers_intro.md':
    '{% docs customers_intro %}\nCustomers and their *first* order.\n{% enddocs %}\n',
  'docs/overview.md':
    '{% docs __overview__ %}\n# Jaffle shop\n{% enddocs %}\n\n{% docs orders_status %}\n| status | meaning |\n|---|---|\n| placed | new |\n{% enddocs %}\n',
  'seeds/raw_customers.csv': 'id,first_name\n1,Michael\n',
  'seeds/raw_orders.csv': 'id;user_id;status\n1;1;placed\n',
  'seeds/raw_payments.csv': 'id,amount\n1,1000\n',
  'seeds/seeds.yml': SEEDS_YML,
  'snapshots/orders_snapshot.sql': SNAPSHOTS_SQL,
  'snapshots/snapshots.yml': SNAPSHOTS_YML,
  'tests/assert_positive_total.sql': "select * from {{ ref('orders') }} where amount < 0\n",
  'tests/marts/assert_one_row_per_customer.sql':
    "select customer_id from {{ ref('customers') }} group by 1 having count(*) > 1\n",
  'tests/generic/is_even.sql':
    '{% test is_even(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} % 2 = 1\n{% endtest %}\n',
  'tests/tests.yml':
    'data_tests:\n  - name: assert_positive_total\n    description: No negative order totals\n',
  'analyses/revenue_by_month.sql':
    "select date_trunc('month', order_date), sum(amount) from {{ ref('orders') }} group by 1\n",
  'macros/cents_to_dollars.sql':
    '{% macro cents_to_dollars(col) %}({{ col }} / 100)::numeric(16, 2){% endmacro %}\n',
  'macros/macros.yml': 'macros:\n  - name: cents_to_dollars\n    description: Converts cents\n',
  'target/compiled/ignored.sql': 'select 1\n',
};

describe('loadProject on a realistic jaffle_shop project', () => {
  let root: string;
  let project: Project;
  let diagnostics: Diagnostic[];

  beforeAll(async () => {
    root = await writeProject(JAFFLE);
    ({ project, diagnostics } = await loadProject(root, {
      env: { JAFFLE_SCHEMA: 'analytics' },
      vars: { start_date: '2020-01-01' },
    }));
  });

  const model = (name: string) => {
    const m = project.models.find((x) => x.name === name);
    if (!m) throw new Error(`no model ${name}`);
    return m;
  };
  const test = (id: string) => {
    const t = project.genericTests.find((x) => x.uniqueId === `test.jaffle_shop.${id}`);
    if (!t) throw new Error(`no test ${id}; have ${project.genericTests.map((x) => x.name).join(', ')}`);
    return t;
  };

  it('reports no problem', () => {
    expect(diagnostics).toEqual([]);
  });

  it('reads the project file', () => {
    expect(project).toMatchObject({
      root,
      name: 'jaffle_shop',
      version: '1.0',
      profileName: 'jaffle_shop',
      configFile: 'dbt_project.yml',
      paths: {
        models: ['models'],
        seeds: ['seeds'],
        snapshots: ['snapshots'],
        tests: ['tests'],
        analyses: ['analyses'],
        macros: ['macros'],
        docs: ['docs'],
        target: 'target',
      },
      onRunStart: ['create schema if not exists audit'],
      onRunEnd: ['select 1'],
      cleanTargets: ['target', 'dbt_packages'],
    });
    // Project-scoped vars are flattened; the caller's vars win.
    expect(project.vars).toEqual({ start_date: '2020-01-01', currency: 'AUD' });
  });

  it('reads the profile target with env_var rendered', () => {
    expect(project.target).toEqual({
      name: 'dev',
      type: 'duckdb',
      schema: 'analytics',
      catalogPath: join(root, 'jaffle.duckdb'),
      threads: 4,
      extensions: ['httpfs'],
    });
  });

  it('loads weir.config.ts', () => {
    expect(project.weir).toEqual({
      lakeRoot: join(root, 'lake'),
      state: { type: 'sqlite', path: join(root, '.weir', 'state.sqlite') },
      threads: 4,
      checkpointInterval: 20,
      configFile: join(root, 'weir.config.ts'),
    });
  });

  it('finds the enabled models with dbt unique ids, paths and fqns', () => {
    expect(project.models.map((m) => m.uniqueId).sort()).toEqual([
      'model.jaffle_shop.customers',
      'model.jaffle_shop.orders',
      'model.jaffle_shop.stg_customers',
      'model.jaffle_shop.stg_orders',
      'model.jaffle_shop.stg_payments',
    ]);
    const orders = model('orders');
    expect(orders).toMatchObject({
      resourceType: 'model',
      language: 'sql',
      path: 'models/marts/finance/orders.sql',
      absPath: join(root, 'models/marts/finance/orders.sql'),
      fqn: ['jaffle_shop', 'marts', 'finance', 'orders'],
      packageName: 'jaffle_shop',
      patchPath: { file: 'models/marts/schema.yml', line: lineOf(MARTS_YML, '- name: orders') },
    });
    // The SQL is kept raw: config() inside it is the compiler's business.
    expect(orders.rawCode).toBe(JAFFLE['models/marts/finance/orders.sql']);
  });

  it('applies folder configs, then yml configs, with tags accumulating', () => {
    expect(model('stg_orders').config).toMatchObject({ materialized: 'view', tags: ['jaffle', 'staging'] });
    expect(model('stg_orders').tags).toEqual(['jaffle', 'staging']);
    // yml config beats the folder's table; folder +schema still applies.
    const customers = model('customers');
    expect(customers.config).toMatchObject({
      materialized: 'view',
      schema: 'marts',
      tags: ['jaffle', 'pii'],
      enabled: true,
    });
    expect(customers.docsShow).toBe(false);
    // The deepest folder level (the model itself) wins over its parents.
    const orders = model('orders');
    expect(orders.config).toMatchObject({
      materialized: 'incremental',
      schema: 'marts',
      unique_key: 'order_id',
      on_schema_change: 'append_new_columns',
      incremental_strategy: 'delete+insert',
    });
    expect(orders.tags).toEqual(['jaffle', 'finance', 'daily']);
    // meta merges: the yml's owner replaces the project-wide one.
    expect(orders.meta).toEqual({ owner: 'finance' });
    expect(model('stg_payments').meta).toEqual({ owner: 'analytics' });
  });

  it('resolves doc() blocks from docs paths and model paths', () => {
    expect(project.docs.orders_status).toEqual({
      body: '| status | meaning |\n|---|---|\n| placed | new |',
      file: 'docs/overview.md',
      line: 5,
    });
    expect(Object.keys(project.docs).sort()).toEqual(['__overview__', 'customers_intro', 'orders_status']);
    expect(model('customers').description).toBe('One row per customer. Customers and their *first* order.');
    expect(model('orders').columns.status?.description).toBe(
      '| status | meaning |\n|---|---|\n| placed | new |',
    );
    expect(model('customers').columns.customer_id).toEqual({
      name: 'customer_id',
      description: 'This is a unique identifier for a customer',
      meta: { pk: true },
      tags: [],
      quote: false,
    });
    expect(model('stg_customers').columns.customer_id?.dataType).toBe('integer');
  });

  it('drops disabled models (by folder or yml) and the tests on them', () => {
    expect(project.models.find((m) => m.name === 'old_orders')).toBeUndefined();
    expect(project.models.find((m) => m.name === 'retired')).toBeUndefined();
    expect(
      project.genericTests.filter(
        (t) => t.attachedTo.name === 'old_orders' || t.attachedTo.name === 'retired',
      ),
    ).toEqual([]);
    expect(project.disabled.map((d) => d.uniqueId).sort()).toEqual([
      'model.jaffle_shop.old_orders',
      'model.jaffle_shop.retired',
      'source.jaffle_shop.legacy_src.old',
    ]);
  });

  it('names generic tests exactly as dbt does', () => {
    const ids = project.genericTests.map((t) => t.uniqueId);
    expect(ids).toEqual(
      expect.arrayContaining([
        'test.jaffle_shop.unique_customers_customer_id',
        'test.jaffle_shop.not_null_customers_customer_id',
        'test.jaffle_shop.unique_orders_order_id',
        'test.jaffle_shop.not_null_orders_order_id',
        'test.jaffle_shop.not_null_orders_customer_id',
        'test.jaffle_shop.relationships_orders_customer_id__customer_id__ref_customers_',
        'test.jaffle_shop.accepted_values_orders_status__placed__shipped__completed__return_pending__returned',
        'test.jaffle_shop.accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned',
        'test.jaffle_shop.not_null_orders_amount',
        'test.jaffle_shop.dbt_expectations_expect_column_values_to_be_between_orders_amount__10000__0',
        'test.jaffle_shop.orders_amount_positive',
        'test.jaffle_shop.source_unique_jaffle_customers_id',
        'test.jaffle_shop.source_not_null_jaffle_customers_id',
        'test.jaffle_shop.source_not_null_jaffle_orders_id',
        'test.jaffle_shop.dbt_utils_source_unique_combination_of_columns_jaffle_orders_id__user_id',
        'test.jaffle_shop.unique_raw_orders_id',
      ]),
    );
    expect(new Set(ids).size).toBe(ids.length);
    expect(project.genericTests).toHaveLength(20);
  });

  it('keeps test arguments, columns, targets and locations', () => {
    const rel = test('relationships_orders_customer_id__customer_id__ref_customers_');
    expect(rel).toMatchObject({
      testName: 'relationships',
      kwargs: { to: "ref('customers')", field: 'customer_id', column_name: 'customer_id' },
      columnName: 'customer_id',
      attachedTo: { kind: 'model', name: 'orders' },
      at: { file: 'models/marts/schema.yml', line: lineOf(MARTS_YML, '- relationships:') },
      fqn: ['jaffle_shop', 'marts', 'relationships_orders_customer_id__customer_id__ref_customers_'],
    });
    const accepted = test(
      'accepted_values_orders_status__placed__shipped__completed__return_pending__returned',
    );
    expect(accepted.kwargs).toEqual({
      values: ['placed', 'shipped', 'completed', 'return_pending', 'returned'],
      column_name: 'status',
    });
    expect(accepted.alias).toBe('accepted_values_orders_1ce6ab157c285f7cd2ac656013faf758');
    const custom = test('orders_amount_positive');
    expect(custom).toMatchObject({
      testName: 'dbt_utils.expression_is_true',
      kwargs: { expression: 'amount >= 0' },
    });
    expect(custom.columnName).toBeUndefined();
    const source = test('source_not_null_jaffle_orders_id');
    expect(source.attachedTo).toEqual({ kind: 'source', name: 'orders', sourceName: 'jaffle' });
    expect(test('unique_raw_orders_id').attachedTo).toEqual({ kind: 'seed', name: 'raw_orders' });
  });

  it('builds test configs: defaults < project data_tests < legacy args < config:', () => {
    // Project default for the whole project is warn; marts tests also store failures.
    expect(test('unique_stg_orders_order_id').config).toMatchObject({
      materialized: 'test',
      severity: 'warn',
      warn_if: '!= 0',
      error_if: '!= 0',
      enabled: true,
    });
    expect(test('unique_stg_orders_order_id').config.store_failures).toBeUndefined();
    expect(test('unique_orders_order_id').config).toMatchObject({ severity: 'warn', store_failures: true });
    // Legacy top-level arguments become config and stay out of the kwargs and the name.
    const amount = test('not_null_orders_amount');
    expect(amount.config).toMatchObject({ where: "status != 'returned'", limit: 10, tags: ['money'] });
    expect(amount.kwargs).toEqual({ column_name: 'amount' });
    // Column and source tags are inherited by the tests under them.
    const srcTest = test('source_not_null_jaffle_orders_id');
    expect(srcTest.config.severity).toBe('error');
    expect(srcTest.tags).toEqual(['raw', 'key']);
  });

  it('reads sources with defaults, inheritance and project configs', () => {
    expect(project.sources.map((s) => s.uniqueId)).toEqual([
      'source.jaffle_shop.jaffle.customers',
      'source.jaffle_shop.jaffle.orders',
    ]);
    const [customers, orders] = project.sources;
    expect(customers).toMatchObject({
      sourceName: 'jaffle',
      name: 'customers',
      schema: 'raw',
      identifier: 'raw_customers',
      loader: 'weir',
      loadedAtField: '_loaded_at',
      freshness: { warn_after: { count: 12, period: 'hour' } },
      sourceDescription: 'The shop database',
      tags: ['raw'],
      config: { enabled: true },
      fqn: ['jaffle_shop', 'staging', 'jaffle', 'customers'],
      path: 'models/staging/_staging.yml',
      at: { file: 'models/staging/_staging.yml', line: lineOf(STAGING_YML, '- name: customers') },
    });
    expect(orders?.identifier).toBe('orders');
    expect(orders?.freshness).toBeUndefined();
    expect(orders?.meta).toEqual({ contains_pii: false });
  });

  it('reads seeds without reading their CSV', () => {
    expect(project.seeds.map((s) => s.name)).toEqual(['raw_customers', 'raw_orders', 'raw_payments']);
    const orders = project.seeds.find((s) => s.name === 'raw_orders');
    expect(orders).toMatchObject({
      uniqueId: 'seed.jaffle_shop.raw_orders',
      rawCode: '',
      csvPath: join(root, 'seeds/raw_orders.csv'),
      description: 'Orders as exported',
      config: { materialized: 'seed', schema: 'raw', delimiter: ';', quote_columns: false },
    });
    expect(project.seeds.find((s) => s.name === 'raw_payments')?.config.column_types).toEqual({
      amount: 'integer',
    });
  });

  it('splits snapshot files into blocks and reads YAML snapshots', () => {
    expect(project.snapshots.map((s) => s.uniqueId)).toEqual([
      'snapshot.jaffle_shop.orders_snapshot',
      'snapshot.jaffle_shop.payments_snapshot',
      'snapshot.jaffle_shop.customers_snapshot',
    ]);
    const [orders, payments, customers] = project.snapshots;
    expect(orders).toMatchObject({
      path: 'snapshots/orders_snapshot.sql',
      fqn: ['jaffle_shop', 'orders_snapshot', 'orders_snapshot'],
      bodyLine: 1,
      description: 'Order history',
      config: { materialized: 'snapshot', target_schema: 'snapshots', hard_deletes: 'invalidate' },
    });
    const fileLines = SNAPSHOTS_SQL.split('\n');
    const bodyLines = orders!.rawCode.split('\n');
    const sourceLine = bodyLines.findIndex((l) => l.includes("source('jaffle', 'orders')"));
    expect(fileLines[orders!.bodyLine - 1 + sourceLine]).toContain("source('jaffle', 'orders')");
    expect(payments?.bodyLine).toBe(lineOf(SNAPSHOTS_SQL, '{% snapshot payments_snapshot %}'));
    expect(payments?.rawCode.trim()).toBe("select * from {{ ref('raw_payments') }}");
    expect(customers).toMatchObject({
      path: 'snapshots/snapshots.yml',
      rawCode: "select * from {{ source('jaffle', 'customers') }}",
      bodyLine: lineOf(SNAPSHOTS_YML, 'relation:'),
      config: { unique_key: 'id', strategy: 'check', check_cols: 'all', target_schema: 'snapshots' },
    });
  });

  it('reads singular tests, analyses and macro files', () => {
    expect(project.singularTests.map((t) => [t.uniqueId, t.fqn])).toEqual([
      ['test.jaffle_shop.assert_positive_total', ['jaffle_shop', 'assert_positive_total']],
      [
        'test.jaffle_shop.assert_one_row_per_customer',
        ['jaffle_shop', 'marts', 'assert_one_row_per_customer'],
      ],
    ]);
    expect(project.singularTests[0]).toMatchObject({
      description: 'No negative order totals',
      config: { severity: 'warn' },
    });
    expect(project.singularTests[1]?.config.store_failures).toBe(true);
    expect(project.analyses.map((a) => a.uniqueId)).toEqual(['analysis.jaffle_shop.revenue_by_month']);
    expect(project.macroFiles.map((m) => m.path)).toEqual([
      'macros/cents_to_dollars.sql',
      'tests/generic/is_even.sql',
    ]);
    expect(project.macroFiles[0]?.content).toContain('{% macro cents_to_dollars(col) %}');
  });

  it('selects another profile target on request', async () => {
    const { project: ci, diagnostics: d } = await loadProject(root, { target: 'ci', env: {} });
    expect(d).toEqual([]);
    expect(ci.target).toEqual({ name: 'ci', type: 'duckdb', schema: 'main', catalogPath: ':memory:' });
  });

  it('reports a missing env var in the profile when that target is used', async () => {
    const { diagnostics: d } = await loadProject(root, { env: {} });
    expect(d).toMatchObject([
      {
        code: 'WEIR-P031',
        severity: 'error',
        at: { file: 'profiles.yml', line: lineOf(PROFILES_YML, 'JAFFLE_SCHEMA') },
      },
    ]);
  });
});

describe('loadProject reports problems', () => {
  it('reports a folder without a project file', async () => {
    const root = await writeProject({ 'models/a.sql': 'select 1' });
    const { project, diagnostics } = await loadProject(root);
    expect(diagnostics).toEqual([
      {
        severity: 'error',
        code: 'WEIR-P001',
        message: `no dbt_project.yml or weir_project.yml in ${root}`,
        hint: 'run `weir init` or cd into a project',
      },
    ]);
    expect(project.models).toEqual([]);
    const missing = await loadProject(join(root, 'nope'));
    expect(codes(missing.diagnostics)).toEqual(['WEIR-P001']);
  });

  it('reports every broken file in one call, each at its file and line', async () => {
    const badYaml = 'version: 2\nmodels:\n  - name: a\n    description: a: b\n';
    const badType = 'version: 2\nmodels:\n  - name: b\n    config:\n      materialized: 3\n';
    const badProject = 'name: shop\nmodels:\n  shop:\n    +tags: {a: 1}\n';
    const root = await writeProject({
      'dbt_project.yml': badProject,
      'models/a.sql': 'select 1',
      'models/b.sql': 'select 1',
      'models/a.yml': badYaml,
      'models/b.yml': badType,
    });
    const { diagnostics } = await loadProject(root, { env: {} });
    expect(diagnostics.map((d) => [d.code, d.at?.file, d.at?.line])).toEqual([
      ['WEIR-P003', 'dbt_project.yml', 4],
      ['WEIR-P002', 'models/a.yml', 4],
      ['WEIR-P003', 'models/b.yml', 5],
    ]);
    expect(diagnostics.every((d) => d.severity === 'error' && d.hint)).toBe(true);
    expect(diagnostics[1]?.message).toContain('Nested mappings are not allowed');
    expect(diagnostics[1]?.at?.column).toBe(18);
    expect(diagnostics[2]?.message).toContain("'materialized'");
    expect(diagnostics[2]?.at?.column).toBe(21);
  });

  it('still reads the other files when the project file itself is broken', async () => {
    const root = await writeProject({
      'dbt_project.yml': 'name: shop\nmodels:\n  shop: [unclosed\n',
      'models/a.sql': 'select 1',
      'models/a.yml': 'version: 2\nmodels:\n  - name: a\n    config: {materialized: tabel}\n',
    });
    const { diagnostics } = await loadProject(root, { env: {} });
    expect(diagnostics.map((d) => [d.code, d.at?.file])).toEqual([
      ['WEIR-P002', 'dbt_project.yml'],
      ['WEIR-P003', 'models/a.yml'],
    ]);
  });

  it('reports an unknown materialization, wrong tags and unknown keys', async () => {
    const yml = [
      'version: 2',
      'models:',
      '  - name: a',
      '    config:',
      '      materialized: materialized_view',
      '      tags: [1, {x: 2}]',
      '    descripton: typo',
    ].join('\n');
    const root = await writeProject({
      'dbt_project.yml': 'name: shop\nmodel-path: [models]\n',
      'models/a.sql': 'select 1',
      'models/a.yml': yml,
    });
    const { diagnostics } = await loadProject(root, { env: {} });
    expect(diagnostics.map((d) => [d.code, d.severity, d.at?.file, d.at?.line])).toEqual([
      ['WEIR-P010', 'warning', 'dbt_project.yml', 2],
      ['WEIR-P003', 'error', 'models/a.yml', 5],
      ['WEIR-P003', 'error', 'models/a.yml', 6],
      ['WEIR-P012', 'warning', 'models/a.yml', 7],
    ]);
    expect(diagnostics[0]?.message).toContain("Did you mean 'model-paths'?");
    expect(diagnostics[3]?.message).toContain("Did you mean 'description'?");
  });

  it('warns about yml entries for missing models and config paths that match nothing', async () => {
    const project = 'name: shop\nmodels:\n  shop:\n    stagin:\n      +materialized: table\n';
    const yml =
      'version: 2\nmodels:\n  - name: custmers\n    columns:\n      - name: id\n        tests: [unique]\n';
    const root = await writeProject({
      'dbt_project.yml': project,
      'models/staging/customers.sql': 'select 1 as id',
      'models/schema.yml': yml,
    });
    const { project: p, diagnostics } = await loadProject(root, { env: {} });
    expect(diagnostics.map((d) => [d.code, d.severity, d.at?.file, d.at?.line])).toEqual([
      ['WEIR-P011', 'warning', 'dbt_project.yml', 4],
      ['WEIR-P021', 'warning', 'models/schema.yml', 3],
    ]);
    expect(diagnostics[0]?.message).toContain("Did you mean 'staging'?");
    expect(diagnostics[1]?.message).toContain("Did you mean 'customers'?");
    expect(p.genericTests).toEqual([]);
    expect(p.models.map((m) => m.name)).toEqual(['customers']);
  });

  it('reports two models with the same name, naming both files', async () => {
    const root = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/a/orders.sql': 'select 1',
      'models/b/orders.sql': 'select 2',
      'seeds/orders.csv': 'id\n1\n',
    });
    const { diagnostics } = await loadProject(root, { env: {} });
    expect(codes(diagnostics)).toEqual(['WEIR-P022', 'WEIR-P022']);
    expect(diagnostics[0]?.message).toContain('models/a/orders.sql');
    expect(diagnostics[0]?.message).toContain('models/b/orders.sql');
    expect(diagnostics[1]?.message).toContain('seeds/orders.csv');
  });

  it('allows a duplicate name when one of them is disabled', async () => {
    const root = await writeProject({
      'dbt_project.yml': 'name: shop\nmodels:\n  shop:\n    b:\n      +enabled: false\n',
      'models/a/orders.sql': 'select 1',
      'models/b/orders.sql': 'select 2',
    });
    const { project, diagnostics } = await loadProject(root, { env: {} });
    expect(diagnostics).toEqual([]);
    expect(project.models.map((m) => m.path)).toEqual(['models/a/orders.sql']);
  });

  it('reports unknown docs, duplicate docs, duplicate tests and bad test entries', async () => {
    const yml = [
      'version: 2',
      'models:',
      '  - name: a',
      '    description: "{{ doc(\'a_descr\') }}"',
      '    columns:',
      '      - name: id',
      '        tests:',
      '          - unique',
      '          - unique',
      '          - [not, a, test]',
      '          - {a: 1, b: 2}',
    ].join('\n');
    const root = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'models/a.sql': 'select 1 as id',
      'models/a.yml': yml,
      'models/docs.md': '{% docs a_desc %}A{% enddocs %}\n',
      'models/more/docs.md': '\n{% docs a_desc %}B{% enddocs %}\n',
    });
    const { diagnostics } = await loadProject(root, { env: {} });
    expect(diagnostics.map((d) => [d.code, d.at?.file, d.at?.line])).toEqual([
      ['WEIR-P020', 'models/a.yml', 4],
      ['WEIR-P025', 'models/a.yml', 9],
      ['WEIR-P029', 'models/a.yml', 10],
      ['WEIR-P029', 'models/a.yml', 11],
      ['WEIR-P024', 'models/more/docs.md', 2],
    ]);
    expect(diagnostics[0]?.message).toContain("Did you mean 'a_desc'?");
  });

  it('reports broken snapshot blocks and a non-duckdb profile together', async () => {
    const root = await writeProject({
      'dbt_project.yml': 'name: shop\n',
      'profiles.yml': 'shop:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n',
      'snapshots/a.sql': '{% snapshot a %}\nselect 1\n',
      'snapshots/b.sql': 'select 1\n',
    });
    const { diagnostics } = await loadProject(root, { env: {} });
    expect(diagnostics.map((d) => [d.code, d.severity, d.at?.file, d.at?.line])).toEqual([
      ['WEIR-P030', 'error', 'profiles.yml', 5],
      ['WEIR-P027', 'error', 'snapshots/a.sql', 1],
      ['WEIR-P028', 'warning', 'snapshots/b.sql', undefined],
    ]);
  });

  it('prefers weir_project.yml and reads legacy path names', async () => {
    const root = await writeProject({
      'weir_project.yml': 'name: shop\nsource-paths: [transform]\ndata-paths: [data]\n',
      'dbt_project.yml': 'name: other\n',
      'transform/m.sql': 'select 1',
      'data/s.csv': 'a\n1\n',
    });
    const { project, diagnostics } = await loadProject(root, { env: {} });
    expect(codes(diagnostics)).toEqual(['WEIR-P006']);
    expect(project).toMatchObject({ name: 'shop', configFile: 'weir_project.yml' });
    expect(project.models.map((m) => m.uniqueId)).toEqual(['model.shop.m']);
    expect(project.seeds.map((s) => s.uniqueId)).toEqual(['seed.shop.s']);
  });
});
