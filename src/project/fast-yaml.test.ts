import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseFastYaml } from './fast-yaml.js';
import { parseYamlWithLibrary } from './yaml-tree.js';

/** The fast path must either give up or agree with the library exactly, locations included. */
function agrees(text: string): boolean {
  const fast = parseFastYaml(text);
  if (!fast) return false;
  const slow = parseYamlWithLibrary(text);
  expect(slow.errors, `library found errors the fast path accepted in:\n${text}`).toEqual([]);
  expect(fast.root, text).toEqual(slow.root);
  return true;
}

/** A schema file as dbt users write them (jaffle_shop style). */
const REALISTIC = `version: 2

sources:
  - name: jaffle
    description: The shop database
    schema: raw
    loaded_at_field: _loaded_at
    freshness:
      warn_after: {count: 12, period: hour}
    tables:
      - name: orders
        freshness: null
        meta: {contains_pii: false}
        tests:
          - dbt_utils.unique_combination_of_columns:
              combination_of_columns: [id, user_id]

models:
  - name: customers
    description: One row per customer. {{ doc("customers_intro") }}
    config:
      materialized: view
      tags: [pii]
      +post-hook: "grant select on {{ this }} to reporter"
    docs:
      show: false
    columns:
      - name: customer_id
        description: This is a unique identifier for a customer
        data_type: integer
        tests:
          - unique
          - not_null
      - name: status
        description: '{{ doc("orders_status") }}'
        tests:
          - accepted_values:
              values: ['placed', 'shipped', 'completed', 'return_pending', 'returned']
              config:
                severity: warn
                where: "order_date > '2018-01-01'"
      - name: customer_id
        tests:
          - relationships:
              to: ref('customers')
              field: customer_id
    tests:
      - name: orders_amount_positive
        test_name: dbt_utils.expression_is_true
        expression: "amount >= 0"
  - name: orders
    description: >
      This table has basic information about orders, as well as some derived
      facts based on payments.
`;

const HANDLED: string[] = [
  REALISTIC,
  'version: 2\nmodels:\n  - name: orders\n    config:\n      materialized: table\n',
  'models:\n- name: a\n  tests:\n  - unique\n  - not_null\n- name: b\nother: 1\n',
  'a:\nb:   \nc: ~\nd: null\ne: NULL\nf: true\ng: False\nh: 1\ni: -2\nj: 0o17\nk: 0x1F\nl: 1e3\nm: .5\nn: +1\no: -.inf\np: .NaN\nq: 1_000\nr: 012\ns: 1.\nt: 2018-01-01\n',
  "a: 'it''s'\nb: \"tab\\there \\u00e9 \\x41 \\\\ \\\"q\\\"\"\nc: '{{ doc(\"x\") }}'\nd: \"{{ env_var('X', 'y') }}\"\n",
  'a: [x, "y", {k: v, "q": [1, 2.5, true]}, []]\nb: {}\nc: [ a , b ]\nd: {count: 12, period: hour}\n',
  'a: value # comment\nb: "q" # c\n# full comment\n  # indented comment\nc: a#b\nd: http://x.y/z?q=1\n',
  'desc: |\n  line one\n  line two\n\n  after blank\nnext: |-\n  stripped\nfold: >\n  a\n  b\n\n  c\nfold2: >-\n  x\n  y\nlast: 1\n',
  'list:\n  - |\n    in a list\n  - >-\n    folded\n    here\n',
  "1: one\ntrue: yes\n2.0: two\n'+materialized': table\n+tags: [a, b]\nkey with spaces: v\n",
  'a:\n  b:\n    c:\n      - d: 1\n        e:\n          - f\n  g: 2\n',
  'top:\r\n  key: value\r\n  list:\r\n    - x\r\n',
  '-\n  name: a\n- b\n',
  '    indented: map\n    second: 2\n',
  '',
  '# only a comment\n\n',
  "where: status != 'returned'\nexpression: amount >= 0\nto: ref('customers')\n",
  'key : v\n',
  '-   name: a   # c\n    b: 1\n',
  'm:\n  - name: a\n    description: |\n      # not a comment\n      text\n    tags: [x]\n  - name: b\n',
  'a: |\n  x\n# comment at 0\nb: 1\n',
  'a: >\n  x\n\n\n  y\n',
  'a:\n  - x\n  -\n    y: 1\n',
  '"a": 1\n"a b" : 2\n',
  'a: 1 # c\n  # c2\nb: 2\n',
  'x: [a, b, ]\ny: [ ]\nz: {a: 1, }\n',
];

