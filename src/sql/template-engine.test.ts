import { serialize } from 'node:v8';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { DiagnosticsError } from '../core/diagnostics.js';
import { WeirError, formatError } from '../core/errors.js';
import { ParseCache } from './parse-cache.js';
import { createRelation } from './relation.js';
import { TemplateEngine, type MacroFile, type RenderContext } from './template-engine.js';

function makeCtx(overrides: Partial<RenderContext> = {}): {
  ctx: RenderContext;
  config: Record<string, unknown>;
} {
  const config: Record<string, unknown> = {};
  const ctx: RenderContext = {
    file: 'models/orders.sql',
    nodeId: 'model.shop.orders',
    ref: (args) => createRelation({ schema: 'main', identifier: args[args.length - 1]! }),
    source: (s, t) => createRelation({ schema: s, identifier: t }),
    config: {
      set: (values) => Object.assign(config, values),
      get: (key, fallback) => (key in config ? config[key] : fallback),
    },
    vars: {},
    env: {},
    target: { name: 'dev', type: 'duckdb', schema: 'main', threads: 4 },
    thisRelation: createRelation({ schema: 'main', identifier: 'orders' }),
    isIncremental: false,
    ...overrides,
  };
  return { ctx, config };
}

function engineWith(macroFiles: MacroFile[] = []): TemplateEngine {
  return new TemplateEngine({ projectName: 'shop', macroFiles });
}

function errorOf(fn: () => unknown): WeirError {
  try {
    fn();
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(WeirError);
    return err as WeirError;
  }
  throw new Error('expected an error');
}

const ORDERS_SQL = `{{ config(materialized='table') }}
{% set payment_methods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] %}

with orders as (

    select * from {{ ref('stg_orders') }}

),

payments as (

    select * from {{ ref('stg_payments') }}

),

order_payments as (

    select
        order_id,

        {% for payment_method in payment_methods -%}
        sum(case when payment_method = '{{ payment_method }}' then amount else 0 end) as {{ payment_method }}_amount,
        {% endfor -%}

        sum(amount) as total_amount

    from payments

    group by order_id

),

final as (

    select
        orders.order_id,
        orders.customer_id,
        orders.order_date,
        orders.status,

        {% for payment_method in payment_methods -%}

        order_payments.{{ payment_method }}_amount{% if not loop.last %},{% endif %}

        {% endfor %}

    from orders

    left join order_payments
        on orders.order_id = order_payments.order_id

)

select * from final
`;

// Rendered by Jinja2 3.1.6 (extensions do + loopcontrols) with the same ref(): the reference.
const ORDERS_COMPILED =
  '\n\n\nwith orders as (\n\n    select * from "main"."stg_orders"\n\n),\n\npayments as (\n\n    select * from "main"."stg_payments"\n\n),\n\norder_payments as (\n\n    select\n        order_id,\n\n' +
  "        sum(case when payment_method = 'credit_card' then amount else 0 end) as credit_card_amount,\n" +
  "        sum(case when payment_method = 'coupon' then amount else 0 end) as coupon_amount,\n" +
  "        sum(case when payment_method = 'bank_transfer' then amount else 0 end) as bank_transfer_amount,\n" +
  "        sum(case when payment_method = 'gift_card' then amount else 0 end) as gift_card_amount,\n" +
  '        sum(amount) as total_amount\n\n    from payments\n\n    group by order_id\n\n),\n\nfinal as (\n\n    select\n        orders.order_id,\n        orders.customer_id,\n        orders.order_date,\n        orders.status,\n\n' +
  '        order_payments.credit_card_amount,\n\n        order_payments.coupon_amount,\n\n        order_payments.bank_transfer_amount,\n\n        order_payments.gift_card_amount\n\n        \n\n' +
  '    from orders\n\n    left join order_payments\n        on orders.order_id = order_payments.order_id\n\n)\n\nselect * from final';

