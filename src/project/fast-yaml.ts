import type { Loc, YMap, YNode, YPair, YScalar, YSeq } from './yaml-nodes.js';

/**
 * A fast path for the plain YAML that schema files are made of: block mappings and sequences,
 * plain and quoted one-line scalars, one-line flow collections and simple `|`/`>` block scalars.
 *
 * Why: the `yaml` package needs ~300 ms (more on a busy machine) to parse the ~300 KB of schema
 * files of a 1,000-model project in a cold process, which alone would eat a third of the budget
 * for loading and compiling such a project. This scanner reads the same files in a few ms.
 *
 * It is deliberately partial: on anything it does not fully understand (anchors, tags, multi-line
 * plain or quoted scalars, complex keys, documents markers, tabs, any syntax error...) it gives up
 * and the caller uses the `yaml` package, which also produces every error message. Its results
 * are checked against the library's, node by node and location by location, in fast-yaml.test.ts.
 */
export function parseFastYaml(text: string): { root: YNode | undefined } | undefined {
  try {
    return { root: new FastParser(text).document() };
  } catch {
    // UNSUPPORTED, or anything unexpected: the full parser is always a correct answer.
    return undefined;
  }
}

const UNSUPPORTED = new Error('not handled by the fast YAML path');

function fail(): never {
  throw UNSUPPORTED;
}

/** Characters that may not start a plain scalar (or that need the full parser). */
const NOT_PLAIN_START = new Set([
  '[',
  ']',
  '{',
  '}',
  ',',
  '#',
  '&',
  '*',
  '!',
  '|',
  '>',
  "'",
  '"',
  '%',
  '@',
  '`',
]);
/** Characters that end a plain scalar inside a flow collection. */
const FLOW_END = new Set([',', '[', ']', '{', '}']);

const ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_LENGTH: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/** YAML 1.2 core schema, in the order the `yaml` package tries its tags. */
export function resolvePlain(raw: string): unknown {
  const c = raw.charCodeAt(0);
  // Fast exit: most scalars are words that cannot be null, a boolean or a number.
  const maybeSpecial =
    raw === '' ||
    c === 126 /* ~ */ ||
    c === 110 /* n */ ||
    c === 78 /* N */ ||
    c === 116 /* t */ ||
    c === 84 /* T */ ||
    c === 102 /* f */ ||
    c === 70 /* F */ ||
    c === 43 /* + */ ||
    c === 45 /* - */ ||
    c === 46 /* . */ ||
    (c >= 48 && c <= 57);
  if (!maybeSpecial) return raw;
  if (/^(?:~|[Nn]ull|NULL)?$/.test(raw)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(raw)) return raw[0] === 't' || raw[0] === 'T';
  if (/^0o[0-7]+$/.test(raw)) return parseInt(raw.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(raw)) return parseInt(raw, 10);
  if (/^0x[0-9a-fA-F]+$/.test(raw)) return parseInt(raw.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(raw)) {
    if (raw.slice(-3).toLowerCase() === 'nan') return NaN;
    return raw[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(raw)) return parseFloat(raw);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(raw)) return parseFloat(raw);
  return raw;
}

class FastParser {
  private readonly lines: string[];
  /** Indentation of each line; -1 for blank and comment-only lines. */
  private readonly indents: number[];
  /** The line being read. */
  private i = 0;

  constructor(text: string) {
    if (text.charCodeAt(0) === 0xfeff || text.includes('\t')) fail();
    const lines = text.split('\n');
    const indents = new Array<number>(lines.length);
    for (let n = 0; n < lines.length; n++) {
      let line = lines[n] as string;
      if (line.endsWith('\r')) {
        line = line.slice(0, -1);
        lines[n] = line;
      }
      if (line.includes('\r')) fail();
      let ind = 0;
      while (line.charCodeAt(ind) === 32) ind++;
      if (ind === line.length || line[ind] === '#') {
        indents[n] = -1;
        continue;
      }
      if (ind === 0 && (line.startsWith('---') || line.startsWith('...'))) fail();
      indents[n] = ind;
    }
    this.lines = lines;
    this.indents = indents;
  }

  document(): YNode | undefined {
    const j = this.nextContent(0);
    if (j >= this.lines.length) return undefined;
    this.i = j;
    const node = this.block(this.indents[j] as number);
    if (this.nextContent(this.i) < this.lines.length) fail();
    return node;
  }

  private nextContent(from: number): number {
    let j = from;
    while (j < this.lines.length && (this.indents[j] as number) < 0) j++;
    return j;
  }