const FALLBACK: string[] = [
  'a: &x 1\nb: *x\n',
  'a: !!str 1\n',
  '---\na: 1\n',
  'a: b: c\n',
  'a: "unclosed\n',
  'a: [1,\n  2]\n',
  'a: plain\n  continued\n',
  'a:\n\tb: 1\n',
  '? complex\n: key\n',
  'a: 1\na: 2\n',
  'a: |+\n  keep\n\n',
  'a: |2\n    explicit\n',
  'a: >\n  x\n    more indented\n  y\n',
  'base: &b {x: 1}\nm:\n  <<: *b\n',
  'a: {{ doc("x") }}\n',
  'just a scalar\n',
  'a: # comment\n  b: 1\n',
  'a: - b\n',
  'a: [b: c]\n',
  '- a\n- - b\n',
  'a: {"k":1}\n',
  'a: "x" y\n',
  'a: [x] y\n',
  'b: - 1\n',
  'k: v:\n',
  'a: x\n b: y\n',
  'a:\n  x\n',
  'a: |\n\n  x\n',
];

describe('fast YAML path', () => {
  it.each(HANDLED.map((t) => [t]))('agrees with the library on %j', (text) => {
    expect(agrees(text)).toBe(true);
  });

  it.each(FALLBACK.map((t) => [t]))('hands %j to the library', (text) => {
    expect(parseFastYaml(text)).toBeUndefined();
  });

  it('agrees with the library on generated documents', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const words = [
      'orders',
      'a b',
      'it\'s "quoted"',
      'x: y',
      'a #b',
      '#c',
      '- d',
      'true',
      'null',
      '1e3',
      '0x1F',
      '012',
      '',
      ' lead',
      'trail ',
      'é ü',
      '{{ ref("x") }}',
      '[a]',
      'multi\nline',
      'multi\n\nblank\n',
      'ends\n',
      '@at',
      '%p',
      "'",
      'tab\there',
    ];
    const scalar = (): unknown =>
      pick<() => unknown>([
        () => pick(words),
        () => Math.floor(random() * 1000) - 500,
        () => random() * 100,
        () => random() < 0.5,
        () => null,
      ])();
    const value = (depth: number): unknown => {
      if (depth > 3 || random() < 0.35) return scalar();
      if (random() < 0.5) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      const out: Record<string, unknown> = {};
      for (let k = Math.floor(random() * 4); k > 0; k--)
        out[`${pick(['k', 'name', 'x y', '+tag', 'n1'])}${k}`] = value(depth + 1);
      return out;
    };
    let handled = 0;
    const total = 400;
    for (let n = 0; n < total; n++) {
      const doc = { root: value(0) };
      const text = stringify(doc, {
        indentSeq: random() < 0.5,
        indent: pick([2, 4]),
        lineWidth: 0,
        flowCollectionPadding: random() < 0.5,
        collectionStyle: random() < 0.2 ? 'flow' : 'any',
        defaultStringType: pick([
          'PLAIN',
          'QUOTE_DOUBLE',
          'QUOTE_SINGLE',
          'BLOCK_LITERAL',
          'BLOCK_FOLDED',
        ] as const),
      });
      if (agrees(text)) handled++;
    }
    // Most generated documents are plain enough for the fast path; the rest went to the library.
    expect(handled).toBeGreaterThan(total / 3);
  });
});
