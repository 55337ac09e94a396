import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../core/diagnostics.js';
import { buildConfig, configsFor, readConfigMap, readConfigTree, unusedLevels } from './config.js';
import { get, parseYaml } from './yaml-tree.js';

function tree(text: string, diags = new Diagnostics()) {
  const { root } = parseYaml(text);
  return readConfigTree(get(root, 'models'), 'models', 'dbt_project.yml', diags);
}

describe('project folder configs', () => {
  const text = [
    'models:', // 1
    '  +persist_docs: {relation: true}', // 2
    '  shop:', // 3
    '    +tags: [shop]', // 4
    '    materialized: view', // 5
    '    meta: {owner: data}', // 6
    '    marts:', // 7
    '      +materialized: table', // 8
    '      tags: marts', // 9
    '      finance:', // 10
    '        +tags: [finance]', // 11
    '        +schema: fin', // 12
    '        revenue:', // 13
    '          +materialized: incremental', // 14
    '  other_package:', // 15
    '    +enabled: false', // 16
  ].join('\n');

  it('applies levels down the fqn: tags accumulate, other keys deeper wins', () => {
    const t = tree(text);
    const config = buildConfig('view', configsFor(t, ['shop', 'marts', 'finance', 'revenue']));
    expect(config.materialized).toBe('incremental');
    expect(config.tags).toEqual(['shop', 'marts', 'finance']);
    expect(config.schema).toBe('fin');
    expect(config.meta).toEqual({ owner: 'data' });
    expect(config.persist_docs).toEqual({ relation: true });
    expect(config.enabled).toBe(true);
  });

  it('stops at the deepest folder that exists', () => {
    const t = tree(text);
    const config = buildConfig('view', configsFor(t, ['shop', 'staging', 'stg_orders']));
    expect(config.materialized).toBe('view');
    expect(config.tags).toEqual(['shop']);
  });

  it('reports folder levels that matched nothing, topmost only', () => {
    const t = tree(text);
    configsFor(t, ['shop', 'marts', 'core', 'orders']);
    const unused = unusedLevels(t, 'shop');
    expect(unused.map((l) => l.path)).toEqual(['models.shop.marts.finance']);
    expect(unused[0]?.keyLoc.line).toBe(10);
  });

  it('reports a wrong type at the exact line and keeps going', () => {
    const diags = new Diagnostics();
    tree(
      'models:\n  shop:\n    +materialized: 3\n    +tags: {a: 1}\n    x:\n      +materialized: tabel\n',
      diags,
    );
    expect(diags.items.map((d) => [d.code, d.at?.line])).toEqual([
      ['WEIR-P003', 3],
      ['WEIR-P003', 4],
      ['WEIR-P003', 6],
    ]);
    expect(diags.items[2]?.message).toContain('materialized');
    expect(diags.items[2]?.hint).toContain('view, table, incremental, ephemeral, seed, snapshot');
  });
});

describe('yml config mappings', () => {
  it('normalizes hooks, tags and severity', () => {
    const { root } = parseYaml(
      'config:\n  pre-hook: "select 1"\n  post_hook: [{sql: "select 2"}, "select 3"]\n  tags: one\n  severity: WARN\n',
    );
    const diags = new Diagnostics();
    const layer = readConfigMap(get(root, 'config')!, 'x.yml', diags);
    expect(diags.items).toEqual([]);
    expect(layer).toEqual({
      pre_hook: ['select 1'],
      post_hook: ['select 2', 'select 3'],
      tags: ['one'],
      severity: 'warn',
    });
  });

  it('merges yml config over project config with dbt rules', () => {
    const config = buildConfig('view', [
      { tags: ['a'], meta: { x: 1 }, materialized: 'table', pre_hook: ['p1'] },
      { tags: ['b', 'a'], meta: { y: 2 }, materialized: 'incremental', pre_hook: ['p2'], unique_key: 'id' },
    ]);
    expect(config).toMatchObject({
      tags: ['a', 'b'],
      meta: { x: 1, y: 2 },
      materialized: 'incremental',
      pre_hook: ['p1', 'p2'],
      unique_key: 'id',
      enabled: true,
    });
  });

  it('rejects a config that is not a mapping', () => {
    const { root } = parseYaml('config: [1, 2]\n');
    const diags = new Diagnostics();
    readConfigMap(get(root, 'config')!, 'x.yml', diags);
    expect(diags.items[0]?.code).toBe('WEIR-P003');
  });
});
