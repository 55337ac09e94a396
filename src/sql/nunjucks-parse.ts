import nunjucks from 'nunjucks';

/**
 * The one place that touches nunjucks internals. Weir uses nunjucks' lexer and parser (the Jinja
 * grammar, whitespace control, line numbers, error messages) and evaluates the resulting tree
 * itself (see interpreter.ts): generating and `new Function`-compiling JavaScript for every model
 * costs more than the whole render when each template runs exactly once.
 */

/** A node of the nunjucks syntax tree (src/nodes.js); only the fields the interpreter reads. */
export interface AstNode {
  readonly typename: string;
  /** 0-based. */
  readonly lineno: number;
  /** 0-based. */
  readonly colno: number;
  readonly children: AstNode[];
  readonly value: unknown;
  readonly name: AstNode;
  readonly args: AstNode;
  readonly body: AstNode;
  readonly else_: AstNode | null;
  readonly cond: AstNode;
  readonly arr: AstNode;
  readonly target: AstNode;
  readonly targets: AstNode[];
  readonly val: AstNode;
  readonly left: AstNode;
  readonly right: AstNode;
  readonly expr: AstNode;
  readonly ops: AstNode[];
  readonly type: string;
  readonly key: AstNode;
  readonly cases: AstNode[];
  readonly default: AstNode | null;
  readonly extName: string;
  readonly start: AstNode;
  readonly stop: AstNode;
  readonly step: AstNode;
}

interface Token {
  readonly type: string;
  readonly value: string;
  readonly lineno: number;
  readonly colno: number;
}

interface Tokenizer {
  str: string;
  index: number;
  len: number;
  lineno: number;
  colno: number;
  in_code: boolean;
  nextToken(): Token | null;
  _extractMatching(breakOnMatch: boolean, charString: string): string | null;
}

interface ParserInstance {
  extensions: unknown[];
  tokens: Tokenizer;
  parseAsRoot(): AstNode;
  nextToken(): Token;
  parseExpression(): AstNode;
  advanceAfterBlockEnd(name?: string): void;
}

interface NodesModule {
  Node: unknown;
  NodeList: new (lineno: number, colno: number, children: AstNode[]) => AstNode;
  CallExtension: new (
    ext: unknown,
    prop: string,
    args: AstNode,
    contentArgs: unknown[],
  ) => AstNode & {
    lineno: number;
    colno: number;
  };
}

interface NunjucksInternals {
  parser: { Parser: new (tokens: Tokenizer) => ParserInstance };
  lexer: { lex(src: string, opts: object): Tokenizer };
  nodes: NodesModule;
  installJinjaCompat(): unknown;
}

const nj = nunjucks as unknown as NunjucksInternals;

/** Our extension tags; their CallExtension nodes carry this name. */
export const DO_EXTENSION = 'weir_do';

/**
 * `{% do expr %}` (Jinja's `jinja2.ext.do`): evaluate for its side effects (`list.append`,
 * `config.set`, `return(...)`), output nothing.
 */
const doExtension = {
  __name: DO_EXTENSION,
  tags: ['do'],
  parse(parser: ParserInstance, nodes: NodesModule): AstNode {
    const tok = parser.nextToken();
    const expr = parser.parseExpression();
    parser.advanceAfterBlockEnd(tok.value);
    const node = new nodes.CallExtension(
      doExtension,
      'run',
      new nodes.NodeList(tok.lineno, tok.colno, [expr]),
      [],
    );
    node.lineno = tok.lineno;
    node.colno = tok.colno;
    return node;
  },
};

/** Our loop-control tags' CallExtension nodes carry this name; `prop` is `break` or `continue`. */
export const LOOP_CONTROL_EXTENSION = 'weir_loop_control';

/** `{% break %}` and `{% continue %}` (Jinja's `jinja2.ext.loopcontrols`, enabled by dbt). */
const loopControlExtension = {
  __name: LOOP_CONTROL_EXTENSION,
  tags: ['break', 'continue'],
  parse(parser: ParserInstance, nodes: NodesModule): AstNode {
    const tok = parser.nextToken();
    parser.advanceAfterBlockEnd(tok.value);
    const node = new nodes.CallExtension(
      loopControlExtension,
      tok.value,
      new nodes.NodeList(tok.lineno, tok.colno, []),
      [],
    );
    node.lineno = tok.lineno;
    node.colno = tok.colno;
    return node;
  },
};

