import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckRecord } from '../src/core/quality-store.js';
import { checkRowOf, junitXml, resultCells, resultsDocument, type CheckRow } from '../src/quality/results.js';
import { runChecks } from '../src/quality/run-checks.js';
import { scoreChecks, tableScore, textSparkline } from '../src/quality/score.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { openSqliteQualityStore } from '../src/state/sqlite/sqlite-quality-store.js';
import { openSqliteStateStore } from '../src/state/sqlite/sqlite-state-store.js';
import { resultFormat } from '../src/cli/commands-quality.js';
import { MINIMAL_PROJECT, runCli, writeProject } from './helpers/cli.js';

/*
 * Results of checks: the text cells, the GE-style JSON document, JUnit XML (parsed by a strict
 * well-formedness checker below), and the quality score over the QualityStore.
 */

async function realResults(): Promise<CheckRow[]> {
  const engine = await createDuckDbEngine();
  const session = await engine.session();
  try {
    await session.exec(
      `CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a', 5), (2, 'b', 50), (2, NULL, 7), (4, 'x<&>"', 9)) v(id, code, amount)`,
    );
    const results = await runChecks(
      session,
      [
        { id: 'c1', name: 'id_not_null', type: 'not_null', column: 'id', kwargs: {}, severity: 'error' },
        { id: 'c2', name: 'id_unique', type: 'unique', column: 'id', kwargs: {}, severity: 'error' },
        {
          id: 'c3',
          name: 'amount_between',
          type: 'expect_column_values_to_be_between',
          column: 'amount',
          kwargs: { min_value: 0, max_value: 10 },
          severity: 'warn',
        },
        {
          id: 'c4',
          name: 'code_in_set',
          type: 'expect_column_values_to_be_in_set',
          column: 'code',
          kwargs: { value_set: ['a', 'b'] },
          severity: 'error',
        },
        {
          id: 'c5',
          name: 'bad_column',
          type: 'expect_column_mean_to_be_between',
          column: 'nope',
          kwargs: { min_value: 0, max_value: 1 },
          severity: 'error',
        },
        {
          id: 'c6',
          name: 'mean',
          type: 'expect_column_mean_to_be_between',
          column: 'amount',
          kwargs: { min_value: 0, max_value: 100 },
          severity: 'error',
        },
      ],
      { relation: 't' },
    );
    return results.map((r) => checkRowOf('main.t', r, { column: r.column }));
  } finally {
    session.close();
    await engine.close();
  }
}

describe('check results', () => {
  it('renders GE semantics in the table cells and the JSON document', async () => {
    const rows = await realResults();
    const byName = new Map(rows.map((r) => [r.name, r]));
    expect(byName.get('amount_between')?.status).toBe('warn');
    expect(resultCells(byName.get('amount_between') as CheckRow)).toMatchObject({
      status: 'warn',
      unexpected: '1 (25%)',
    });
    // nulls are excluded from the denominator: 1 of 3 non-null codes is outside the set
    expect(resultCells(byName.get('code_in_set') as CheckRow).unexpected).toBe('1 (33.3333%)');
    expect(resultCells(byName.get('mean') as CheckRow).observed).toBe('17.75');
    expect(byName.get('bad_column')?.status).toBe('error');

    const doc = resultsDocument('run-1', rows);
    expect(doc.run_id).toBe('run-1');
    expect(doc.success).toBe(false);
    expect(doc.counts).toEqual({ pass: 2, warn: 1, fail: 2, error: 1, skipped: 0 });
    expect(doc.statistics).toMatchObject({ evaluated_expectations: 6, successful_expectations: 2 });
    const inSet = doc.results.find((r) => r.meta['check'] === 'code_in_set');
    expect(inSet).toMatchObject({
      expectation_type: 'expect_column_values_to_be_in_set',
      success: false,
      kwargs: { column: 'code' },
      result: { element_count: 4, unexpected_count: 1, partial_unexpected_list: ['x<&>"'], missing_count: 1 },
      exception_info: { raised_exception: false },
    });
    const errored = doc.results.find((r) => r.meta['check'] === 'bad_column');
    expect(errored?.exception_info.raised_exception).toBe(true);
    expect(errored?.exception_info.exception_message).toMatch(/nope/);
    expect(errored?.success).toBeNull();
  }, 30_000);

  it('writes well-formed JUnit XML: a suite per table, failure/error elements with samples', async () => {
    const rows = await realResults();
    const other: CheckRow = {
      ...(rows[0] as CheckRow),
      asset: 'main.other',
      id: 'o1',
      name: 'skipped_one',
      status: 'skipped',
      success: null,
      message: 'upstream failed',
    };
    const xml = junitXml('run-7', [...rows, other]);
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '7', failures: '2', errors: '1', skipped: '1' });
    const suites = findAll(root, 'testsuite');
    expect(suites.map((s) => s.attrs['name'])).toEqual(['main.other', 'main.t']);
    const t = suites[1] as XmlElement;
    expect(t.attrs).toMatchObject({ tests: '6', failures: '2', errors: '1' });
    expect(findAll(t, 'property')[0]?.attrs).toEqual({ name: 'run_id', value: 'run-7' });
    const cases = findAll(t, 'testcase');
    expect(cases).toHaveLength(6);
    const inSet = cases.find((c) => c.attrs['name'] === 'code_in_set') as XmlElement;
    const failure = findAll(inSet, 'failure')[0];
    expect(failure?.attrs['type']).toBe('expect_column_values_to_be_in_set');
    expect(failure?.text).toContain('sample unexpected values: x<&>"');
    expect(failure?.text).toContain('unexpected: 1 (33.3333%)');
    const err = findAll(cases.find((c) => c.attrs['name'] === 'bad_column') as XmlElement, 'error')[0];
    expect(err?.attrs['message']).toMatch(/nope/);
    const warn = cases.find((c) => c.attrs['name'] === 'amount_between') as XmlElement;
    expect(findAll(warn, 'failure')).toHaveLength(0);
    expect(findAll(warn, 'system-out')[0]?.text).toMatch(/^WARN /);
    expect(findAll(suites[0] as XmlElement, 'skipped')).toHaveLength(1);
    // the checker itself refuses broken XML
    expect(() => parseXml('<a><b></a>')).toThrow(/mismatched/);
    expect(() => parseXml('<a x="1 & 2"/>')).toThrow(/bare &/);
  }, 30_000);
});

