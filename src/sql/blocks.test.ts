import { describe, expect, it } from 'vitest';
import { WeirError } from '../core/errors.js';
import { extractDocsBlocks, extractSnapshotBlocks, preprocessMacroSource } from './blocks.js';
import { createRelation } from './relation.js';
import { TemplateEngine } from './template-engine.js';

function errorOf(fn: () => unknown): WeirError {
  try {
    fn();
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(WeirError);
    return err as WeirError;
  }
  throw new Error('expected an error');
}

describe('extractDocsBlocks', () => {
  it('finds every docs block with its trimmed body and line', () => {
    const content =
      '# Docs\n\n{% docs orders %}\nOne row per **order**.\n{% enddocs %}\n\n{%- docs status -%}\n| a | b |\n{%- enddocs -%}\n';
    expect(extractDocsBlocks(content, 'models/docs.md')).toEqual([
      { name: 'orders', body: 'One row per **order**.', line: 3 },
      { name: 'status', body: '| a | b |', line: 7 },
    ]);
  });

  it('returns nothing for files without blocks and reports unbalanced ones as WEIR-T011', () => {
    expect(extractDocsBlocks('just markdown', 'a.md')).toEqual([]);
    const unclosed = errorOf(() => extractDocsBlocks('\n{% docs a %}\ntext', 'a.md'));
    expect(unclosed.code).toBe('WEIR-T011');
    expect(unclosed.at).toEqual({ file: 'a.md', line: 2 });
    expect(errorOf(() => extractDocsBlocks('x\n\n{% enddocs %}', 'a.md')).at).toEqual({
      file: 'a.md',
      line: 3,
    });
    expect(errorOf(() => extractDocsBlocks('{% docs %}x{% enddocs %}', 'a.md')).message).toContain(
      'without a name',
    );
    expect(
      errorOf(() => extractDocsBlocks('{% docs a %}{% docs b %}{% enddocs %}', 'a.md')).message,
    ).toContain('before');
  });
});

describe('extractSnapshotBlocks', () => {
  const file = [
    '{% snapshot orders_snapshot %}',
    '{{ config(target_schema="snapshots", unique_key="id", strategy="timestamp", updated_at="updated_at") }}',
    "select * from {{ source('shop', 'orders') }}",
    '{% endsnapshot %}',
    '',
    '{% snapshot customers_snapshot %}',
    'select *',
    'from {{ nope() }}',
    '{% endsnapshot %}',
  ].join('\n');

  it('returns each block with its raw body and the line it starts on', () => {
    const blocks = extractSnapshotBlocks(file, 'snapshots/s.sql');
    expect(blocks.map((b) => [b.name, b.line])).toEqual([
      ['orders_snapshot', 1],
      ['customers_snapshot', 6],
    ]);
    expect(blocks[0]!.body).toBe(
      '\n{{ config(target_schema="snapshots", unique_key="id", strategy="timestamp", updated_at="updated_at") }}\n' +
        "select * from {{ source('shop', 'orders') }}\n",
    );
  });

  it('gives bodies that render with errors at the line of the enclosing file (lineOffset = line - 1)', () => {
    const engine = new TemplateEngine({ projectName: 'shop', macroFiles: [] });
    const config: Record<string, unknown> = {};
    const [first, second] = extractSnapshotBlocks(file, 'snapshots/s.sql');
    const ctx = {
      file: 'snapshots/s.sql',
      ref: () => '',
      source: (s: string, t: string) => createRelation({ schema: s, identifier: t }),
      config: { set: (v: Record<string, unknown>) => Object.assign(config, v), get: () => undefined },
      vars: {},
      env: {},
      target: {},
      isIncremental: false,
    };
    expect(engine.render(first!.body, { ...ctx, lineOffset: first!.line - 1 }).trim()).toBe(
      'select * from "shop"."orders"',
    );
    expect(config).toMatchObject({ unique_key: 'id', strategy: 'timestamp' });
    let caught: unknown;
    try {
      engine.render(second!.body, { ...ctx, lineOffset: second!.line - 1 });
    } catch (err: unknown) {
      caught = err;
    }
    expect((caught as WeirError).at).toMatchObject({ file: 'snapshots/s.sql', line: 8 });
  });
});

describe('preprocessMacroSource', () => {
  it('rewrites generic tests to test_ macros and blanks other blocks without moving lines', () => {
    const content =
      '{%- test not_negative(model, column_name) -%}\nselect 1\n{%- endtest -%}\n{% materialization m, default %}\na\nb\n{% endmaterialization %}\nz';
    const { source, warnings } = preprocessMacroSource(content, 'macros/x.sql');
    expect(source).toBe(
      '{%- macro test_not_negative(model, column_name) -%}\nselect 1\n{%- endmacro -%}\n\n\n\n\nz',
    );
    expect(source.split('\n')).toHaveLength(content.split('\n').length);
    expect(warnings).toEqual([
      expect.objectContaining({ code: 'WEIR-T010', at: { file: 'macros/x.sql', line: 4 } }),
    ]);
  });
});
