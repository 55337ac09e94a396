import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../core/diagnostics.js';
import { parseDocBlocks, resolveDocs } from './docs-blocks.js';

describe('docs blocks', () => {
  it('finds blocks with their line, whatever the markdown holds', () => {
    const text = [
      '# Title',
      '',
      '{% docs orders_status %}',
      'One of `placed`, `shipped`. {{ not jinja for us }} {% raw %}',
      '| a | b |',
      '{% enddocs %}',
      '',
      '{%- docs  __overview__ -%}',
      'Overview',
      '{%- enddocs -%}',
    ].join('\n');
    const diags = new Diagnostics();
    const blocks = parseDocBlocks(text, 'models/docs.md', diags);
    expect(diags.items).toEqual([]);
    expect(blocks).toEqual([
      {
        name: 'orders_status',
        block: {
          body: 'One of `placed`, `shipped`. {{ not jinja for us }} {% raw %}\n| a | b |',
          file: 'models/docs.md',
          line: 3,
        },
      },
      { name: '__overview__', block: { body: 'Overview', file: 'models/docs.md', line: 8 } },
    ]);
  });

  it('reports an unclosed block', () => {
    const diags = new Diagnostics();
    parseDocBlocks('x\n{% docs a %}\nbody\n', 'd.md', diags);
    expect(diags.items[0]).toMatchObject({ code: 'WEIR-P019', at: { file: 'd.md', line: 2 } });
  });

  it('resolves doc() in descriptions and reports unknown names with close ones', () => {
    const docs = { orders_status: { body: 'The status.', file: 'd.md', line: 1 } };
    const diags = new Diagnostics();
    const at = { file: 'models/schema.yml', line: 7, column: 22 };
    expect(resolveDocs(`Status: {{ doc("orders_status") }}!`, docs, at, diags)).toBe('Status: The status.!');
    expect(resolveDocs(`{{ doc('pkg', 'orders_status') }}`, docs, at, diags)).toBe('The status.');
    expect(diags.items).toEqual([]);
    resolveDocs(`{{ doc('order_status') }}`, docs, at, diags);
    expect(diags.items[0]).toMatchObject({ code: 'WEIR-P020', severity: 'error', at });
    expect(diags.items[0]?.message).toContain("Did you mean 'orders_status'?");
  });
});
