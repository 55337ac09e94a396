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
 * Jinja compatibility (slices `x[1:]`, True/False/None) patches nunjucks' parser prototype; do it
 * once per process even if this module is loaded twice (tests, bundlers).
 */
function ensureJinjaCompat(): void {
  const holder = nunjucks as unknown as Record<symbol, boolean>;
  if (holder[INSTALLED]) return;
  nj.installJinjaCompat();
  holder[INSTALLED] = true;
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
 * Parses a template into a nunjucks syntax tree; throws TemplateSyntaxError. Like Jinja's
 * default (keep_trailing_newline=False), a single newline at the very end is not part of it.
 */
export function parseTemplate(template: string, opts: { fastLexer?: boolean } = {}): AstNode {
  ensureJinjaCompat();
  const source = stripFinalNewline(template);
  const tokens = nj.lexer.lex(source, LEXER_OPTS);
  if (opts.fastLexer !== false) tokens._extractMatching = fastExtractMatching;
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
