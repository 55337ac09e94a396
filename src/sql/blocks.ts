import type { Diagnostic } from '../core/diagnostics.js';
import { WeirError } from '../core/errors.js';
import { TEMPLATE_CODES } from './codes.js';

/**
 * dbt's named blocks that live beside plain Jinja in a file (`{% docs %}`, `{% snapshot %}`,
 * `{% test %}`, `{% materialization %}`), found by scanning the text rather than by rendering.
 */
export interface TemplateBlock {
  readonly name: string;
  /** The text between the opening and closing tags. */
  readonly body: string;
  /**
   * 1-based line of the opening tag, which is also the line the body starts on: render the body
   * with `lineOffset: line - 1` to report errors at lines of the enclosing file.
   */
  readonly line: number;
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';

function lineAt(content: string, index: number): number {
  return lineCounter(content)(index);
}

/** Line of each of a series of increasing offsets, counting each newline once. */
function lineCounter(content: string): (index: number) => number {
  let line = 1;
  let from = 0;
  return (index) => {
    for (let i = content.indexOf('\n', from); i !== -1 && i < index; i = content.indexOf('\n', i + 1)) {
      line++;
      from = i + 1;
    }
    return line;
  };
}

function extractBlocks(content: string, file: string, tag: string): TemplateBlock[] {
  // Opening tags with anything (a missing or malformed name included), closing tags, in order.
  const tags = new RegExp(`\\{%-?\\s*(${tag}|end${tag})\\b([^%]*?)-?%\\}`, 'g');
  const blocks: TemplateBlock[] = [];
  let open: { name: string; bodyStart: number; line: number } | undefined;
  const lineOf = lineCounter(content);
  for (let m = tags.exec(content); m; m = tags.exec(content)) {
    const line = lineOf(m.index);
    const keyword = m[1]!;
    const rest = (m[2] ?? '').trim();
    if (keyword === tag) {
      if (open) {
        throw new WeirError(
          TEMPLATE_CODES.unbalancedBlock,
          `'{% ${tag} %}' opened before the '${tag} ${open.name}' block of line ${open.line} was closed`,
          { at: { file, line }, hint: `Close each block with {% end${tag} %} before opening the next one.` },
        );
      }
      if (!new RegExp(`^${NAME}$`).test(rest)) {
        throw new WeirError(
          TEMPLATE_CODES.unbalancedBlock,
          rest ? `invalid ${tag} block name '${rest}'` : `${tag} block without a name`,
          {
            at: { file, line },
            hint: `Write {% ${tag} my_name %} with a name made of letters, digits and _.`,
          },
        );
      }
      open = { name: rest, bodyStart: m.index + m[0].length, line };
    } else {
      if (!open) {
        throw new WeirError(
          TEMPLATE_CODES.unbalancedBlock,
          `'{% end${tag} %}' without an opening '{% ${tag} %}'`,
          {
            at: { file, line },
            hint: `Remove it or add the matching {% ${tag} name %} above.`,
          },
        );
      }
      blocks.push({ name: open.name, body: content.slice(open.bodyStart, m.index), line: open.line });
      open = undefined;
    }
  }
  if (open) {
    throw new WeirError(TEMPLATE_CODES.unbalancedBlock, `'${tag} ${open.name}' block is never closed`, {
      at: { file, line: open.line },
      hint: `Add {% end${tag} %} after the block's content.`,
    });
  }
  return blocks;
}

/** `{% docs name %}...{% enddocs %}`; bodies are trimmed, as dbt does. Throws WEIR-T011. */
export function extractDocsBlocks(content: string, file: string): TemplateBlock[] {
  if (!content.includes('docs')) return [];
  return extractBlocks(content, file, 'docs').map((b) => ({ ...b, body: b.body.trim() }));
}

/** `{% snapshot name %}...{% endsnapshot %}`; bodies untouched so line numbers stay right. Throws WEIR-T011. */
export function extractSnapshotBlocks(content: string, file: string): TemplateBlock[] {
  if (!content.includes('snapshot')) return [];
  return extractBlocks(content, file, 'snapshot');
}

/** Same length in lines, nothing else: keeps every later line number valid. */
function blankOut(text: string): string {
  return text.replace(/[^\n]/g, '');
}

/**
 * Rewrites a macro file so nunjucks can parse it, keeping every line where it was:
 * `{% test name(...) %}` generic tests become macros named `test_name` (dbt's convention),
 * docs blocks are removed (they are read separately), and custom materializations, which Weir
 * does not run, are removed with a warning.
 */
export function preprocessMacroSource(
  content: string,
  file: string,
): { source: string; warnings: Diagnostic[] } {
  const warnings: Diagnostic[] = [];
  let source = content;
  if (source.includes('materialization')) {
    source = source.replace(
      /\{%-?\s*materialization\s+([^%]*?)-?%\}[\s\S]*?\{%-?\s*endmaterialization\s*-?%\}/g,
      (block: string, header: string, offset: number) => {
        warnings.push({
          severity: 'warning',
          code: TEMPLATE_CODES.unsupportedBlock,
          message: `custom materialization '${header.split(',')[0]!.trim()}' is ignored`,
          at: { file, line: lineAt(content, offset) },
          hint: 'Weir runs the view, table, incremental and ephemeral materializations itself; remove the block or choose one of those.',
        });
        return blankOut(block);
      },
    );
  }
  if (source.includes('docs')) {
    source = source.replace(/\{%-?\s*docs\s[\s\S]*?\{%-?\s*enddocs\s*-?%\}/g, blankOut);
  }
  if (source.includes('test')) {
    source = source
      .replace(new RegExp(`\\{%(-?)(\\s*)test(\\s+)(${NAME})`, 'g'), '{%$1$2macro$3test_$4')
      .replace(/\{%(-?)(\s*)endtest\b/g, '{%$1$2endmacro');
  }
  return { source, warnings };
}