  private line(n: number): string {
    return this.lines[n] as string;
  }

  private loc(n: number, col: number): Loc {
    return { line: n + 1, column: col + 1 };
  }

  /** A block collection whose first entry starts at column `indent` of the current line. */
  private block(indent: number): YNode {
    return isDash(this.line(this.i), indent) ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): YSeq {
    const items: YNode[] = [];
    const loc = this.loc(this.i, indent);
    for (;;) {
      const line = this.line(this.i);
      let c = indent + 1;
      while (line.charCodeAt(c) === 32) c++;
      if (c >= line.length || line[c] === '#') {
        // `-` alone: the item is the block below it.
        const j = this.nextContent(this.i + 1);
        if (j >= this.lines.length || (this.indents[j] as number) <= indent) fail();
        this.i = j;
        items.push(this.block(this.indents[j] as number));
      } else if (isDash(line, c)) {
        fail();
      } else if (startsKey(line, c)) {
        items.push(this.mapping(c));
      } else {
        items.push(this.inlineValue(line, c, indent));
      }
      const j = this.nextContent(this.i);
      this.i = j;
      if (j >= this.lines.length) break;
      const ind = this.indents[j] as number;
      if (ind < indent) break;
      if (ind > indent) fail();
      if (!isDash(this.line(j), indent)) break;
    }
    return { kind: 'seq', items, loc };
  }

  /** A block mapping whose keys start at column `indent`, the first one on the current line. */
  private mapping(indent: number): YMap {
    const pairs: YPair[] = [];
    const seen = new Set<string>();
    const loc = this.loc(this.i, indent);
    for (;;) {
      const line = this.line(this.i);
      if (isDash(line, indent)) fail();
      const { key, after } = readKey(line, indent);
      if (seen.has(key) || key === '<<') fail();
      seen.add(key);
      const keyLoc = this.loc(this.i, indent);
      const value = this.valueAfterColon(line, after, indent);
      pairs.push({ key, keyLoc, value });
      const j = this.nextContent(this.i);
      this.i = j;
      if (j >= this.lines.length) break;
      const ind = this.indents[j] as number;
      if (ind < indent) break;
      if (ind > indent) fail();
    }
    return { kind: 'map', pairs, loc };
  }

  private valueAfterColon(line: string, after: number, ownerIndent: number): YNode {
    let q = after;
    while (line.charCodeAt(q) === 32) q++;
    if (q < line.length && line[q] !== '#') return this.inlineValue(line, q, ownerIndent);
    if (q < line.length) fail(); // `key: # comment`: rare, and its empty value's location is subtle
    const here = this.i;
    const j = this.nextContent(this.i + 1);
    if (j < this.lines.length) {
      const ind = this.indents[j] as number;
      if (ind > ownerIndent) {
        this.i = j;
        return this.block(ind);
      }
      if (ind === ownerIndent && isDash(this.line(j), ownerIndent)) {
        this.i = j;
        return this.sequence(ownerIndent);
      }
    }
    this.i = here + 1;
    return { kind: 'scalar', value: null, loc: this.loc(here, q) };
  }

  /** A value that starts at column `q` of the current line. Leaves `i` on the next line. */
  private inlineValue(line: string, q: number, ownerIndent: number): YNode {
    const ch = line[q] as string;
    const loc = this.loc(this.i, q);
    if (ch === '"' || ch === "'") {
      const { value, end } = readQuoted(line, q);
      expectLineEnd(line, end);
      this.i++;
      return { kind: 'scalar', value, loc };
    }
    if (ch === '[' || ch === '{') {
      const flow = new FlowReader(line, this.i);
      const node = flow.node(q);
      expectLineEnd(line, flow.pos);
      this.i++;
      return node;
    }
    if (ch === '|' || ch === '>') return this.blockScalar(line, q, ownerIndent);
    const raw = plainInBlock(line, q);
    this.i++;
    return { kind: 'scalar', value: resolvePlain(raw), loc };
  }

