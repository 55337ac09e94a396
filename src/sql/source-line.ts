/**
 * Maps a line of compiled SQL back to the template line that produced it, so a database error
 * ("LINE 12: ...") can point at the model file. Best effort: each rendered line is matched
 * against the template lines whose literal text it contains, walking both in order so repeated
 * lines (loops, common SQL like `from x`) resolve to the nearest plausible candidate.
 */

type LineMatcher = (renderedLine: string) => boolean;

const normalize = (s: string): string => s.replace(/\s+/g, ' ').trim();

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A matcher for one template line, or undefined when it has no literal text to recognise. */
function matcherFor(templateLine: string, inTag: boolean): { matcher?: LineMatcher; inTag: boolean } {
  const parts: string[] = [];
  let literal = '';
  let i = 0;
  let open = inTag;
  const text = templateLine;
  while (i < text.length) {
    if (open) {
      const end = text.slice(i).search(/[}%#]\}/);
      if (end === -1) {
        i = text.length;
        break;
      }
      i += end + 2;
      open = false;
      continue;
    }
    const start = text.slice(i).search(/\{[{%#]/);
    if (start === -1) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, i + start);
    const kind = text.charAt(i + start + 1);
    parts.push(normalize(literal));
    literal = '';
    // An expression prints something; a statement or comment prints nothing on its own.
    parts.push(kind === '{' ? '\u0000' : '');
    i += start + 2;
    open = true;
  }
  parts.push(normalize(literal));
  const literalText = parts.filter((p) => p !== '\u0000').join('');
  if (literalText.replace(/\s/g, '').length < 2) return { inTag: open };
  const hasTags = parts.length > 1;
  if (!hasTags) {
    const expected = normalize(templateLine);
    return { matcher: (line) => normalize(line) === expected, inTag: open };
  }
  const pattern = parts.map((p) => (p === '\u0000' ? '.*?' : escapeRegExp(p))).join('\\s*');
  const regex = new RegExp(`^\\s*${pattern}\\s*$`);
  return { matcher: (line) => regex.test(normalize(line)), inTag: open };
}

/**
 * The 1-based template line that produced `renderedLine` (1-based) of `rendered`, or undefined
 * when that line cannot be recognised (blank, or produced entirely by Jinja).
 */
export function sourceLineFor(template: string, rendered: string, renderedLine: number): number | undefined {
  const templateLines = template.split(/\r?\n/);
  const renderedLines = rendered.split(/\r?\n/);
  if (renderedLine < 1 || renderedLine > renderedLines.length) return undefined;
  const matchers: (LineMatcher | undefined)[] = [];
  let inTag = false;
  for (const line of templateLines) {
    const m = matcherFor(line, inTag);
    matchers.push(m.matcher);
    inTag = m.inTag;
  }
  const candidatesFor = (line: string): number[] => {
    if (line.trim() === '') return [];
    const out: number[] = [];
    matchers.forEach((m, i) => {
      if (m && m(line)) out.push(i);
    });
    return out;
  };
  // Walk the rendered lines up to the wanted one, keeping the template position in step.
  let position = 0;
  let answer: number | undefined;
  for (let r = 0; r < renderedLine; r++) {
    const candidates = candidatesFor(renderedLines[r]!);
    if (candidates.length === 0) {
      answer = undefined;
      continue;
    }
    const ahead = candidates.find((c) => c >= position);
    const chosen = ahead ?? candidates.reduce((best, c) => (position - c < position - best ? c : best));
    position = chosen;
    answer = chosen;
  }
  return answer === undefined ? undefined : answer + 1;
}
