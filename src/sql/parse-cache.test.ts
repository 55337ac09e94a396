import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { ParseCache } from './parse-cache.js';
import { createRelation } from './relation.js';
import { TemplateEngine, type MacroFile, type RenderContext } from './template-engine.js';

const MACROS: MacroFile[] = [
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
const TEMPLATES = [
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

function ctx(): RenderContext {
  const config: Record<string, unknown> = {};
  return {
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
  };
}

const renderAll = (cache: ParseCache | undefined, templates = TEMPLATES): string[] => {
  const engine = new TemplateEngine({
    projectName: 'shop',
    macroFiles: MACROS,
    ...(cache ? { parseCache: cache } : {}),
  });
  return templates.map((t) => engine.render(t, ctx()));
};

describe('ParseCache', () => {
  it('renders every template the same from trees that went through encode and decode', () => {
    const expected = renderAll(undefined);
    const first = ParseCache.empty();
    expect(renderAll(first)).toEqual(expected);
    expect(first.changed).toBe(true);
    // the macro file and every template
    expect(first.size).toBe(TEMPLATES.length + 1);

    const second = ParseCache.decode(first.encode());
    expect(renderAll(second)).toEqual(expected);
    // every tree came from the cache: nothing parsed, nothing to write back
    expect(second.changed).toBe(false);
  });

  it('parses a changed template anew and drops the trees of templates no longer used', () => {
    const first = ParseCache.empty();
    renderAll(first);
    const second = ParseCache.decode(first.encode());
    const changed = [...TEMPLATES.slice(0, 2), `select {{ cents('price', 1000) }}`];
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