const EXTENSIONS: unknown[] = [doExtension, loopControlExtension];

const INSTALLED = Symbol.for('weir.nunjucks.jinjaCompat');

/**
 * Jinja compatibility (slices `x[1:]`, True/False/None) patches nunjucks' parser prototype, and
 * the node classes are made cheaper (below); do both once per process even if this module is
 * loaded twice (tests, bundlers).
 */
function ensureJinjaCompat(): void {
  const holder = nunjucks as unknown as Record<symbol, boolean>;
  if (holder[INSTALLED]) return;
  nj.installJinjaCompat();
  speedUpNodeClasses();
  holder[INSTALLED] = true;
}

interface NodeClass {
  prototype: { fields: readonly string[]; init(this: Record<string, unknown>, ...args: unknown[]): void };
}

/**
 * nunjucks' node classes answer `typename` (and `fields`, for values and lists) with getters, the
 * latter building a new array on every call, and initialise every node through a forEach over
 * its fields. The parser builds ~75 nodes per model and the interpreter asks each node its
 * `typename`, so the getters become plain values on the prototypes and `init` a plain loop: the
 * same fields and values, so the same trees (measured: ~30 ms of a 1,000-model compile).
 */
function speedUpNodeClasses(): void {
  for (const cls of Object.values(nj.nodes as unknown as Record<string, unknown>)) {
    if (typeof cls !== 'function') continue;
    const proto = (cls as NodeClass).prototype;
    for (const key of ['typename', 'fields']) {
      const getter = Object.getOwnPropertyDescriptor(proto, key)?.get;
      if (getter) Object.defineProperty(proto, key, { value: getter.call(proto), configurable: true });
    }
  }
  (nj.nodes.Node as NodeClass).prototype.init = function init(lineno, colno, ...values) {
    this.lineno = lineno;
    this.colno = colno;
    const fields = (this as unknown as { fields: readonly string[] }).fields;
    for (let i = 0; i < fields.length; i++) {
      const value = values[i];
      // nunjucks stores an absent field as null.
      this[fields[i]!] = value === undefined ? null : value;
    }
  };
}

const charTables = new Map<string, Uint8Array>();

function tableFor(chars: string): Uint8Array {
  let table = charTables.get(chars);
  if (!table) {
    table = new Uint8Array(128);
    for (let i = 0; i < chars.length; i++) {
      const c = chars.charCodeAt(i);
      if (c < 128) table[c] = 1;
    }
    charTables.set(chars, table);
  }
  return table;
}

/**
 * Drop-in for Tokenizer#_extractMatching (same results, same line/column bookkeeping) that scans
 * with a lookup table instead of growing a string one character at a time; the stock version is
 * most of the parse time for SQL-heavy templates. Installed per tokenizer instance, so nunjucks
 * itself is not modified.
 */
export function fastExtractMatching(
  this: Tokenizer,
  breakOnMatch: boolean,
  charString: string,
): string | null {
  const len = this.len;
  const start = this.index;
  if (start >= len) return null;
  const str = this.str;
  const table = tableFor(charString);
  let i = start;
  while (i < len) {
    const c = str.charCodeAt(i);
    const inSet = c < 128 ? table[c] === 1 : charString.indexOf(str.charAt(i)) !== -1;
    if (inSet === breakOnMatch) break;
    i++;
  }
  if (i === start) return '';
  const segment = str.slice(start, i);
  const lastNewline = segment.lastIndexOf('\n');
  if (lastNewline === -1) {
    this.colno += i - start;
  } else {
    let newlines = 0;
    for (let k = segment.indexOf('\n'); k !== -1; k = segment.indexOf('\n', k + 1)) newlines++;
    this.lineno += newlines;
    this.colno = i - (start + lastNewline + 1);
  }
  this.index = i;
  return segment;
}

// Character classes of nunjucks' lexer (src/lexer.js): whitespace " \n\t\r\xA0" and the
// delimiters "()[]{}%*-+~/#,:|.<>=!" that end a symbol or number.
const WHITESPACE = 1;
const DELIMITER = 2;
const CHAR_CLASS = new Uint8Array(128);
for (const c of ' \n\t\r') CHAR_CLASS[c.charCodeAt(0)] = WHITESPACE;
for (const c of '()[]{}%*-+~/#,:|.<>=!') CHAR_CLASS[c.charCodeAt(0)] = DELIMITER;
const NBSP = 0xa0;

