import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, Node } from 'yaml';
import { parseFastYaml } from './fast-yaml.js';
import type { Loc, YNode, YPair } from './yaml-nodes.js';

/**
 * A YAML document as a small tree where every key and value keeps its line and column, so that a
 * wrong value can be reported at the exact place the user wrote it. Aliases and `<<` merge keys are
 * expanded here, which keeps every consumer free of YAML details.
 */
export type { Loc, YMap, YNode, YPair, YScalar, YSeq } from './yaml-nodes.js';

export interface YamlSyntaxError {
  readonly message: string;
  readonly loc: Loc;
}

export interface ParsedYaml {
  /** Undefined when the file is empty or has syntax errors. */
  readonly root: YNode | undefined;
  readonly errors: readonly YamlSyntaxError[];
}

const MAX_ALIAS_DEPTH = 50;

export function parseYaml(text: string): ParsedYaml {
  const fast = parseFastYaml(text);
  if (fast) return { root: fast.root, errors: [] };
  return parseYamlWithLibrary(text);
}

/**
 * The full YAML 1.2 parser (the `yaml` package). parseYaml uses it for anything the fast path does
 * not handle, and for every file with an error, so that messages are the library's.
 */
export function parseYamlWithLibrary(text: string): ParsedYaml {
  const { LineCounter, parseDocument } = yamlLibrary();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locOf = (offset: number | undefined): Loc => {
    const p = lineCounter.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  if (doc.errors.length > 0) {
    return {
      root: undefined,
      errors: doc.errors.map((e) => ({ message: firstLine(e.message), loc: locOf(e.pos[0]) })),
    };
  }
  if (doc.contents === null) return { root: undefined, errors: [] };
  return { root: convert(doc.contents, doc, locOf, 0, undefined), errors: [] };
}

let library: typeof Yaml | undefined;

/**
 * The `yaml` package is loaded on first use: most projects never need it (see fast-yaml.ts), and
 * not importing it saves its start-up time on every command. Its Node entry point is CommonJS, so
 * require() gives the very module an import would.
 */
function yamlLibrary(): typeof Yaml {
  library ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return library;
}

function firstLine(message: string): string {
  const nl = message.indexOf('\n');
  return nl === -1 ? message : message.slice(0, nl);
}

function convert(
  node: Node | null | undefined,
  doc: Document,
  locOf: (offset: number | undefined) => Loc,
  depth: number,
  fallback: Loc | undefined,
): YNode {
  const { isAlias, isMap, isScalar, isSeq } = yamlLibrary();
  if (node === null || node === undefined) {
    return { kind: 'scalar', value: null, loc: fallback ?? { line: 1, column: 1 } };
  }
  const loc = node.range ? locOf(node.range[0]) : (fallback ?? { line: 1, column: 1 });
  if (isAlias(node)) {
    if (depth > MAX_ALIAS_DEPTH) return { kind: 'scalar', value: null, loc };
    const target = node.resolve(doc);
    // The alias is reported where it is used: that is the line the user looks at.
    const resolved = convert(target as Node | undefined, doc, locOf, depth + 1, loc);
    return relocate(resolved, loc);
  }
  if (isScalar(node)) return { kind: 'scalar', value: node.value, loc };
  if (isSeq(node)) {
    return {
      kind: 'seq',
      items: node.items.map((item) => convert(item as Node | null, doc, locOf, depth, loc)),
      loc,
    };
  }
  if (isMap(node)) {
    const pairs: YPair[] = [];
    const merged: YPair[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const keyLoc = keyNode?.range ? locOf(keyNode.range[0]) : loc;
      const key = keyNode && isScalar(keyNode) ? String(keyNode.value) : String(keyNode ?? '');
      const value = convert(pair.value as Node | null, doc, locOf, depth, keyLoc);
      if (key === '<<' && (!keyNode || !isScalar(keyNode) || keyNode.type === 'PLAIN')) {
        const sources = value.kind === 'seq' ? value.items : [value];
        for (const src of sources) if (src.kind === 'map') merged.push(...src.pairs);
        continue;
      }
      pairs.push({ key, keyLoc, value });
    }
    if (merged.length > 0) {
      const own = new Set(pairs.map((p) => p.key));
      const seen = new Set<string>();
      const fromMerge = merged.filter((p) => !own.has(p.key) && !seen.has(p.key) && seen.add(p.key));
      return { kind: 'map', pairs: [...pairs, ...fromMerge], loc };
    }
    return { kind: 'map', pairs, loc };
  }
  return { kind: 'scalar', value: null, loc };
}

function relocate(node: YNode, loc: Loc): YNode {
  return { ...node, loc };
}

/** The plain JavaScript value of a node (what `yaml.parse` would give). */
export function toJs(node: YNode | undefined): unknown {
  if (!node) return undefined;
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toJs);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const p of node.pairs) setOwn(out, p.key, toJs(p.value));
      return out;
    }
  }
}

/** `obj[key] = value` that stays an own property even for `__proto__`. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

export function getPair(node: YNode | undefined, key: string): YPair | undefined {
  if (!node || node.kind !== 'map') return undefined;
  return node.pairs.find((p) => p.key === key);
}

export function get(node: YNode | undefined, key: string): YNode | undefined {
  return getPair(node, key)?.value;
}

/** The location of the value at `path` under `node` (deepest existing node along it). */
export function locAt(node: YNode, path: readonly PropertyKey[]): Loc {
  return nodeAt(node, path).loc;
}

/** The node at `path` under `node`, or the deepest existing one along it. */
export function nodeAt(node: YNode, path: readonly PropertyKey[]): YNode {
  let current: YNode = node;
  for (const step of path) {
    if (current.kind === 'map') {
      const pair = current.pairs.find((p) => p.key === String(step));
      if (!pair) break;
      current = pair.value;
    } else if (current.kind === 'seq' && typeof step === 'number') {
      const item = current.items[step];
      if (!item) break;
      current = item;
    } else {
      break;
    }
  }
  return current;
}

export function isNullish(node: YNode | undefined): boolean {
  return !node || (node.kind === 'scalar' && (node.value === null || node.value === undefined));
}

/** A short description of a node's kind for messages ("a list", "a number", ...). */
export function describeKind(node: YNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  const v = node.value;
  if (v === null || v === undefined) return 'empty';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v === 'number' ? 'the number' : typeof v === 'boolean' ? 'the boolean' : 'the value'} ${String(v)}`;
}
