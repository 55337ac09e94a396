import { describe, expect, it } from 'vitest';
import { TemplateSyntaxError, parseTemplate, type AstNode } from './nunjucks-parse.js';

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
  // Lexer corners: escapes, floats, regexes, operators at the very end, odd whitespace and text.
  "{{ 'it\\'s' ~ \"a\\tb\" ~ 'multi\nline' }} {{ 1.5 + 2. }} {{ r/a+b/gi }}",
  '{{ a === b }}{{ a !== b }}{{ a <= b >= c }}{{ 2 ** 3 // 4 }}{{ x != y }}',
  '{{ x\u00a0}}\t{%\tif\u00a0x\t%}{%endif%}',
  'a { b } # c d',
  'text {not a tag} # hash { {{ x }} {',
  '{#- trimmed -#} {#}#} {##}',
  '{{ none }} {{ null }} {{ true }} {{ false }} {{ 12 }} {{ x1.y2 }} {{ caf\u00e9 }}',
];

/** Jinja-ish text from fragments: most of it does not parse, all of it must lex and fail alike. */
function generatedTemplates(count: number, seed: number): string[] {
  const fragments = [
    '{{ ',
    ' }}',
    '{% ',
    ' %}',
    '{# ',
    ' #}',
    '{%- ',
    ' -%}',
    '{{- ',
    ' -}}',
    ' ',
    '\n',
    '\r\n',
    '\t',
    '\u00a0',
    'x',
    'a.b',
    '[1, 2]',
    '(1)',
    "'s'",
    '"d"',
    "'e\\'x'",
    '1.5',
    '3',
    '3.',
    'if x',
    'endif',
    'for i in xs',
    'endfor',
    'set y = 2',
    'raw',
    'endraw',
    'else',
    '|join(",")',
    ' is none',
    ' ~ ',
    'x[1:]',
    '==',
    '===',
    '!=',
    '<=',
    '**',
    '//',
    'not',
    'f(a, b=1)',
    'macro m(a)',
    'endmacro',
    'do x.append(1)',
    'r/ab/g',
    '#}',
    '{#',
    '{',
    '#',
    '}',
    '%',
    '-',
    'true',
    'none',
    '\u00e9',
  ];
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + next(14) }, () => fragments[next(fragments.length)]).join(''),
  );
}

function parseOutcome(template: string, fastLexer: boolean): string {
  try {
    return shape(parseTemplate(template, { fastLexer }));
  } catch (err: unknown) {
    const e = err as TemplateSyntaxError;
    return `${e.name}: ${e.message} at ${e.line}:${e.column}`;
  }
}

describe('parseTemplate', () => {
  it('builds the same tree with the fast lexer as with the stock nunjucks lexer', () => {
    for (const template of CORPUS) {
      expect(shape(parseTemplate(template)), template).toBe(
        shape(parseTemplate(template, { fastLexer: false })),
      );
    }
  });

  it('gives the same tree or the same error with the fast lexer on generated templates', () => {
    for (const template of generatedTemplates(1500, 7)) {
      expect(parseOutcome(template, true), JSON.stringify(template)).toBe(parseOutcome(template, false));
    }
  });

  it("keeps nunjucks' node type names and fields (absent ones null)", () => {
    const compact = (node: unknown): unknown => {
      if (node === undefined) return 'undefined';
      if (node === null || typeof node !== 'object') return node;
      if (Array.isArray(node)) return node.map(compact);
      const n = node as AstNode & { fields: readonly string[] };
      return [n.typename, ...n.fields.map((f) => compact((n as unknown as Record<string, unknown>)[f]))];
    };
    const tree = parseTemplate(
      "{% if a %}{{ f(1, k='v') }}{% else %}x{% endif %}{% for i in [2] %}{{ i.y }}{% endfor %}",
    );
    // What stock nunjucks (nunjucks.parser.parse) builds for the same template.
    expect(JSON.stringify(compact(tree))).toBe(
      '["Root",[["If",["Symbol","a"],["NodeList",[["Output",[["FunCall",["Symbol","f"],["NodeList",' +
        '[["Literal",1],["KeywordArgs",[["Pair",["Symbol","k"],["Literal","v"]]]]]]]]]]],["NodeList",' +
        '[["Output",[["TemplateData","x"]]]]]],["For",["Array",[["Literal",2]]],["Symbol","i"],' +
        '["NodeList",[["Output",[["LookupVal",["Symbol","i"],["Literal","y"]]]]]],null]]]',
    );
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
