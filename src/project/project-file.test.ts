import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../core/diagnostics.js';
import { normalizeRelPath, readProjectFile } from './project-file.js';
import { parseYaml } from './yaml-tree.js';

function read(text: string) {
  const diags = new Diagnostics();
  const info = readProjectFile(parseYaml(text).root, 'dbt_project.yml', diags);
  return { info, diags: diags.items };
}

describe('dbt_project.yml', () => {
  it('reads names, paths (with legacy names), vars and hooks', () => {
    const { info, diags } = read(
      [
        'name: shop',
        'version: 1.0',
        'profile: shop_profile',
        'source-paths: [transform, ./more/]',
        'data-paths: [data]',
        'docs-paths: [docs]',
        'vars:',
        '  start: 2020-01-01',
        '  shop: {limit: 10}',
        'on-run-start: "create schema if not exists x"',
        'on-run-end: ["select 1", "select 2"]',
        'quoting: {identifier: false}',
        'query-comment: null',
        'flags: {send_anonymous_usage_stats: false}',
        'require-dbt-version: ">=1.5.0"',
      ].join('\n'),
    );
    expect(diags).toEqual([]);
    expect(info).toMatchObject({
      name: 'shop',
      version: '1',
      profileName: 'shop_profile',
      paths: { models: ['transform', 'more'], seeds: ['data'], docs: ['docs'], target: 'target' },
      docsConfigured: true,
      vars: { start: '2020-01-01', limit: 10 },
      onRunStart: ['create schema if not exists x'],
      onRunEnd: ['select 1', 'select 2'],
    });
  });

  it('warns about unknown keys with a close name', () => {
    const { diags } = read('name: shop\nmodel-path: [models]\n');
    expect(diags).toMatchObject([{ code: 'WEIR-P010', severity: 'warning', at: { line: 2 } }]);
    expect(diags[0]?.message).toContain("Did you mean 'model-paths'?");
  });

  it('reports a missing or invalid name, and wrong types at their line', () => {
    expect(read('version: 1\n').diags).toMatchObject([{ code: 'WEIR-P004' }]);
    expect(read('name: my-shop\n').diags).toMatchObject([{ code: 'WEIR-P003', at: { line: 1 } }]);
    const { diags } = read('name: shop\nmodel-paths: 3\nvars: [1]\nseed-paths: [/abs]\n');
    expect(diags.map((d) => [d.code, d.at?.line])).toEqual([
      ['WEIR-P003', 2],
      ['WEIR-P003', 3],
      ['WEIR-P003', 4],
    ]);
  });

  it('normalizes folder paths and refuses ones outside the project', () => {
    expect(normalizeRelPath('./models/')).toBe('models');
    expect(normalizeRelPath('.')).toBe('');
    expect(normalizeRelPath('../x')).toBeUndefined();
    expect(normalizeRelPath('/x')).toBeUndefined();
  });
});
