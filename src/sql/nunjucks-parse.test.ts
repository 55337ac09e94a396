import { describe, expect, it } from 'vitest';
import { TemplateSyntaxError, parseTemplate } from './nunjucks-parse.js';

/** The tree without parent links, for comparing two parses. */
function shape(node: unknown): string {
  return JSON.stringify(node, (key, value: unknown) => (key === 'parent' ? undefined : value));
}

const CORPUS = [
  'select 1',
  "{{ config(materialized='table') }}\nselect * from {{ ref('a') }}\n",
  '{%- set xs = [1, 2.5, -3, "x\\n", \'y\'] -%}\n{% for x in xs %}\n  {{ x }}{% if not loop.last %},{% endif %}\n{%- endfor %}',
  '{# comment\nwith lines #}\n{{- a.b["c"](d, e=1) | join(", ") -}}\n  tail',
  "{% macro m(a, b='x') %}{{ caller() }}{% endmacro %}{% call m(1) %}body{% endcall %}",
  '{% raw %}{{ not rendered }}{% endraw %}\n\u00e9\u00e8 unicode \u2028 text',
  "{{ x[1:] }} {{ 'abc'[::-1] }} {{ a if b else c }} {{ 1 // 2 ** 3 }} {{ x is not none }} {{ 'a' ~ 'b' }}",
  '{% do xs.append(1) %}{% for i in range(3) %}{% if i %}{% break %}{% endif %}{% endfor %}',
  '   {%- if x -%}   a   {%- elif y -%} b {%- else -%} c {%- endif -%}   ',
  'line\r\nwindows\r\n{{ x }}\r\n',
];

describe('parseTemplate', () => {
  it('builds the same tree with the fast lexer as with the stock nunjucks lexer', () => {
    for (const template of CORPUS) {
      expect(shape(parseTemplate(template)), template).toBe(
        shape(parseTemplate(template, { fastLexer: false })),
      );
    }
  });

  it('reports syntax errors with a clean message and a 1-based position', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['a\nb\n{{ x y }}', 3, /expected variable end/],
      ['{% if x %}\n\n', 1, /'if' block is never closed \(expected elif, else, or endif/],
      [
        '{% for a in b %}\n{% if c %}{% endif %}\n  {% set x %}\n{% endfor %}',
        4,
        /'endfor' does not close the 'set' block opened on line 3/,
      ],
      [
        '{% for a in b %}\n\n{% if c %}{% endfor %}',
        3,
        /'endfor' does not close the 'if' block opened on line 3/,
      ],
      ['ok\n{% frobnicate %}', 2, /unknown block tag: frobnicate/],
      ['{# open\n\ncomment', 3, /expected end of comment/],
      ['{{ f(1,, 2) }}', 1, /unexpected token/],
    ];
    for (const [template, line, message] of cases) {
      let caught: unknown;
      try {
        parseTemplate(template);
      } catch (err: unknown) {
        caught = err;
      }
      expect(caught, template).toBeInstanceOf(TemplateSyntaxError);
      const err = caught as TemplateSyntaxError;
      expect(err.message, template).toMatch(message);
      expect(err.message, template).not.toMatch(/^parse\w*:|Template render error|\(unknown path\)/);
      expect(err.line, template).toBe(line);
    }
  });
});