const classOf = (c: number): number => (c < 128 ? CHAR_CLASS[c]! : c === NBSP ? WHITESPACE : 0);

const DELIMITER_TYPES: Readonly<Record<string, string>> = {
  '(': 'left-paren',
  ')': 'right-paren',
  '[': 'left-bracket',
  ']': 'right-bracket',
  '{': 'left-curly',
  '}': 'right-curly',
  ',': 'comma',
  ':': 'colon',
  '~': 'tilde',
  '|': 'pipe',
};

const CH_BANG = 0x21; // !
const CH_DOUBLE_QUOTE = 0x22;
const CH_HASH = 0x23;
const CH_PERCENT = 0x25;
const CH_QUOTE = 0x27;
const CH_STAR = 0x2a;
const CH_DASH = 0x2d;
const CH_DOT = 0x2e;
const CH_SLASH = 0x2f;
const CH_LESS = 0x3c;
const CH_EQUALS = 0x3d;
const CH_GREATER = 0x3e;
const CH_R = 0x72;
const CH_BRACE_OPEN = 0x7b; // {
const CH_BRACE_CLOSE = 0x7d; // }
const CH_NEWLINE = 0x0a;

/**
 * Length of the operator at `i` as nunjucks joins them: `==`, `!=`, `<=`, `>=`, `//`, `**`, and
 * `===`, `!==`; 1 for any other delimiter.
 */
function operatorLength(str: string, i: number, c: number): number {
  const next = str.charCodeAt(i + 1);
  if (next === CH_EQUALS && (c === CH_EQUALS || c === CH_BANG)) {
    return str.charCodeAt(i + 2) === CH_EQUALS ? 3 : 2;
  }
  if (next === CH_EQUALS && (c === CH_LESS || c === CH_GREATER)) return 2;
  if ((c === CH_SLASH || c === CH_STAR) && next === c) return 2;
  return 1;
}

/**
 * Moves the tokenizer past `text` (the source from its position on), keeping nunjucks' 0-based
 * line/column bookkeeping. indexOf on the token's own text: fast, and bounded by the token even
 * in a template without newlines.
 */
function advanceOver(t: Tokenizer, text: string): void {
  const last = text.lastIndexOf('\n');
  if (last === -1) {
    t.colno += text.length;
  } else {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) t.lineno++;
    t.colno = text.length - last - 1;
  }
  t.index += text.length;
}

/** advanceOver for text that holds no newline (operators, names, tag ends). */
function advanceOnLine(t: Tokenizer, end: number): void {
  t.colno += end - t.index;
  t.index = end;
}

function stockNextToken(t: Tokenizer): Token | null {
  return (Object.getPrototypeOf(t) as Tokenizer).nextToken.call(t);
}

