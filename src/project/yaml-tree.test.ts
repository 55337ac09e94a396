import { describe, expect, it } from 'vitest';
import { get, getPair, locAt, parseYaml, toJs } from './yaml-tree.js';

describe('parseYaml', () => {
  it('keeps the line and column of every key and value', () => {
    const { root, errors } = parseYaml(
      'version: 2\nmodels:\n  - name: orders\n    config:\n      materialized: 3\n',
    );
    expect(errors).toEqual([]);
    const models = get(root, 'models');
    expect(models?.kind).toBe('seq');
    const entry = models?.kind === 'seq' ? models.items[0] : undefined;
    expect(entry?.loc).toEqual({ line: 3, column: 5 });
    const config = get(entry, 'config');
    expect(getPair(config, 'materialized')?.keyLoc).toEqual({ line: 5, column: 7 });
    expect(get(config, 'materialized')?.loc).toEqual({ line: 5, column: 21 });
    expect(locAt(root!, ['models', 0, 'config', 'materialized'])).toEqual({ line: 5, column: 21 });
  });

  it('gives an empty value the location of its key', () => {
    const { root } = parseYaml('a: 1\nb:\nc: 2\n');
    expect(get(root, 'b')).toMatchObject({ kind: 'scalar', value: null });
    expect(get(root, 'b')?.loc.line).toBe(2);
  });

  it('expands aliases and << merge keys, own keys winning', () => {
    const text =
      'base: &base\n  materialized: view\n  tags: [a]\nmodel:\n  <<: *base\n  tags: [b]\nother: *base\n';
    const { root } = parseYaml(text);
    expect(toJs(get(root, 'model'))).toEqual({ tags: ['b'], materialized: 'view' });
    expect(toJs(get(root, 'other'))).toEqual({ materialized: 'view', tags: ['a'] });
    // An alias is reported where it is used.
    expect(get(root, 'other')?.loc.line).toBe(7);
  });

  it('reports syntax errors with line and column and no tree', () => {
    const { root, errors } = parseYaml('models:\n  - name: a\n   bad: [1\n');
    expect(root).toBeUndefined();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.loc.line).toBeGreaterThanOrEqual(2);
    expect(errors[0]?.message).not.toContain('\n');
  });

  it('reports duplicate keys as syntax errors', () => {
    const { errors } = parseYaml('name: a\nname: b\n');
    expect(errors[0]?.message).toMatch(/unique/i);
    expect(errors[0]?.loc.line).toBe(2);
  });

  it('treats an empty file as no tree and no error', () => {
    expect(parseYaml('')).toEqual({ root: undefined, errors: [] });
    expect(parseYaml('# only a comment\n')).toEqual({ root: undefined, errors: [] });
  });
});