describe('quality score', () => {
  it('weights by severity: error 3, warn 1; a warn status costs 1; errors count as failed', () => {
    const c = (checkId: string, severity: string, status: string) => ({ checkId, severity, status });
    expect(scoreChecks([]).score).toBeNull();
    expect(scoreChecks([c('a', 'error', 'pass'), c('b', 'warn', 'pass')]).score).toBe(100);
    // total 3+3+1 = 7; failed error check 3 → 100 × 4/7
    expect(
      scoreChecks([c('a', 'error', 'fail'), c('b', 'error', 'pass'), c('w', 'warn', 'pass')]).score,
    ).toBe(57.1);
    expect(scoreChecks([c('a', 'error', 'error'), c('w', 'warn', 'warn')]).score).toBe(0);
    // an error-severity check in dbt's warn_if zone costs a warning's weight
    expect(scoreChecks([c('a', 'error', 'warn'), c('b', 'error', 'pass')]).score).toBe(83.3);
    // the last record of a check id counts
    expect(scoreChecks([c('a', 'error', 'fail'), c('a', 'error', 'pass')]).score).toBe(100);
    expect(textSparkline([0, 50, 100, null])).toBe('▁▅█ ');
  });

  it('computes the trend from the QualityStore, newest run last', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-score-'));
    const path = join(dir, 'state.db');
    const state = await openSqliteStateStore(path);
    await state.init();
    const store = await openSqliteQualityStore(path);
    try {
      const rec = (
        runId: string,
        day: number,
        checkId: string,
        severity: string,
        status: string,
      ): CheckRecord => ({
        runId,
        at: `2024-03-0${day}T06:00:00.000Z`,
        asset: 'main.orders',
        checkId,
        name: checkId,
        type: 'not_null',
        column: 'id',
        severity,
        origin: 'schema',
        status,
        observedValue: null,
        elementCount: 10,
        unexpectedCount: status === 'pass' ? 0 : 2,
        failures: status === 'pass' ? 0 : 2,
        message: status,
        samples: [],
      });
      await store.recordChecks([rec('r1', 1, 'a', 'error', 'pass'), rec('r1', 1, 'b', 'warn', 'pass')]);
      await store.recordChecks([rec('r2', 2, 'a', 'error', 'fail'), rec('r2', 2, 'b', 'warn', 'pass')]);
      await store.recordChecks([rec('r3', 3, 'a', 'error', 'pass'), rec('r3', 3, 'b', 'warn', 'warn')]);
      const s = await tableScore(store, 'main.orders', 10);
      expect(s.trend.map((p) => [p.runId, p.score])).toEqual([
        ['r1', 100],
        ['r2', 25],
        ['r3', 75],
      ]);
      expect(s.latest?.runId).toBe('r3');
      expect(s.change).toBe(50);
      expect(s.checks).toHaveLength(2);
      const two = await tableScore(store, 'main.orders', 2);
      expect(two.trend.map((p) => p.runId)).toEqual(['r2', 'r3']);
    } finally {
      await store.close();
      await state.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('weir test --output', () => {
  it('prints a results table, a JSON document and JUnit XML from the CLI', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/orders.sql': `{{ config(materialized='table') }}
select * from (values (1, 'placed', 10), (2, 'bogus', 20), (3, 'placed', 900)) t(id, status, amount)
`,
      'models/schema.yml': `version: 2
models:
  - name: orders
    columns:
      - name: id
        tests: [not_null, unique]
      - name: status
        tests:
          - accepted_values: {values: [placed, shipped], config: {severity: warn}}
      - name: amount
        tests:
          - expect_column_values_to_be_between: {min_value: 0, max_value: 100, config: {severity: warn}}
`,
      'tests/no_negative.sql': `select * from {{ ref('orders') }} where amount < 0\n`,
    });
    const build = await runCli(['build'], { cwd: dir });
    expect(build.code, build.stderr).toBe(0);
    // build shows the table because checks warned
    expect(build.stdout).toMatch(/table\s+check\s+status\s+observed\s+unexpected/);

    const text = await runCli(['test'], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/of 5 PASS\s+test not_null_orders_id/); // progress kept
    expect(text.stdout).toMatch(
      /main\.orders\s+expect_column_values_to_be_between_orders_amount\S*\s+warn\s+1 \(33\.3333%\)/,
    );
    expect(text.stdout).toMatch(/main\.orders\s+no_negative\s+pass/);

    const json = await runCli(['test', '--output', 'json'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as ReturnType<typeof resultsDocument>;
    expect(doc.run_id).toMatch(/^\d{8}T/);
    expect(doc.counts).toEqual({ pass: 3, warn: 2, fail: 0, error: 0, skipped: 0 });
    const between = doc.results.find((r) => r.expectation_type === 'expect_column_values_to_be_between');
    expect(between?.kwargs).toMatchObject({ column: 'amount', min_value: 0, max_value: 100 });
    expect(between?.result).toMatchObject({
      element_count: 3,
      unexpected_count: 1,
      partial_unexpected_list: [900],
    });
    expect(json.stderr).toContain('Running 5 nodes');

    const junit = await runCli(['test', '--output', 'junit', '-s', 'orders'], { cwd: dir });
    const root = parseXml(junit.stdout);
    expect(findAll(root, 'testsuite').map((s) => s.attrs['name'])).toEqual(['main.orders']);
    expect(findAll(root, 'testcase')).toHaveLength(5);

    expect(() => resultFormat('yaml')).toThrow(expect.objectContaining({ code: 'WEIR-Q043' }));
    expect(resultFormat(undefined)).toBe('text');
    const bad = await runCli(['test', '--output', 'yaml'], { cwd: dir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Allowed choices are text, json, junit/);
  }, 90_000);
});
interface XmlElement {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_][\w.:-]*/;

function decode(raw: string, at: number): string {
  return raw.replace(/&([^;]*);?/g, (m, ent: string) => {
    if (!m.endsWith(';')) throw new Error(`bare & at ${at}`);
    const known: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (ent in known) return known[ent] ?? '';
    if (/^#x[0-9a-fA-F]+$/.test(ent)) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (/^#[0-9]+$/.test(ent)) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    throw new Error(`unknown entity &${ent}; at ${at}`);
  });
}

function parseXml(xml: string): XmlElement {
  let i = 0;
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    if (text.includes('>')) throw new Error(`stray > at ${i}`);
    if (stack.length) {
      const top = stack[stack.length - 1];
      if (top) top.text += decode(text, i);
    } else if (text.trim()) throw new Error(`text outside the root at ${i}`);
    if (lt === -1) break;
    const gt = xml.indexOf('>', lt);
    if (gt === -1) throw new Error(`unclosed tag at ${lt}`);
    const tag = xml.slice(lt + 1, gt);
    if (tag.startsWith('/')) {
      const open = stack.pop();
      if (!open || open.name !== tag.slice(1).trim())
        throw new Error(`mismatched </${tag.slice(1)}> at ${lt}`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const name = NAME.exec(body)?.[0];
      if (!name) throw new Error(`bad tag name at ${lt}`);
      const attrs: Record<string, string> = {};
      let rest = body.slice(name.length);
      const attr = /^\s+([A-Za-z_][\w.:-]*)="([^"<]*)"/;
      for (let m = attr.exec(rest); m; m = attr.exec(rest)) {
        const [all, key = '', value = ''] = m;
        if (key in attrs) throw new Error(`duplicate attribute ${key} at ${lt}`);
        attrs[key] = decode(value, lt);
        rest = rest.slice(all.length);
      }
      if (rest.trim()) throw new Error(`bad attributes '${rest}' at ${lt}`);
      const el: XmlElement = { name, attrs, children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root) throw new Error(`second root at ${lt}`);
      else root = el;
      if (!selfClosing) stack.push(el);
    }
    i = gt + 1;
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1]?.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

function findAll(el: XmlElement, name: string): XmlElement[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => findAll(c, name))];
}
