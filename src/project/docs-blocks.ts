import type { Diagnostics } from '../core/diagnostics.js';
import { didYouMean } from './close-names.js';
import { PROJECT_CODES } from './codes.js';
import { LineIndex } from './line-index.js';
import type { DocBlock } from './types.js';

const OPEN = /\{%-?\s*docs\s+([^\s%]+)\s*-?%\}/g;
const CLOSE = /\{%-?\s*enddocs\s*-?%\}/g;

/**
 * Finds `{% docs name %}...{% enddocs %}` blocks in a markdown file. The markdown between the tags
 * may contain anything (even other Jinja); only the tags matter.
 */
export function parseDocBlocks(
  text: string,
  file: string,
  diags: Diagnostics,
): { name: string; block: DocBlock }[] {
  const out: { name: string; block: DocBlock }[] = [];
  const lines = new LineIndex(text);
  OPEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = OPEN.exec(text)) !== null) {
    const name = m[1] ?? '';
    const line = lines.lineAt(m.index);
    CLOSE.lastIndex = OPEN.lastIndex;
    const end = CLOSE.exec(text);
    if (!end) {
      diags.error(PROJECT_CODES.docsBlock, `docs block '${name}' is never closed`, {
        at: { file, line },
        hint: 'end the block with {% enddocs %}',
      });
      break;
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name === '__proto__') {
      diags.error(PROJECT_CODES.docsBlock, `docs block name '${name}' is not a valid identifier`, {
        at: { file, line },
        hint: 'use letters, digits and underscores, e.g. {% docs order_status %}',
      });
    } else {
      out.push({ name, block: { body: text.slice(OPEN.lastIndex, end.index).trim(), file, line } });
    }
    OPEN.lastIndex = CLOSE.lastIndex;
  }
  return out;
}

const DOC_CALL = /\{\{\s*doc\(\s*(['"])([^'"]*)\1\s*(?:,\s*(['"])([^'"]*)\3\s*)?\)\s*\}\}/g;

/** Replaces `{{ doc('name') }}` in a description; an unknown name is WEIR-P020 at `at`. */
export function resolveDocs(
  description: unknown,
  docs: Readonly<Record<string, DocBlock>>,
  at: { file: string; line: number; column?: number },
  diags: Diagnostics,
): string {
  if (description === null || description === undefined) return '';
  const text = typeof description === 'string' ? description : String(description);
  if (!text.includes('doc(')) return text;
  return text.replace(
    DOC_CALL,
    (whole, _q1: string, first: string, _q2: string | undefined, second: string | undefined) => {
      // doc('package', 'name'): this project has no packages, so the name is what counts.
      const name = second ?? first;
      const block = Object.hasOwn(docs, name) ? docs[name] : undefined;
      if (block) return block.body;
      diags.error(
        PROJECT_CODES.unknownDoc,
        `unknown doc '${name}' in a description.${didYouMean(name, Object.keys(docs))}`,
        {
          at,
          hint: `define it in a .md file under the model or docs paths: {% docs ${name} %}...{% enddocs %}`,
        },
      );
      return whole;
    },
  );
}