function isDigits(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function token(type: string, value: string, lineno: number, colno: number): Token {
  return { type, value, lineno, colno };
}

/**
 * Drop-in for Tokenizer#nextToken with the default tags and without trimBlocks/lstripBlocks (how
 * parseTemplate lexes), for nunjucks' parser: the same tokens at the same positions, found with
 * character codes instead of one-character strings, except that whitespace inside tags is
 * skipped rather than returned (the parser drops it). Lexing was about a third of parsing a
 * model. Anything unusual (escapes in strings, floats, `r/regex/`, an unclosed comment, a stray
 * `#}`) goes to the stock method before anything is consumed, so its results and errors are
 * nunjucks' own. parseTemplate's tests compare trees and errors with the stock lexer's on
 * generated templates.
 */
export function fastNextToken(this: Tokenizer): Token | null {
  const str = this.str;
  const len = this.len;
  let start = this.index;
  if (start >= len) return null;
  let c = str.charCodeAt(start);

  if (!this.in_code) {
    const lineno = this.lineno;
    const colno = this.colno;
    const next = str.charCodeAt(start + 1);
    if (c === CH_BRACE_OPEN && (next === CH_PERCENT || next === CH_BRACE_OPEN)) {
      const end = str.charCodeAt(start + 2) === CH_DASH ? start + 3 : start + 2;
      advanceOnLine(this, end);
      this.in_code = true;
      return token(
        next === CH_PERCENT ? 'block-start' : 'variable-start',
        str.slice(start, end),
        lineno,
        colno,
      );
    }
    if (c === CH_BRACE_OPEN && next === CH_HASH) {
      const close = str.indexOf('#}', start + 2);
      if (close === -1) return stockNextToken(this);
      const value = str.slice(start, close + 2);
      advanceOver(this, value);
      return token('comment', value, lineno, colno);
    }
    // Text up to the next tag; a `#}` in it is nunjucks' "unexpected end of comment".
    let end = str.indexOf('{', start);
    while (end !== -1) {
      const after = str.charCodeAt(end + 1);
      if (after === CH_PERCENT || after === CH_BRACE_OPEN || after === CH_HASH) break;
      end = str.indexOf('{', end + 1);
    }
    if (end === -1) end = len;
    const value = str.slice(start, end);
    if (value.includes('#}')) return stockNextToken(this);
    advanceOver(this, value);
    return token('data', value, lineno, colno);
  }

  // nunjucks' parser drops whitespace tokens (no caller asks for them): skip the run instead.
  if (classOf(c) === WHITESPACE) {
    let end = start;
    let newline = -1;
    do {
      if (str.charCodeAt(end) === CH_NEWLINE) {
        this.lineno++;
        newline = end;
      }
      end++;
    } while (end < len && classOf(str.charCodeAt(end)) === WHITESPACE);
    this.colno = newline === -1 ? this.colno + end - start : end - newline - 1;
    this.index = end;
    if (end >= len) return null;
    start = end;
    c = str.charCodeAt(start);
  }
  const lineno = this.lineno;
  const colno = this.colno;
  const next = str.charCodeAt(start + 1);

  if (c === CH_DOUBLE_QUOTE || c === CH_QUOTE) {
    const close = str.indexOf(c === CH_QUOTE ? "'" : '"', start + 1);
    if (close === -1) return stockNextToken(this);
    const value = str.slice(start + 1, close);
    if (value.includes('\\')) return stockNextToken(this);
    advanceOver(this, str.slice(start, close + 1));
    return token('string', value, lineno, colno);
  }
  // Tag ends: `%}`, `-%}`, `}}`, `-}}`.
  const dashed = c === CH_DASH ? 1 : 0;
  const first = dashed ? next : c;
  const second = str.charCodeAt(start + dashed + 1);
  if (second === CH_BRACE_CLOSE && (first === CH_PERCENT || first === CH_BRACE_CLOSE)) {
    const end = start + dashed + 2;
    advanceOnLine(this, end);
    this.in_code = false;
    return token(first === CH_PERCENT ? 'block-end' : 'variable-end', str.slice(start, end), lineno, colno);
  }
  if (c === CH_R && next === CH_SLASH) return stockNextToken(this);
  if (classOf(c) === DELIMITER) {
    const end = start + operatorLength(str, start, c);
    const value = str.slice(start, end);
    advanceOnLine(this, end);
    return token(DELIMITER_TYPES[value] ?? 'operator', value, lineno, colno);
  }
  let end = start + 1;
  while (end < len && classOf(str.charCodeAt(end)) === 0) end++;
  const word = str.slice(start, end);
  let type: string;
  if (isDigits(word)) {
    if (str.charCodeAt(end) === CH_DOT) return stockNextToken(this);
    type = 'int';
  } else if (word === 'true' || word === 'false') {
    type = 'boolean';
  } else if (word === 'none' || word === 'null') {
    type = 'none';
  } else {
    type = 'symbol';
  }
  advanceOnLine(this, end);
  return token(type, word, lineno, colno);
}

/** A template that does not parse: message without nunjucks' internal prefixes, 1-based position. */
export class TemplateSyntaxError extends Error {
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(message: string, line: number | undefined, column: number | undefined) {
    super(message);
    this.name = 'TemplateSyntaxError';
    this.line = line;
    this.column = column;
  }
}

export function stripFinalNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

const LEXER_OPTS = { autoescape: false, trimBlocks: false, lstripBlocks: false };

export function cleanParserMessage(message: string): string {
  return (
    message
      // "parseSignature: expected comma after expression" -> "expected comma after expression"
      .replace(/^(?:parse|compile)\w*: /, '')
      .replace(/^Template render error: /, '')
      .trim()
  );
}

const BLOCK_TAGS = new Set([
  'if',
  'for',
  'macro',
  'call',
  'filter',
  'raw',
  'verbatim',
  'block',
  'switch',
  'set',
]);

/** The innermost block tag without its end tag, by a scan of the tags (comments skipped). */
export function findUnclosedBlock(
  source: string,
  stopAt = source.length,
): { tag: string; line: number; column: number } | undefined {
  const stack: { tag: string; index: number }[] = [];
  const tags = /\{#[\s\S]*?#\}|\{%-?\s*(\w+)([^%]*)%\}/g;
  for (let m = tags.exec(source); m && m.index < stopAt; m = tags.exec(source)) {
    const name = m[1];
    if (!name) continue;
    const top = stack[stack.length - 1];
    if (top && (top.tag === 'raw' || top.tag === 'verbatim') && name !== `end${top.tag}`) continue;
    if (name.startsWith('end')) {
      const opener = name.slice(3);
      const at = stack.map((b) => b.tag).lastIndexOf(opener);
      if (at !== -1) stack.length = at;
    } else if (BLOCK_TAGS.has(name) && !(name === 'set' && (m[2] ?? '').includes('='))) {
      stack.push({ tag: name, index: m.index });
    }
  }
  const open = stack[stack.length - 1];
  if (!open) return undefined;
  const before = source.slice(0, open.index);
  const line = before.split('\n').length;
  return { tag: open.tag, line, column: open.index - before.lastIndexOf('\n') };
}

/**
 * A syntax tree as plain data: each node an object of its own properties plus its `typename`
 * (which nunjucks keeps on the class), so it survives serialization (see ParseCache). The
 * interpreter reads nodes by `typename` and fields only, so it renders both alike.
 */
export function plainTree(node: AstNode): AstNode {
  return plainValue(node) as AstNode;
}

function plainValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainValue);
  if (value === null || typeof value !== 'object' || !('typename' in value)) return value;
  const out: Record<string, unknown> = { typename: (value as AstNode).typename };
  for (const key of Object.keys(value)) out[key] = plainValue((value as Record<string, unknown>)[key]);
  return out;
}

