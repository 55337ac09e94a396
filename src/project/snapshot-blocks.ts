import type { Diagnostics } from '../core/diagnostics.js';
import { PROJECT_CODES } from './codes.js';
import { LineIndex } from './line-index.js';

export interface SnapshotBlock {
  readonly name: string;
  /** Text between the tags, untouched so that line numbers stay true. */
  readonly body: string;
  /** 1-based line where `body` starts (the line of the opening tag's `%}`). */
  readonly bodyLine: number;
  /** 1-based line of the opening tag. */
  readonly line: number;
}

const TAG = /\{%-?\s*(snapshot|endsnapshot)\b\s*([^%]*?)\s*-?%\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Splits a snapshot .sql file into its `{% snapshot name %}...{% endsnapshot %}` blocks. */
export function splitSnapshotBlocks(text: string, file: string, diags: Diagnostics): SnapshotBlock[] {
  const out: SnapshotBlock[] = [];
  const lines = new LineIndex(text);
  let open: { name: string; line: number; bodyStart: number } | undefined;
  TAG.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TAG.exec(text)) !== null) {
    const line = lines.lineAt(m.index);
    if (m[1] === 'snapshot') {
      if (open) {
        diags.error(
          PROJECT_CODES.snapshotBlock,
          `snapshot '${m[2]}' starts inside snapshot '${open.name}' (line ${open.line})`,
          {
            at: { file, line },
            hint: `close '${open.name}' with {% endsnapshot %} before starting another snapshot`,
          },
        );
        return out;
      }
      const name = m[2] ?? '';
      if (!NAME.test(name)) {
        diags.error(PROJECT_CODES.snapshotBlock, `snapshot name '${name}' is not a valid identifier`, {
          at: { file, line },
          hint: 'write {% snapshot orders_snapshot %} with a name of letters, digits and underscores',
        });
      }
      open = { name, line, bodyStart: TAG.lastIndex };
    } else {
      if (!open) {
        diags.error(PROJECT_CODES.snapshotBlock, '{% endsnapshot %} without a matching {% snapshot %}', {
          at: { file, line },
          hint: 'remove it or add the {% snapshot name %} tag that opens the block',
        });
        continue;
      }
      if (NAME.test(open.name)) {
        out.push({
          name: open.name,
          body: text.slice(open.bodyStart, m.index),
          bodyLine: lines.lineAt(open.bodyStart),
          line: open.line,
        });
      }
      open = undefined;
    }
  }
  if (open) {
    diags.error(PROJECT_CODES.snapshotBlock, `snapshot '${open.name}' is never closed`, {
      at: { file, line: open.line },
      hint: 'end the block with {% endsnapshot %}',
    });
  }
  return out;
}