  private blockScalar(line: string, q: number, ownerIndent: number): YScalar {
    const folded = line[q] === '>';
    let h = q + 1;
    let strip = false;
    if (line[h] === '-') {
      strip = true;
      h++;
    }
    if (h < line.length && line[h] !== ' ') fail(); // keep (+), explicit indentation: full parser
    expectLineEnd(line, h);
    const loc = this.loc(this.i, q);
    const content: (string | null)[] = [];
    let contentIndent = -1;
    let n = this.i + 1;
    for (; n < this.lines.length; n++) {
      const text = this.line(n);
      let ind = 0;
      while (text.charCodeAt(ind) === 32) ind++;
      if (ind === text.length) {
        // A blank line: before any content, or with spaces past the content indent, it is subtle.
        if (contentIndent < 0 || text.length > contentIndent) fail();
        content.push(null);
        continue;
      }
      if (contentIndent < 0) {
        if (ind <= ownerIndent) fail(); // empty block scalar
        contentIndent = ind;
      }
      if (ind < contentIndent) {
        if (ind > ownerIndent) fail();
        break;
      }
      if (folded && ind > contentIndent) fail(); // more-indented lines keep their breaks
      content.push(text.slice(contentIndent));
    }
    while (content.length > 0 && content[content.length - 1] === null) content.pop();
    this.i = n;
    let value = '';
    if (folded) {
      let blanks = 0;
      let first = true;
      for (const part of content) {
        if (part === null) {
          blanks++;
          continue;
        }
        if (!first) value += blanks === 0 ? ' ' : '\n'.repeat(blanks);
        value += part;
        blanks = 0;
        first = false;
      }
    } else {
      value = content.map((part) => part ?? '').join('\n');
    }
    if (!strip && content.length > 0) value += '\n';
    return { kind: 'scalar', value, loc };
  }
}

/** `-` as a block sequence indicator at column c. */
function isDash(line: string, c: number): boolean {
  return line[c] === '-' && (c + 1 === line.length || line[c + 1] === ' ');
}

/** Whether a mapping key (`key:` or `"key":`) starts at column c. */
function startsKey(line: string, c: number): boolean {
  const ch = line[c] as string;
  if (ch === '"' || ch === "'") {
    try {
      const { end } = readQuoted(line, c);
      let p = end;
      while (line.charCodeAt(p) === 32) p++;
      return line[p] === ':' && (p + 1 === line.length || line[p + 1] === ' ');
    } catch (err) {
      if (err === UNSUPPORTED) return false;
      throw err;
    }
  }
  if (NOT_PLAIN_START.has(ch)) return false;
  return plainKeyEnd(line, c) !== -1;
}

/** Index of the `:` that ends a plain key starting at c, or -1. */
function plainKeyEnd(line: string, c: number): number {
  let idx = line.indexOf(':', c);
  const comment = line.indexOf(' #', c);
  while (idx !== -1) {
    if (comment !== -1 && comment < idx) return -1;
    if (idx + 1 === line.length || line[idx + 1] === ' ') return idx;
    idx = line.indexOf(':', idx + 1);
  }
  return -1;
}

function readKey(line: string, c: number): { key: string; after: number } {
  const ch = line[c] as string;
  if (ch === '"' || ch === "'") {
    const { value, end } = readQuoted(line, c);
    let p = end;
    while (line.charCodeAt(p) === 32) p++;
    if (line[p] !== ':' || !(p + 1 === line.length || line[p + 1] === ' ')) fail();
    return { key: value, after: p + 1 };
  }
  if (NOT_PLAIN_START.has(ch) || ((ch === '-' || ch === '?' || ch === ':') && line[c + 1] === ' ')) fail();
  const idx = plainKeyEnd(line, c);
  if (idx === -1) fail();
  const raw = line.slice(c, idx).trimEnd();
  if (raw === '') fail();
  return { key: String(resolvePlain(raw)), after: idx + 1 };
}

/** A plain scalar that runs to the end of the line (or a ` #` comment). */
function plainInBlock(line: string, q: number): string {
  const ch = line[q] as string;
  if (NOT_PLAIN_START.has(ch)) fail();
  if ((ch === '-' || ch === '?' || ch === ':') && (q + 1 === line.length || line[q + 1] === ' ')) fail();
  const comment = line.indexOf(' #', q);
  const raw = (comment === -1 ? line.slice(q) : line.slice(q, comment)).trimEnd();
  // `a: b: c` is an error and `a: b:` a nested mapping: both belong to the full parser.
  if (raw.includes(': ') || raw.endsWith(':')) fail();
  return raw;
}

