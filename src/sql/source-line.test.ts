import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { createRelation } from './relation.js';
import { sourceLineFor } from './source-line.js';
import { TemplateEngine, type RenderContext } from './template-engine.js';

const ctx: RenderContext = {
  file: 'models/m.sql',
  ref: (args) => createRelation({ schema: 'main', identifier: args[0]! }),
  source: (s, t) => createRelation({ schema: s, identifier: t }),
  config: { set: () => undefined, get: () => undefined },
  vars: {},
  env: {},
  target: {},
  isIncremental: false,
};

const TEMPLATE = `{{ config(materialized='table') }}
{% set cols = ['a', 'b', 'c'] %}
-- header comment
with src as (
    select * from {{ ref('src') }}
),
picked as (
    select
        {% for c in cols -%}
        {{ c }} as col_{{ c }},
        {% endfor -%}
        1 as one
    from src
)
select
    one,
    missing_column
from picked
`;

describe('sourceLineFor', () => {
  const rendered = new TemplateEngine({ projectName: 'p', macroFiles: [] }).render(TEMPLATE, ctx);
  const renderedLines = rendered.split('\n');
  const lineOf = (text: string): number => renderedLines.findIndex((l) => l.includes(text)) + 1;

  it('maps literal lines, lines with expressions and loop output back to the template', () => {
    expect(sourceLineFor(TEMPLATE, rendered, lineOf('header comment'))).toBe(3);
    expect(sourceLineFor(TEMPLATE, rendered, lineOf('select * from "main"."src"'))).toBe(5);
    expect(sourceLineFor(TEMPLATE, rendered, lineOf('b as col_b'))).toBe(10);
    expect(sourceLineFor(TEMPLATE, rendered, lineOf('missing_column'))).toBe(17);
  });

  it('prefers the candidate that keeps rendered and template lines in order', () => {
    const template = 'select 1\nfrom x\nunion all\n{% if true %}select 2{% endif %}\nfrom x';
    const out = 'select 1\nfrom x\nunion all\nselect 2\nfrom x';
    expect(sourceLineFor(template, out, 2)).toBe(2);
    expect(sourceLineFor(template, out, 5)).toBe(5);
  });

  it('returns undefined for blank or unrecognisable lines and out-of-range input', () => {
    expect(sourceLineFor(TEMPLATE, rendered, 1)).toBeUndefined();
    expect(sourceLineFor('a\nb', 'zzz', 1)).toBeUndefined();
    expect(sourceLineFor('a', 'a', 0)).toBeUndefined();
    expect(sourceLineFor('a', 'a', 5)).toBeUndefined();
  });

  it('turns the LINE of a real DuckDB error into the model line', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      await conn.run('create table src as select 1 as a, 2 as b, 3 as c');
      let message = '';
      try {
        await conn.run(rendered);
      } catch (err: unknown) {
        message = (err as Error).message;
      }
      const line = /LINE (\d+):/.exec(message);
      expect(line, message).not.toBeNull();
      expect(sourceLineFor(TEMPLATE, rendered, Number(line![1]))).toBe(17);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
