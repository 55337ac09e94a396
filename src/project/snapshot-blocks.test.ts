import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../core/diagnostics.js';
import { splitSnapshotBlocks } from './snapshot-blocks.js';

describe('snapshot blocks', () => {
  it('splits a file into blocks and records where each body starts', () => {
    const text = [
      '-- header', // 1
      '{% snapshot orders_snapshot %}', // 2
      "{{ config(target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='updated_at') }}", // 3
      "select * from {{ source('shop', 'orders') }}", // 4
      '{% endsnapshot %}', // 5
      '', // 6
      '{%- snapshot customers_snapshot -%} select 1 {%- endsnapshot -%}', // 7
    ].join('\n');
    const diags = new Diagnostics();
    const blocks = splitSnapshotBlocks(text, 'snapshots/s.sql', diags);
    expect(diags.items).toEqual([]);
    expect(blocks.map((b) => [b.name, b.line, b.bodyLine])).toEqual([
      ['orders_snapshot', 2, 2],
      ['customers_snapshot', 7, 7],
    ]);
    const first = blocks[0]!;
    // Line N of the body is line bodyLine + N - 1 of the file.
    const bodyLines = first.body.split('\n');
    expect(bodyLines[2]).toBe("select * from {{ source('shop', 'orders') }}");
    expect(first.bodyLine + 2).toBe(4);
    expect(blocks[1]?.body).toBe(' select 1 ');
  });

  it('reports an unclosed block, a nested one and a stray end', () => {
    const d1 = new Diagnostics();
    splitSnapshotBlocks('\n{% snapshot a %}\nselect 1\n', 's.sql', d1);
    expect(d1.items[0]).toMatchObject({ code: 'WEIR-P027', at: { line: 2 } });
    const d2 = new Diagnostics();
    splitSnapshotBlocks('{% snapshot a %}\n{% snapshot b %}\n{% endsnapshot %}', 's.sql', d2);
    expect(d2.items[0]).toMatchObject({ code: 'WEIR-P027', at: { line: 2 } });
    const d3 = new Diagnostics();
    splitSnapshotBlocks('select 1\n{% endsnapshot %}', 's.sql', d3);
    expect(d3.items[0]).toMatchObject({ code: 'WEIR-P027', at: { line: 2 } });
  });
});