/** A quoted scalar that ends on the same line. */
function readQuoted(line: string, q: number): { value: string; end: number } {
  if (line[q] === "'") {
    let value = '';
    let j = q + 1;
    for (;;) {
      const idx = line.indexOf("'", j);
      if (idx === -1) fail();
      if (line[idx + 1] === "'") {
        value += line.slice(j, idx) + "'";
        j = idx + 2;
        continue;
      }
      return { value: value + line.slice(j, idx), end: idx + 1 };
    }
  }
  let value = '';
  let j = q + 1;
  for (;;) {
    const quote = line.indexOf('"', j);
    const slash = line.indexOf('\\', j);
    if (quote === -1) fail();
    if (slash === -1 || quote < slash) return { value: value + line.slice(j, quote), end: quote + 1 };
    value += line.slice(j, slash);
    const e = line[slash + 1];
    if (e === undefined) fail();
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      value += simple;
      j = slash + 2;
      continue;
    }
    const len = HEX_LENGTH[e];
    if (len === undefined) fail();
    const hex = line.slice(slash + 2, slash + 2 + len);
    if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail();
    value += String.fromCodePoint(parseInt(hex, 16));
    j = slash + 2 + len;
  }
}

/** After a value: only spaces, then the end of the line or a comment. */
function expectLineEnd(line: string, p: number): void {
  let q = p;
  while (line.charCodeAt(q) === 32) q++;
  if (q < line.length && !(line[q] === '#' && q > p)) fail();
}

/** A flow collection (`[a, b]`, `{k: v}`) that ends on the line where it starts. */
class FlowReader {
  pos = 0;

  constructor(
    private readonly line: string,
    private readonly lineIndex: number,
  ) {}

  private loc(col: number): Loc {
    return { line: this.lineIndex + 1, column: col + 1 };
  }

  private skipSpaces(): void {
    while (this.line.charCodeAt(this.pos) === 32) this.pos++;
  }

  node(start: number): YNode {
    this.pos = start;
    const ch = this.line[start];
    if (ch === '[') return this.seq();
    if (ch === '{') return this.map();
    if (ch === '"' || ch === "'") {
      const { value, end } = readQuoted(this.line, start);
      this.pos = end;
      return { kind: 'scalar', value, loc: this.loc(start) };
    }
    return { kind: 'scalar', value: resolvePlain(this.plain()), loc: this.loc(start) };
  }

  private plain(): string {
    const line = this.line;
    const start = this.pos;
    const ch = line[start];
    if (ch === undefined || NOT_PLAIN_START.has(ch)) fail();
    if (
      (ch === '-' || ch === '?' || ch === ':') &&
      (line[start + 1] === ' ' || line[start + 1] === undefined)
    )
      fail();
    let p = start;
    while (p < line.length) {
      const c = line[p] as string;
      if (FLOW_END.has(c)) break;
      if (
        c === ':' &&
        (line[p + 1] === ' ' || line[p + 1] === undefined || FLOW_END.has(line[p + 1] as string))
      )
        break;
      if (c === '#' && line[p - 1] === ' ') fail();
      p++;
    }
    this.pos = p;
    const raw = line.slice(start, p).trimEnd();
    if (raw === '') fail();
    return raw;
  }

  private seq(): YSeq {
    const loc = this.loc(this.pos);
    const items: YNode[] = [];
    this.pos++;
    for (;;) {
      this.skipSpaces();
      if (this.line[this.pos] === ']') break;
      items.push(this.node(this.pos));
      this.skipSpaces();
      const c = this.line[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') break;
      fail(); // `[a: b]`, an unclosed list, or anything else unusual
    }
    this.pos++;
    return { kind: 'seq', items, loc };
  }

  private map(): YMap {
    const loc = this.loc(this.pos);
    const pairs: YPair[] = [];
    const seen = new Set<string>();
    this.pos++;
    for (;;) {
      this.skipSpaces();
      if (this.line[this.pos] === '}') break;
      const keyStart = this.pos;
      const ch = this.line[keyStart];
      let key: string;
      if (ch === '"' || ch === "'") {
        const { value, end } = readQuoted(this.line, keyStart);
        key = value;
        this.pos = end;
      } else {
        key = String(resolvePlain(this.plain()));
      }
      this.skipSpaces();
      if (this.line[this.pos] !== ':' || this.line[this.pos + 1] !== ' ') fail();
      this.pos++;
      this.skipSpaces();
      const v = this.line[this.pos];
      if (v === undefined || v === ',' || v === '}') fail();
      if (seen.has(key) || key === '<<') fail();
      seen.add(key);
      pairs.push({ key, keyLoc: this.loc(keyStart), value: this.node(this.pos) });
      this.skipSpaces();
      const c = this.line[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') break;
      fail();
    }
    this.pos++;
    return { kind: 'map', pairs, loc };
  }
}
