import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../core/diagnostics.js';
import { readSchemaFile } from './schema-files.js';
import { parseYaml } from './yaml-tree.js';

function read(text: string) {
  const diags = new Diagnostics();
  const content = readSchemaFile(parseYaml(text).root, {
    file: 'models/s.yml',
    dirParts: ['s'],
    docs: {},
    diags,
  });
  return { content, diags: diags.items };
}

describe('schema yml files', () => {
  it('reads every form of test entry', () => {
    const { content, diags } = read(
      [
        'version: 2',
        'models:',
        '  - name: m',
        '    data_tests:',
        '      - dbt_utils.equal_rowcount:',
        '          arguments:',
        "            compare_model: ref('other')",
        '          config: {severity: warn}',
        '      - test_name: unique',
        '        name: m_unique_id',
        '        column_name: id',
        '        description: ids are unique',
        '    columns:',
        '      - name: id',
        '        config: {meta: {pii: false}, tags: [key]}',
        '        tests:',
        '          - not_null',
        '          - accepted_values: {values: [1, 2], quote: false, severity: warn, enabled: true}',
      ].join('\n'),
    );
    expect(diags).toEqual([]);
    const [patch] = content.patches;
    expect(patch?.columns.id).toEqual({ name: 'id', description: '', meta: { pii: false }, tags: ['key'] });
    expect(
      patch?.tests.map((t) => [t.testName, t.kwargs, t.config, t.customName, t.columnName, t.inheritedTags]),
    ).toEqual([
      [
        'dbt_utils.equal_rowcount',
        { compare_model: "ref('other')" },
        { severity: 'warn' },
        undefined,
        undefined,
        [],
      ],
      ['unique', { column_name: 'id' }, {}, 'm_unique_id', 'id', []],
      ['not_null', { column_name: 'id' }, {}, undefined, 'id', ['key']],
      [
        'accepted_values',
        { values: [1, 2], quote: false, column_name: 'id' },
        { severity: 'warn', enabled: true },
        undefined,
        'id',
        ['key'],
      ],
    ]);
    expect(patch?.tests[1]?.description).toBe('ids are unique');
  });

  it('reads sources with inherited freshness, null to turn it off, and reports a bad period', () => {
    const { content, diags } = read(
      [
        'sources:',
        '  - name: shop',
        '    database: lake',
        '    freshness: {warn_after: {count: 1, period: day}}',
        '    tables:',
        '      - name: a',
        '      - name: b',
        '        freshness: null',
        '      - name: c',
        '        freshness: {error_after: {count: 2, period: weeks}}',
      ].join('\n'),
    );
    expect(content.sources.map((s) => [s.name, s.schema, s.database, s.freshness])).toEqual([
      ['a', 'shop', 'lake', { warn_after: { count: 1, period: 'day' } }],
      ['b', 'shop', 'lake', undefined],
      ['c', 'shop', 'lake', { warn_after: { count: 1, period: 'day' } }],
    ]);
    expect(diags.map((d) => [d.code, d.at?.line])).toEqual([['WEIR-P003', 10]]);
  });

  it('reports structural problems where they are', () => {
    const { diags } = read(
      [
        'models:',
        '  - description: no name',
        '  - name: ok',
        '    columns: {id: {}}',
        'seeds: not a list',
        'metricz: []',
      ].join('\n'),
    );
    expect(diags.map((d) => [d.code, d.severity, d.at?.line])).toEqual([
      ['WEIR-P004', 'error', 2],
      ['WEIR-P003', 'error', 4],
      ['WEIR-P003', 'error', 5],
      ['WEIR-P012', 'warning', 6],
    ]);
  });
});