describe('TemplateEngine: a jaffle_shop_duckdb model', () => {
  it('renders orders.sql exactly as Jinja does, and captures config()', () => {
    const refs: string[][] = [];
    const { ctx, config } = makeCtx({
      ref: (args) => {
        refs.push([...args]);
        return createRelation({ schema: 'main', identifier: args[args.length - 1]! });
      },
    });
    expect(engineWith().render(ORDERS_SQL, ctx)).toBe(ORDERS_COMPILED);
    expect(config).toEqual({ materialized: 'table' });
    expect(refs).toEqual([['stg_orders'], ['stg_payments']]);
  });

  it('produces SQL that DuckDB runs with the expected per-method amounts', async () => {
    const sql = engineWith().render(ORDERS_SQL, makeCtx().ctx);
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      await conn.run(`
        create table stg_orders as select * from (values
          (1, 10, date '2024-01-01', 'placed'), (2, 11, date '2024-01-02', 'shipped')
        ) t(order_id, customer_id, order_date, status);
        create table stg_payments as select * from (values
          (1, 'credit_card', 10), (1, 'coupon', 5), (2, 'gift_card', 7), (2, 'gift_card', 3)
        ) t(order_id, payment_method, amount);`);
      const reader = await conn.runAndReadAll(`${sql} order by order_id`);
      const rows = reader.getRowObjectsJS();
      expect(
        rows.map((r) => [
          r.order_id,
          r.credit_card_amount,
          r.coupon_amount,
          r.bank_transfer_amount,
          r.gift_card_amount,
        ]),
      ).toEqual([
        [1, 10n, 5n, 0n, 0n],
        [2, 0n, 0n, 0n, 10n],
      ]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});

describe('TemplateEngine: dbt context', () => {
  const engine = engineWith();

  it('captures config() keyword args and dicts, and reads them back with config.get', () => {
    const { ctx, config } = makeCtx();
    const out = engine.render(
      "{{ config(materialized='incremental', unique_key='id', tags=['a', 'b']) }}{% do config({'alias': 'x'}) %}" +
        "{{ config.get('materialized') }}|{{ config.get('missing', 'dflt') }}|{{ config.get('missing') is none }}",
      ctx,
    );
    expect(out).toBe('incremental|dflt|True');
    expect(config).toEqual({ materialized: 'incremental', unique_key: 'id', tags: ['a', 'b'], alias: 'x' });
  });

  it('resolves one- and two-argument ref and source through the caller', () => {
    const seen: string[] = [];
    const { ctx } = makeCtx({
      ref: (args) => {
        seen.push(args.join('/'));
        return args.length === 2
          ? `"${args[0]}"."${args[1]}"`
          : createRelation({ schema: 'main', identifier: args[0]! });
      },
      source: (s, t) => createRelation({ database: 'raw', schema: s, identifier: t }),
    });
    const out = engine.render(
      "{{ ref('stg_orders') }} {{ ref('other_pkg', 'model_x') }} {{ source('shop', 'orders') }}",
      ctx,
    );
    expect(out).toBe('"main"."stg_orders" "other_pkg"."model_x" "raw"."shop"."orders"');
    expect(seen).toEqual(['stg_orders', 'other_pkg/model_x']);
  });

  it('attaches the template line to errors thrown by the caller-provided ref', () => {
    const { ctx } = makeCtx({
      ref: (args) => {
        throw new WeirError('WEIR-X001', `unknown model '${args[0]}'`, { hint: 'check the name' });
      },
    });
    const err = errorOf(() => engine.render("select 1\nfrom {{ ref('nope') }}", ctx));
    expect(err.code).toBe('WEIR-X001');
    expect(err.at).toEqual({ file: 'models/orders.sql', line: 2, column: 9 });
    expect(err.hint).toBe('check the name');
    expect(err.node).toBe('model.shop.orders');
  });

  it('reads var() with defaults and reports a missing var with file:line and a hint', () => {
    const { ctx } = makeCtx({ vars: { start_date: '2024-01-01', flag: false } });
    expect(
      engine.render(
        "{{ var('start_date') }} {{ var('flag') }} {{ var('nope', 42) }} {{ var('n', none) }}",
        ctx,
      ),
    ).toBe('2024-01-01 False 42 None');
    const err = errorOf(() =>
      engine.render('select 1\n\nwhere d > \'{{ var("cutoff") }}\'', { ...ctx, lineOffset: 10 }),
    );
    expect(err.code).toBe('WEIR-T003');
    expect(err.message).toContain("'cutoff'");
    expect(err.at).toMatchObject({ file: 'models/orders.sql', line: 13 });
    expect(err.hint).toMatch(/dbt_project\.yml/);
    expect(err.hint).toMatch(/--vars/);
    expect(formatError(err)).toMatch(
      /^\[WEIR-T003\] models\/orders\.sql:13:\d+: var 'cutoff' is not defined/,
    );
  });

  it('reads env_var() with defaults and reports a missing one as WEIR-T004', () => {
    const { ctx } = makeCtx({ env: { SCHEMA_SUFFIX: '_ci' } });
    expect(engine.render("{{ env_var('SCHEMA_SUFFIX') }}{{ env_var('MISSING', '_x') }}", ctx)).toBe('_ci_x');
    const err = errorOf(() => engine.render("{{ env_var('DBT_SECRET') }}", ctx));
    expect(err.code).toBe('WEIR-T004');
    expect(err.message).toContain('DBT_SECRET');
    expect(err.at?.line).toBe(1);
  });

  it('exposes is_incremental(), this, target, run_started_at and invocation_id', () => {
    const template =
      'select * from {{ ref("events") }}\n{% if is_incremental() %}where ts > (select max(ts) from {{ this }}){% endif %}\n' +
      '{{ this.schema }}.{{ this.identifier }}/{{ this.name }} {{ target.name }} {{ target.schema }} {{ target.type }} {{ target.threads }}\n' +
      "{{ run_started_at.strftime('%Y-%m-%d %H:%M') }} {{ run_started_at.isoformat() }} {{ run_started_at }} {{ invocation_id }}";
    const runStartedAt = new Date('2024-03-05T06:07:08.000Z');
    const full = engine.render(template, makeCtx({ runStartedAt, invocationId: 'inv-1' }).ctx);
    expect(full).toBe(
      'select * from "main"."events"\n\nmain.orders/orders dev main duckdb 4\n' +
        '2024-03-05 06:07 2024-03-05T06:07:08+00:00 2024-03-05 06:07:08+00:00 inv-1',
    );
    const incremental = engine.render(template, makeCtx({ isIncremental: true, runStartedAt }).ctx);
    expect(incremental.split('\n')[1]).toBe('where ts > (select max(ts) from "main"."orders")');
  });

  it('collects log() and exceptions.warn() through onLog and renders them as nothing', () => {
    const logs: string[] = [];
    const { ctx } = makeCtx({ onLog: (message, level) => logs.push(`${level}:${message}`) });
    expect(
      engine.render(
        "a{{ log('hello ' ~ 1, info=True) }}b{% do log('quiet') %}{{ exceptions.warn('careful') }}c",
        ctx,
      ),
    ).toBe('abc');
    expect(logs).toEqual(['info:hello 1', 'debug:quiet', 'warn:careful']);
  });

  it('raises exceptions.raise_compiler_error as WEIR-T005 at its line', () => {
    const err = errorOf(() =>
      engine.render(
        "select 1\n{% if true %}\n  {{ exceptions.raise_compiler_error('bad config: ' ~ 3) }}\n{% endif %}",
        makeCtx().ctx,
      ),
    );
    expect(err.code).toBe('WEIR-T005');
    expect(err.message).toBe('bad config: 3');
    expect(err.at).toEqual({ file: 'models/orders.sql', line: 3, column: 6 });
  });

  it('quotes with adapter.quote and passes extra globals', () => {
    const { ctx } = makeCtx({ globals: { partition_start: '2024-01-01', ref: () => 'overridden' } });
    expect(
      engine.render("{{ adapter.quote('my col') }} {{ partition_start }} {{ ref('x') }} {{ execute }}", ctx),
    ).toBe('"my col" 2024-01-01 overridden True');
  });

  it('returns plain SQL untouched (except the final newline, as Jinja)', () => {
    const sql = 'select 1 as "a{b}"\n';
    expect(engine.render(sql, makeCtx().ctx)).toBe('select 1 as "a{b}"');
  });
});

describe('TemplateEngine: project macros', () => {
  const macroFiles: MacroFile[] = [
    {
      path: 'macros/money.sql',
      content: `{% macro cents_to_dollars(column_name, scale=2) -%}
    ({{ column_name }} / 100)::numeric(16, {{ scale }})
{%- endmacro %}

{% macro amount_with_suffix(column_name) -%}
{{ cents_to_dollars(column_name) }} as {{ column_name }}_{{ var('suffix', 'usd') }}
{%- endmacro %}
`,
    },
    {
      path: 'macros/context.sql',
      content: `{% macro where_new() -%}
{% if is_incremental() %}where updated_at > (select max(updated_at) from {{ this }}){% endif %}
{%- endmacro %}

{% macro payment_methods() %}
  {{ return(['credit_card', 'coupon']) }}
{% endmacro %}

{% macro first_non_null(values) %}
  {% for v in values %}
    {% if v is not none %}{% do return(v) %}{% endif %}
  {% endfor %}
  {{ return('none found') }}
{% endmacro %}

{% macro columns_sql(cols) -%}
{% for c in cols %}{{ quoted(c) }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}

{% macro quoted(c) %}{{ return(adapter.quote(c)) }}{% endmacro %}

{% macro wrap(tag='b') %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}
`,
    },
  ];
  const engine = engineWith(macroFiles);

  it('lists the project macros', () => {
    expect(engine.macroNames).toEqual([
      'amount_with_suffix',
      'cents_to_dollars',
      'columns_sql',
      'first_non_null',
      'payment_methods',
      'quoted',
      'where_new',
      'wrap',
    ]);
  });

  it('calls macros by bare name, with defaults and keyword arguments', () => {
    const out = engine.render(
      "select {{ cents_to_dollars('amount') }}, {{ cents_to_dollars('tax', scale=4) }}, {{ cents_to_dollars(column_name='fee', scale=0) }}",
      makeCtx().ctx,
    );
    expect(out).toBe(
      'select (amount / 100)::numeric(16, 2), (tax / 100)::numeric(16, 4), (fee / 100)::numeric(16, 0)',
    );
  });

  it("lets macros call each other and see the calling model's context", () => {
    const template = "{{ amount_with_suffix('price') }}\n{{ where_new() }}";
    const a = engine.render(template, makeCtx({ vars: { suffix: 'eur' } }).ctx);
    expect(a).toBe('(price / 100)::numeric(16, 2) as price_eur\n');
    const b = engine.render(
      template,
      makeCtx({ isIncremental: true, thisRelation: createRelation({ schema: 'marts', identifier: 'fct' }) })
        .ctx,
    );
    expect(b).toBe(
      '(price / 100)::numeric(16, 2) as price_usd\nwhere updated_at > (select max(updated_at) from "marts"."fct")',
    );
  });

  it('gives {% set x = macro() %} the value passed to return(), not text', () => {
    const out = engine.render(
      '{% set methods = payment_methods() %}{{ methods | length }} {{ methods[0] }} {{ methods }}|' +
        "{{ first_non_null([none, none, 'c', 'd']) }}|{{ first_non_null([none]) }}",
      makeCtx().ctx,
    );
    expect(out).toBe("2 credit_card ['credit_card', 'coupon']|c|none found");
  });

  it('keeps loops intact when a macro called inside them returns early', () => {
    expect(engine.render("{{ columns_sql(['a', 'b', 'c']) }}", makeCtx().ctx)).toBe('"a", "b", "c"');
  });

  it('supports caller() with {% call %}', () => {
    expect(engine.render("{% call wrap('i') %}x{{ 1 + 1 }}{% endcall %}", makeCtx().ctx)).toBe('<i>x2</i>');
  });

  it('dispatches adapter-specific implementations and exposes package namespaces', () => {
    const e = new TemplateEngine({
      projectName: 'shop',
      macroFiles: [
        {
          path: 'dbt_packages/utils/macros/sk.sql',
          package: 'utils',
          content:
            "{% macro surrogate_key(cols) %}{{ return(adapter.dispatch('surrogate_key', 'utils')(cols)) }}{% endmacro %}\n" +
            "{% macro default__surrogate_key(cols) %}md5({{ cols | join(' || ') }}){% endmacro %}\n" +
            '{% macro duckdb__surrogate_key(cols) %}hash({{ helper(cols) }}){% endmacro %}\n' +
            "{% macro helper(cols) %}{{ cols | join(', ') }}{% endmacro %}",
        },
      ],
    });
    const { ctx } = makeCtx();
    expect(e.render("{{ utils.surrogate_key(['a', 'b']) }}", ctx)).toBe('hash(a, b)');
    expect(
      e.render("{{ utils.surrogate_key(['a']) }}", { ...ctx, target: { ...ctx.target, type: 'postgres' } }),
    ).toBe('md5(a)');
    expect(e.macroNames).toEqual([]);
    const err = errorOf(() => e.render("{{ surrogate_key(['a']) }}", ctx));
    expect(err.code).toBe('WEIR-T002');
    expect(err.hint).toContain('utils.surrogate_key');
  });

  it('turns generic test blocks into test_<name> macros and ignores docs and materializations', () => {
    const e = new TemplateEngine({
      projectName: 'shop',
      macroFiles: [
        {
          path: 'macros/tests.sql',
          content:
            '{% test is_positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}\n' +
            '{% docs thing %}Some {{ docs }}{% enddocs %}\n' +
            "{% materialization custom, adapter='duckdb' %}{{ nope() }}{% endmaterialization %}\n" +
            '{% macro after() %}{{ undefined_call() }}{% endmacro %}',
        },
      ],
    });
    expect(e.macroNames).toEqual(['after', 'test_is_positive']);
    expect(e.render("{{ test_is_positive(ref('orders'), 'amount') }}", makeCtx().ctx)).toBe(
      '\nselect * from "main"."orders" where amount <= 0\n',
    );
    expect(e.warnings).toHaveLength(1);
    expect(e.warnings[0]).toMatchObject({ code: 'WEIR-T010', at: { file: 'macros/tests.sql', line: 5 } });
    // The blanked-out blocks kept every line in place.
    expect(errorOf(() => e.render('{{ after() }}', makeCtx().ctx)).at).toMatchObject({
      file: 'macros/tests.sql',
      line: 6,
    });
  });
});

describe('TemplateEngine: Jinja features', () => {
  const engine = engineWith();
  const render = (t: string, overrides: Partial<RenderContext> = {}): string =>
    engine.render(t, makeCtx(overrides).ctx);

  it('handles set, block set, for with loop variables, if/elif/else, comments and whitespace control', () => {
    const template =
      '{%- set xs = [1, 2, 3] -%}\nselect\n{%- for x in xs %}\n  {{ x }}{% if not loop.last %},{% endif %}\n{%- endfor %}\n' +
      "{# a comment #}\n{{- ' trimmed' }}\n  {%- if xs | length > 2 %} many{% elif xs %} some{% else %} none{% endif %}\n" +
      "{% set block %}\n  inner {{ xs | join('-') }}\n{% endset %}\n[{{ block | trim }}]\n" +
      "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }}{{ ',' if not loop.last }}{% endfor %}\n" +
      '{% for x in [10, 20] %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.length }}/{{ loop.first }}/{{ loop.last }} {% endfor %}' +
      '{% for x in [] %}x{% else %}empty{% endfor %}';
    // Reference output from Jinja2 3.1.6 for everything up to the last two loops.
    expect(render(template)).toBe(
      'select\n  1,\n  2,\n  3\n trimmed many\n\n[inner 1-2-3]\na=1,b=2\n1/0/2/True/False 2/1/2/False/True empty',
    );
  });

  it('supports do, break/continue, Python methods and operators like Jinja2', () => {
    // Each expectation below was produced by Jinja2 3.1.6 from the same template.
    expect(
      render(
        "{% set xs = [] %}{% do xs.append(1) %}{% do xs.extend([2, 3]) %}{{ xs }} {{ xs | join(', ') }} {{ 'A b C'.lower() }} {{ '  pad '.strip() }} {{ 'x_y_z'.split('_', 1) }} {{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'a b'.replace(' ', '') }} {{ ', '.join(['a', 'b']) }} {{ 'hello world'.title() }} {{ 'ab'.upper() }}",
      ),
    ).toBe("[1, 2, 3] 1, 2, 3 a b c pad ['x', 'y_z'] True True ab a, b Hello World AB");
    expect(
      render(
        "{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}<{{ i }}>{% endfor %} {{ 'x' if none else 'y' }} {{ [1, 2] + [3] }} {{ 'ab' * 2 }} {{ 'a' in 'cat' }} {{ 1 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'cat' }}",
      ),
    ).toBe('<0><2> y [1, 2, 3] abab True True True True');
    expect(
      render(
        "{{ 'a,b'.split(',') }} {{ [1, 'x', none, true] }} {{ {'a': 1} }} {{ none }} {{ True }} {{ 'x' ~ 1 }} {{ 7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 'abc'[::-1] }} {{ 'hello'[1:3] }} {{ [1,2,3][-1] }}",
      ),
    ).toBe("['a', 'b'] [1, 'x', None, True] {'a': 1} None True x1 3 2 1024 cba el 3");
    expect(
      render(
        "{% set d = {'a': 1, 'b': 2} %}{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 5) }} {{ d.keys() | list }} {{ d.values() | list }} {{ d['b'] }} {{ d.a }} {{ '%s-%s' % ('a', 'b') }} {{ '{}-{}'.format('a', 'b') }} {{ '{x}!'.format(x=1) }}",
      ),
    ).toBe("1 None 5 ['a', 'b'] [1, 2] 2 1 a-b a-b 1!");
  });

  it('provides the filters and tests dbt projects use, like Jinja2', () => {
    expect(
      render(
        "{{ [3, 1, 2] | sort }} {{ ['a', 'b'] | map('upper') | join(',') }} {{ [{'n': 1}, {'n': 2}] | map(attribute='n') | list }} {{ 'Hello World' | lower | replace('world', 'there') }} {{ 3.14159 | round(2) }} {{ '42' | int + 1 }} {{ '2.5' | float }} {{ 5 | string ~ 'x' }} {{ {'a': 1, 'b': [1, 2]} | tojson }}",
      ),
    ).toBe('[1, 2, 3] A,B [1, 2] hello there 3.14 43 2.5 5x {"a": 1, "b": [1, 2]}');
    expect(
      render(
        "{{ none is none }} {{ 1 is number }} {{ 'x' is string }} {{ {} is mapping }} {{ [] is iterable }} {{ 3 is not none }} {{ 'a' is defined }} {{ nothing is defined }} {{ 4 is divisibleby(2) }} {{ 3 is odd }}",
      ),
    ).toBe('True True True True True True True False True True');
    expect(
      render(
        "{{ [1, 2, 2, 3] | unique | list }} {{ [3, 9, 2] | min }} {{ [3, 9, 2] | max }} {{ ' a ' | trim }} {{ ['x'] | length }} {{ 'abc' | upper }} {{ 'a-b' | replace('-', '_') }} {{ [{'a': 1, 'ok': true}, {'a': 2, 'ok': false}] | selectattr('ok') | map(attribute='a') | list }} {{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }}",
      ),
    ).toBe('[1, 2, 3] 2 9 a 1 ABC a_b [1] [1, 3] [2, 4]');
    expect(
      render(
        "{{ none | default('d') }}|{{ missing | default('d') }}|{{ '' | default('d', true) }}|{{ 'x' | as_text }}",
      ),
    ).toBe('None|d|d|x');
  });

  it('strips one trailing newline like Jinja and keeps other whitespace (trim_blocks off)', () => {
    // Reference from Jinja2 3.1.6.
    expect(
      render(
        'a\n  {%- if true %}\n  b\n  {%- endif %}\n  c  \n{%- for i in [1,2] -%}\n   {{ i }}\n{%- endfor -%}\n  d\n\n',
      ),
    ).toBe('a\n  b\n  c12d\n');
  });
});

describe('TemplateEngine: errors', () => {
  const macroFiles: MacroFile[] = [
    {
      path: 'macros/helpers.sql',
      content:
        '{% macro outer() %}\n  {{ inner() }}\n{% endmacro %}\n{% macro inner() %}\n  x\n  {{ misspeled_helper(1) }}\n{% endmacro %}\n{% macro misspelled_helper(x) %}{{ x }}{% endmacro %}',
    },
  ];
  const engine = engineWith(macroFiles);

  it('reports an unknown macro on line 7 of a model at line 7, with close names', () => {
    const model = [
      "{{ config(materialized='view') }}",
      '',
      'with source as (',
      "    select * from {{ ref('raw_orders') }}",
      ')',
      'select',
      '    {{ misspelled_helpr(amount) }} as amount',
      'from source',
    ].join('\n');
    const err = errorOf(() => engine.render(model, makeCtx().ctx));
    expect(err.code).toBe('WEIR-T002');
    expect(err.message).toContain("'misspelled_helpr'");
    expect(err.at).toEqual({ file: 'models/orders.sql', line: 7, column: 8 });
    expect(err.hint).toContain("'misspelled_helper'");
    expect(err.node).toBe('model.shop.orders');
  });

  it('adds lineOffset to the line, for snapshot blocks', () => {
    const err = errorOf(() =>
      engine.render('select\n{{ nope() }}', { ...makeCtx().ctx, file: 'snapshots/s.sql', lineOffset: 4 }),
    );
    expect(err.at).toMatchObject({ file: 'snapshots/s.sql', line: 6 });
  });

  it('points an unknown call inside a macro at the macro file line and names the calling model line', () => {
    const err = errorOf(() => engine.render('select\n\n  {{ outer() }}', makeCtx().ctx));
    expect(err.code).toBe('WEIR-T002');
    expect(err.at).toMatchObject({ file: 'macros/helpers.sql', line: 6 });
    expect(err.message).toContain("in macro 'inner'");
    expect(err.message).toContain('called from models/orders.sql:3');
    expect(err.hint).toContain("'misspelled_helper'");
  });

  it('reports Jinja syntax errors as WEIR-T001 at their line, without nunjucks internals', () => {
    const err = errorOf(() =>
      engine.render('select 1\nfrom x\n{% if true %}\n{{ a b }}\n{% endif %}', makeCtx().ctx),
    );
    expect(err.code).toBe('WEIR-T001');
    expect(err.at).toMatchObject({ file: 'models/orders.sql', line: 4 });
    expect(err.message).toMatch(/^Jinja syntax error: /);
    expect(err.message).not.toMatch(/Template render error|unknown path|parse\w+:|node_modules|\n\s+at /);

    const unclosed = errorOf(() =>
      engine.render('select\n{% for x in y %}\n{{ x }}', { ...makeCtx().ctx, lineOffset: 2 }),
    );
    expect(unclosed.code).toBe('WEIR-T001');
    expect(unclosed.hint).toMatch(/end/);

    const tag = errorOf(() => engine.render('{% snapshot s %}{% endsnapshot %}', makeCtx().ctx));
    expect(tag.code).toBe('WEIR-T001');
    expect(tag.message).toContain('unknown block tag: snapshot');
  });

  it('never lets a raw error escape render()', () => {
    const broken = [
      '{{ 1 +  }}',
      '{% for %}',
      '{{ "unterminated }}',
      '{# never closed',
      '{{ none.attr.call() }}',
      '{{ [1, 2] | join(", ", attribute=1, nope=2) }}',
      '{{ 1 in 5 }}',
      '{{ "x" | nosuchfilter }}',
      '{{ 1 is nosuchtest }}',
      '{% include "x.sql" %}',
      '{% break %}',
      '{{ return(1) }}',
      '{{ range(1, 2, 0) }}',
      '{{ "abc"[::0] }}',
      "{{ ref(['a']) }}",
      "{{ source('only_one') }}",
      "{{ config('positional') }}",
      '{{ 5() }}',
      '{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}',
    ];
    for (const template of broken) {
      const err = errorOf(() => engine.render(template, makeCtx().ctx));
      expect(err.code, template).toMatch(/^WEIR-T0\d\d$/);
      expect(err.at?.file, template).toBe('models/orders.sql');
      expect(err.hint, template).toBeTruthy();
    }
  });

  it('reports every macro file problem at once, with file:line', () => {
    const err = errorOf(
      () =>
        new TemplateEngine({
          projectName: 'shop',
          macroFiles: [
            {
              path: 'macros/a.sql',
              content: '{% macro ok() %}1{% endmacro %}\n\n{% macro bad( %}\n{% endmacro %}',
            },
            { path: 'macros/b.sql', content: '{% macro twice() %}2{% endmacro %}' },
            { path: 'macros/c.sql', content: 'text\n{% if x %}never closed' },
            { path: 'macros/d.sql', content: '\n{% macro twice() %}3{% endmacro %}' },
          ],
        }),
    );
    expect(err).toBeInstanceOf(DiagnosticsError);
    const diagnostics = (err as DiagnosticsError).diagnostics.map(
      (d) => `${d.code} ${d.at?.file}:${d.at?.line}`,
    );
    expect(diagnostics).toEqual([
      'WEIR-T001 macros/a.sql:3',
      'WEIR-T001 macros/c.sql:2',
      'WEIR-T009 macros/d.sql:2',
    ]);
    expect((err as DiagnosticsError).diagnostics[2]!.message).toContain('macros/b.sql:1');
  });
});

describe('TemplateEngine: performance', () => {
  it('renders 1,000 distinct models with loops and macro calls well within budget', () => {
    const engine = engineWith([
      {
        path: 'macros/m.sql',
        content:
          '{% macro cents(col, scale=2) %}round({{ col }} / 100, {{ scale }}){% endmacro %}\n' +
          "{% macro cols(prefix) %}{{ return([prefix ~ '_a', prefix ~ '_b', prefix ~ '_c']) }}{% endmacro %}",
      },
    ]);
    const { ctx } = makeCtx();
    const template = (i: number): string => `{{ config(materialized='table') }}
{% set methods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] %}
with src as (
    select * from {{ ref('stg_${i}') }}
),
agg as (
    select
        order_id,
        {% for m in methods -%}
        sum(case when method = '{{ m }}' then amount else 0 end) as {{ m }}_amount,
        {% endfor -%}
        {{ cents('amount') }} as amount_${i}
    from src
    group by order_id
)
select {{ cols('c${i}') | join(', ') }}, * from agg
`;
    const started = performance.now();
    let bytes = 0;
    for (let i = 0; i < 1000; i++) bytes += engine.render(template(i), ctx).length;
    const elapsed = performance.now() - started;
    expect(bytes).toBeGreaterThan(500_000);
    expect(elapsed).toBeLessThan(1500);
  });
});

const CACHE_MACROS: MacroFile[] = [
  {
    path: 'macros/util.sql',
    content: `{% macro cents(col, scale=100) -%}
  ({{ col }} / {{ scale }})::decimal(16, 2)
{%- endmacro %}
{% macro wrap(name) %}[{{ caller() }}|{{ name }}]{% endmacro %}
{% macro pick(items) %}{% for i in items %}{% if i is string %}{{ i | upper }}{% else %}{{ i * 2 }}{% endif %}{% if not loop.last %},{% endif %}{% endfor %}{% endmacro %}`,
  },
];

/** Templates using most of the grammar: each must render the same from a cached tree. */
const CACHE_TEMPLATES = [
  `{{ config(materialized='table') }}select {{ cents('amount') }} from {{ ref('orders') }}`,
  `{% set methods = ['card', 'coupon', 'bank'] %}select{% for m in methods %}
  sum(case when method = '{{ m }}' then amount end) as {{ m }}_amount{{ ',' if not loop.last }}{% endfor %}
from {{ source('shop', 'payments') }}`,
  `{%- if var('full', false) -%} all {%- elif 1 < 2 and not false -%} some {%- else -%} none {%- endif %}`,
  `{% set d = {'a': 1, 'b': [1, 2, 3]} %}{{ d['b'][1:] }} {{ d.a ~ '-' ~ d['b'] | length }} {{ 7 // 2 }} {{ 2 ** 3 }} {{ -3 | abs }}`,
  `{% set acc = [] %}{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}{% do acc.append(i) %}{% endfor %}{{ acc | join(',') }}`,
  `{% call wrap('x') %}inside {{ pick(['a', 3, 'b']) }}{% endcall %}`,
  `{% set block %}multi
line {{ "quoted \\"text\\"" }}{% endset %}{{ block | trim }} {# a comment #}{% raw %}{{ not rendered }}{% endraw %}`,
  `{{ 'yes' if this.identifier == 'orders' else 'no' }} {{ 3 in [1, 2, 3] }} {{ none is none }} {{ true and false or true }}`,
];

const renderAll = (cache: ParseCache | undefined, templates = CACHE_TEMPLATES): string[] => {
  const engine = new TemplateEngine({
    projectName: 'shop',
    macroFiles: CACHE_MACROS,
    ...(cache ? { parseCache: cache } : {}),
  });
  return templates.map((t) => engine.render(t, makeCtx().ctx));
};

describe('ParseCache', () => {
  it('renders every template the same from trees that went through encode and decode', () => {
    const expected = renderAll(undefined);
    const first = ParseCache.empty();
    expect(renderAll(first)).toEqual(expected);
    expect(first.changed).toBe(true);
    // the macro file and every template
    expect(first.size).toBe(CACHE_TEMPLATES.length + 1);

    const second = ParseCache.decode(first.encode());
    expect(renderAll(second)).toEqual(expected);
    // every tree came from the cache: nothing parsed, nothing to write back
    expect(second.changed).toBe(false);
  });

  it('parses a changed template anew and drops the trees of templates no longer used', () => {
    const first = ParseCache.empty();
    renderAll(first);
    const second = ParseCache.decode(first.encode());
    const changed = [...CACHE_TEMPLATES.slice(0, 2), `select {{ cents('price', 1000) }}`];
    expect(renderAll(second, changed)).toEqual(renderAll(undefined, changed));
    expect(second.changed).toBe(true);
    // written back: the macro file, two unchanged templates and the new one
    const third = ParseCache.decode(second.encode());
    renderAll(third, changed);
    expect(third.size).toBe(4);
    expect(third.changed).toBe(false);
  });

  it('starts empty from damaged bytes, another format or another parser version', () => {
    for (const bytes of [
      undefined,
      Buffer.from('not a cache'),
      serialize({ format: 999, parser: 'x', trees: [] }),
      serialize({ format: 1, parser: '0.0.0', trees: [['k', { typename: 'Root' }]] }),
      serialize(null),
    ]) {
      const cache = ParseCache.decode(bytes);
      expect(cache.size).toBe(0);
      expect(renderAll(cache)).toEqual(renderAll(undefined));
    }
  });
});