/**
 * Parses a template into a nunjucks syntax tree; throws TemplateSyntaxError. Like Jinja's
 * default (keep_trailing_newline=False), a single newline at the very end is not part of it.
 */
export function parseTemplate(template: string, opts: { fastLexer?: boolean } = {}): AstNode {
  ensureJinjaCompat();
  const source = stripFinalNewline(template);
  const tokens = nj.lexer.lex(source, LEXER_OPTS);
  if (opts.fastLexer !== false) {
    tokens._extractMatching = fastExtractMatching;
    tokens.nextToken = fastNextToken;
  }
  const parser = new nj.parser.Parser(tokens);
  parser.extensions = EXTENSIONS;
  try {
    return parser.parseAsRoot();
  } catch (err: unknown) {
    const e = err as { message?: unknown; lineno?: unknown; colno?: unknown };
    const message = cleanParserMessage(typeof e.message === 'string' ? e.message : String(err));
    if (/end of file/.test(message)) {
      // "got end of file" is reported at the end; the useful position is the block left open.
      const open = findUnclosedBlock(source);
      if (open) {
        throw new TemplateSyntaxError(
          `'${open.tag}' block is never closed (${message})`,
          open.line,
          open.column,
        );
      }
    }
    // Parser errors carry a 1-based position; lexer errors carry none, so use where the lexer stopped.
    const line = typeof e.lineno === 'number' && e.lineno > 0 ? e.lineno : tokens.lineno + 1;
    const column = typeof e.colno === 'number' && e.colno > 0 ? e.colno : undefined;
    const strayEnd = /^unknown block tag: (end\w+)$/.exec(message);
    if (strayEnd) {
      let offset = 0;
      for (let l = 1; l < line; l++) offset = source.indexOf('\n', offset) + 1;
      // Stop before the stray end tag itself: nunjucks points at its name, inside the tag.
      const open = findUnclosedBlock(source, source.lastIndexOf('{%', offset + (column ?? 1) - 1));
      if (open) {
        throw new TemplateSyntaxError(
          `'${strayEnd[1]}' does not close the '${open.tag}' block opened on line ${open.line}`,
          line,
          column,
        );
      }
    }
    throw new TemplateSyntaxError(message, line, column);
  }
}
