import { WeirError } from './errors.js';
import { RESOURCE_TYPES, type Graph, type GraphNode, type ResourceType } from './graph.js';
import { suggest } from './suggest.js';

/**
 * dbt's node selection grammar (https://docs.getdbt.com/reference/node-selection/syntax):
 * space-separated criteria are a union, comma-separated ones an intersection, each criterion is
 * `[@][N+][method[.arg...]:]value[+N]`. Semantics follow dbt-core's selector methods, including
 * indirect test selection and the way `--exclude` removes tests of excluded nodes.
 */
export const SELECTOR_SYNTAX = 'WEIR-G010';

export const SELECTOR_METHODS = [
  'fqn',
  'tag',
  'path',
  'file',
  'config',
  'resource_type',
  'source',
  'package',
  'test_type',
  'test_name',
] as const;
export type SelectorMethod = (typeof SELECTOR_METHODS)[number];

export const INDIRECT_SELECTION_MODES = ['eager', 'cautious', 'buildable', 'empty'] as const;
export type IndirectSelection = (typeof INDIRECT_SELECTION_MODES)[number];

export const TEST_TYPES = ['generic', 'singular'] as const;
export type TestType = (typeof TEST_TYPES)[number];

export interface SelectorCriterion {
  readonly kind: 'criterion';
  /** The criterion as written, operators included (`2+tag:nightly`). */
  readonly raw: string;
  /** 0-based offset of `raw` in the parsed expression. */
  readonly offset: number;
  readonly method: SelectorMethod;
  /** Key path of `config.<key>[.<subkey>]`; empty for other methods. */
  readonly args: readonly string[];
  readonly value: string;
  /** `+value` / `N+value`: ancestors, up to `parentsDepth` generations when set. */
  readonly parents: boolean;
  readonly parentsDepth?: number;
  /** `value+` / `value+N`: descendants, up to `childrenDepth` generations when set. */
  readonly children: boolean;
  readonly childrenDepth?: number;
  /** `@value`: descendants, and every ancestor of those descendants. */
  readonly childrensParents: boolean;
}

export interface SelectorIntersection {
  readonly kind: 'intersection';
  readonly raw: string;
  readonly items: readonly SelectorCriterion[];
}

export interface SelectorUnion {
  readonly kind: 'union';
  readonly raw: string;
  readonly items: ReadonlyArray<SelectorCriterion | SelectorIntersection>;
}

export type SelectorAst = SelectorCriterion | SelectorIntersection | SelectorUnion;

const SYNTAX_HINT =
  `Valid methods: ${SELECTOR_METHODS.join(', ')} (a bare value is a name, fqn or path). ` +
  'Operators: +name, name+, 2+name, name+3, @name; a comma intersects, a space unites.';

/**
 * Parses one selection argument. Whitespace separates a union (dbt accepts `--select "a b"`),
 * commas an intersection. Throws WEIR-G010 pointing at the offending position.
 */
export function parseSelector(expr: string): SelectorAst {
  const members: Array<SelectorCriterion | SelectorIntersection> = [];
  for (const token of expr.matchAll(/\S+/g)) {
    const text = token[0];
    const start = token.index;
    const items: SelectorCriterion[] = [];
    let offset = start;
    for (const part of text.split(',')) {
      if (part === '') {
        throw syntaxError(expr, offset, 'an empty criterion around a comma', 'Remove the extra comma.');
      }
      items.push(parseCriterion(expr, part, offset));
      offset += part.length + 1;
    }
    members.push(
      items.length === 1 ? (items[0] as SelectorCriterion) : { kind: 'intersection', raw: text, items },
    );
  }
  if (members.length === 0) {
    throw syntaxError(
      expr,
      0,
      'an empty selector',
      'Pass a model name, a method such as tag:nightly, or omit it.',
    );
  }
  return members.length === 1
    ? (members[0] as SelectorAst)
    : { kind: 'union', raw: expr.trim(), items: members };
}

function parseCriterion(expr: string, raw: string, offset: number): SelectorCriterion {
  let rest = raw;
  let at = offset;
  const take = (n: number): void => {
    rest = rest.slice(n);
    at += n;
  };

  const childrensParents = rest.startsWith('@');
  if (childrensParents) take(1);

  let parents = false;
  let parentsDepth: number | undefined;
  const prefix = /^(\d*)\+/.exec(rest);
  if (prefix) {
    if (childrensParents) {
      throw syntaxError(expr, at, '"@" cannot be combined with "+"', 'Use either @name or +name, not both.');
    }
    parents = true;
    if (prefix[1]) parentsDepth = Number(prefix[1]);
    take(prefix[0].length);
  }

  let children = false;
  let childrenDepth: number | undefined;
  const suffix = /\+(\d*)$/.exec(rest);
  if (suffix) {
    if (childrensParents) {
      throw syntaxError(
        expr,
        at + suffix.index,
        '"@" cannot be combined with a trailing "+"',
        '@name already includes every descendant of name; drop the "+".',
      );
    }
    children = true;
    if (suffix[1]) childrenDepth = Number(suffix[1]);
    rest = rest.slice(0, suffix.index);
  }

  let method: SelectorMethod | undefined;
  let args: string[] = [];
  let value = rest;
  let valueAt = at;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const spec = rest.slice(0, colon);
    [method, args] = parseMethod(expr, spec, at);
    value = rest.slice(colon + 1);
    valueAt = at + colon + 1;
  }

  if (value === '') {
    const what = method
      ? `the method "${method}" needs a value`
      : 'a selector needs a name or a method:value';
    throw syntaxError(
      expr,
      valueAt,
      what,
      `For example tag:nightly, +stg_orders, config.materialized:table.`,
    );
  }
  const stray = /[+@:]/.exec(value);
  if (stray) {
    throw syntaxError(
      expr,
      valueAt + stray.index,
      `unexpected "${stray[0]}" in "${value}"`,
      `Graph operators go around the whole criterion: N+method:value+N or @method:value.`,
    );
  }
  method ??= defaultMethod(value);
  checkValue(expr, method, value, valueAt);

  return {
    kind: 'criterion',
    raw,
    offset,
    method,
    args,
    value,
    parents,
    ...(parentsDepth !== undefined ? { parentsDepth } : {}),
    children,
    ...(childrenDepth !== undefined ? { childrenDepth } : {}),
    childrensParents,
  };
}

function parseMethod(expr: string, spec: string, at: number): [SelectorMethod, string[]] {
  const [name = '', ...args] = spec.split('.');
  if (name === '') throw syntaxError(expr, at, 'a method name is missing before ":"', SYNTAX_HINT);
  if (!isMethod(name)) {
    const close = suggest(name, SELECTOR_METHODS, 1);
    throw syntaxError(
      expr,
      at,
      `unknown selector method "${name}"`,
      close.length > 0 ? `Did you mean "${close[0]}"? ${SYNTAX_HINT}` : SYNTAX_HINT,
    );
  }
  if (name === 'config') {
    if (args.length === 0) {
      throw syntaxError(
        expr,
        at + name.length,
        'the config method needs a key',
        'Write config.<key>:<value>, e.g. config.materialized:table.',
      );
    }
    let argAt = at + name.length + 1;
    for (const arg of args) {
      if (!/^\w+$/.test(arg)) {
        throw syntaxError(
          expr,
          argAt,
          arg === '' ? 'an empty config key' : `invalid config key "${arg}"`,
          'Write config.<key>:<value>, e.g. config.materialized:table.',
        );
      }
      argAt += arg.length + 1;
    }
  } else if (args.length > 0) {
    throw syntaxError(
      expr,
      at + name.length,
      `the method "${name}" takes no ".${args.join('.')}" argument`,
      'Only config takes a key (config.materialized:table).',
    );
  }
  return [name, args];
}

function isMethod(name: string): name is SelectorMethod {
  return (SELECTOR_METHODS as readonly string[]).includes(name);
}

/** dbt guesses the method of a bare value: a path when it has a separator, a file by extension. */
function defaultMethod(value: string): SelectorMethod {
  if (value.includes('/') || value.includes('\\')) return 'path';
  if (/\.(sql|py|csv)$/i.test(value)) return 'file';
  return 'fqn';
}

function checkValue(expr: string, method: SelectorMethod, value: string, at: number): void {
  const fixed: readonly string[] | undefined =
    method === 'resource_type' ? RESOURCE_TYPES : method === 'test_type' ? TEST_TYPES : undefined;
  if (fixed && !fixed.includes(value)) {
    const close = suggest(value, fixed, 1);
    throw syntaxError(
      expr,
      at,
      `"${value}" is not a valid ${method}`,
      `${close.length > 0 ? `Did you mean "${close[0]}"? ` : ''}Valid values: ${fixed.join(', ')}.`,
    );
  }
  if (method === 'source' && value.split('.').length > 3) {
    throw syntaxError(
      expr,
      at,
      `"${value}" has too many parts for a source`,
      'Write source:<source>, source:<source>.<table> or source:<package>.<source>.<table>.',
    );
  }
}

function syntaxError(expr: string, offset: number, problem: string, hint: string): WeirError {
  const position = offset + 1;
  return new WeirError(
    SELECTOR_SYNTAX,
    `Invalid selector "${expr}" at position ${position}: ${problem}\n  ${expr}\n  ${' '.repeat(offset)}^`,
    { hint, data: { expression: expr, position } },
  );
}

export interface SelectOptions {
  /** Selection arguments (each may hold several space-separated criteria); empty means everything. */
  readonly select?: readonly string[];
  /** Removed from the selection after it is made, together with their indirectly selected tests. */
  readonly exclude?: readonly string[];
  /** Final filter on resource type, applied to indirectly selected tests as to any other node. */
  readonly resourceTypes?: readonly ResourceType[];
  /** How tests attached to selected nodes are picked up. Default `eager`. */
  readonly indirectSelection?: IndirectSelection;
}

export interface SelectResult {
  /** Selected ids in topological order. */
  readonly ids: string[];
  /** Criteria that matched nothing, in the order given. */
  readonly warnings: string[];
}

/** Resolves `--select` / `--exclude` / `--resource-type` against the graph, as dbt does. */
export function select(graph: Graph, options: SelectOptions = {}): SelectResult {
  const mode = options.indirectSelection ?? 'eager';
  const selector = new Selector(graph, mode);
  const warnings: string[] = [];

  const include: Bundle =
    options.select && options.select.length > 0
      ? selector.union(options.select.map(parseSelector), warnings)
      : { direct: new Set(graph.nodes().map((n) => n.id)), indirect: new Set() };
  let chosen = include.direct;
  if (options.exclude && options.exclude.length > 0) {
    const excluded = selector.union(options.exclude.map(parseSelector), warnings);
    const excludedAll = union([excluded.direct, excluded.indirect]);
    const direct = difference(include.direct, excluded.direct);
    const indirect = difference(union([include.direct, include.indirect]), excludedAll);
    chosen = selector.incorporate(direct, indirect);
  }

  const types =
    options.resourceTypes && options.resourceTypes.length > 0 ? new Set(options.resourceTypes) : null;
  const ids = graph.topoOrder(
    types ? [...chosen].filter((id) => types.has(graph.node(id).resourceType)) : chosen,
  );
  return { ids, warnings };
}

/**
 * What a criterion selects: `direct` nodes, and tests that touch the selection but are not (yet)
 * selected in cautious/buildable mode; a later set operation may complete their parents (dbt's
 * `incorporate_indirect_nodes`).
 */
interface Bundle {
  readonly direct: Set<string>;
  readonly indirect: Set<string>;
}

class Selector {
  readonly #graph: Graph;
  readonly #mode: IndirectSelection;
  readonly #patterns = new Map<string, RegExp | null>();
  #sources: ReadonlySet<string> | undefined;

  constructor(graph: Graph, mode: IndirectSelection) {
    this.#graph = graph;
    this.#mode = mode;
  }

  /** A union whose members each warn when they match nothing (dbt's NoNodesForSelectionCriteria). */
  union(asts: readonly SelectorAst[], warnings: string[]): Bundle {
    const bundles: Bundle[] = [];
    for (const ast of asts) {
      for (const member of ast.kind === 'union' ? ast.items : [ast]) {
        const bundle = member.kind === 'criterion' ? this.criterion(member) : this.intersection(member);
        if (bundle.direct.size === 0) warnings.push(this.#noMatch(member));
        bundles.push(bundle);
      }
    }
    return this.#combine(bundles, union);
  }

  intersection(ast: SelectorIntersection): Bundle {
    return this.#combine(
      ast.items.map((item) => this.criterion(item)),
      intersection,
    );
  }

  criterion(c: SelectorCriterion): Bundle {
    const graph = this.#graph;
    const matched = new Set<string>();
    for (const node of graph.nodes()) if (this.#matches(c, node)) matched.add(node.id);

    let selected = matched;
    if (c.childrensParents) {
      const below = union([matched, graph.descendantsOfAll(matched)]);
      selected = union([below, graph.ancestorsOfAll(below)]);
    } else {
      const parts = [matched];
      if (c.parents) parts.push(graph.ancestorsOfAll(matched, c.parentsDepth));
      if (c.children) parts.push(graph.descendantsOfAll(matched, c.childrenDepth));
      if (parts.length > 1) selected = union(parts);
    }
    return this.#expand(selected);
  }

  /** dbt's `expand_selection`: tests right below the selection, by mode. */
  #expand(selected: Set<string>): Bundle {
    const graph = this.#graph;
    const direct = new Set(selected);
    const indirect = new Set<string>();
    if (this.#mode === 'empty') return { direct, indirect };
    const buildable = this.#mode === 'buildable' ? this.#buildable(selected) : undefined;
    for (const id of selected) {
      for (const child of graph.children(id)) {
        if (direct.has(child) || graph.node(child).resourceType !== 'test') continue;
        const parents = graph.parents(child);
        if (
          this.#mode === 'eager' ||
          parents.every((p) => selected.has(p)) ||
          (buildable && parents.every((p) => buildable.has(p)))
        ) {
          direct.add(child);
        } else {
          indirect.add(child);
        }
      }
    }
    return { direct, indirect };
  }

  /** dbt's `incorporate_indirect_nodes`: tests whose parents a set operation completed. */
  incorporate(direct: Set<string>, indirect: Set<string>): Set<string> {
    if (this.#mode !== 'cautious' && this.#mode !== 'buildable') return direct;
    const graph = this.#graph;
    const enough = this.#mode === 'buildable' ? this.#buildable(direct) : direct;
    const out = new Set(direct);
    for (const id of indirect) {
      if (out.has(id) || graph.node(id).resourceType !== 'test') continue;
      if (graph.parents(id).every((p) => enough.has(p))) out.add(id);
    }
    return out;
  }

  /**
   * Nodes a buildable test may depend on: the selection, its ancestors (built before it or
   * already there) and every source (never built, always present), as dbt does.
   */
  #buildable(selected: ReadonlySet<string>): Set<string> {
    this.#sources ??= new Set(
      this.#graph
        .nodes()
        .filter((n) => n.resourceType === 'source')
        .map((n) => n.id),
    );
    return union([selected, this.#graph.ancestorsOfAll(selected), this.#sources]);
  }

  #combine(bundles: readonly Bundle[], op: (sets: readonly Set<string>[]) => Set<string>): Bundle {
    if (bundles.length === 1) return bundles[0] as Bundle;
    const direct = op(bundles.map((b) => b.direct));
    const indirect = op(bundles.map((b) => union([b.direct, b.indirect])));
    return { direct: this.incorporate(direct, indirect), indirect };
  }

  #matches(c: SelectorCriterion, node: GraphNode): boolean {
    const value = c.value;
    switch (c.method) {
      case 'fqn':
        return node.resourceType !== 'source' && this.#fqnMatches(value, node);
      case 'tag':
        return node.tags.some((tag) => this.#glob(value, tag));
      case 'path':
        return this.#pathMatches(value, node.path);
      case 'file': {
        const base = node.path.slice(node.path.lastIndexOf('/') + 1);
        const dot = base.lastIndexOf('.');
        return this.#glob(value, base) || (dot > 0 && this.#glob(value, base.slice(0, dot)));
      }
      case 'config':
        return configMatches(descend(node.config, c.args), value, c.args);
      case 'resource_type':
        return node.resourceType === value;
      case 'source': {
        if (node.resourceType !== 'source') return false;
        const parts = value.split('.');
        const [pkg, source, table] =
          parts.length === 3 ? parts : parts.length === 2 ? ['*', ...parts] : ['*', parts[0], '*'];
        return (
          this.#glob(pkg ?? '*', node.packageName) &&
          this.#glob(source ?? '*', node.sourceName ?? '') &&
          this.#glob(table ?? '*', node.name)
        );
      }
      case 'package':
        return this.#glob(value, node.packageName);
      case 'test_type':
        if (node.resourceType !== 'test') return false;
        return value === 'singular' ? node.testName === 'singular' : node.testName !== 'singular';
      case 'test_name':
        return (
          node.resourceType === 'test' &&
          node.testName !== undefined &&
          node.testName !== 'singular' &&
          this.#glob(value, node.testName)
        );
    }
  }

  /**
   * dbt's qualified-name match: the node's name, or a dotted prefix of its fqn with or without the
   * package (`staging`, `shop.staging.stg_orders`); a `*` part matches everything below it.
   */
  #fqnMatches(value: string, node: GraphNode): boolean {
    if (this.#glob(value, node.name)) return true;
    const wanted = value.split('.');
    const flat = node.fqn.flatMap((part) => part.split('.'));
    return this.#prefixMatches(wanted, flat) || this.#prefixMatches(wanted, flat.slice(1));
  }

  #prefixMatches(wanted: readonly string[], fqn: readonly string[]): boolean {
    if (wanted.length > fqn.length) return false;
    for (let i = 0; i < wanted.length; i++) {
      const part = wanted[i] as string;
      if (part === '*') return true;
      if (!this.#glob(part, fqn[i] as string)) return false;
    }
    return true;
  }

  /** A file or any folder above it matches the (possibly globbed) path, as dbt's path method. */
  #pathMatches(value: string, path: string): boolean {
    const wanted = value
      .replaceAll('\\', '/')
      .replace(/^(\.\/)+/, '')
      .replace(/\/+$/, '');
    if (wanted === '' || wanted === '.') return true;
    let candidate = path;
    for (;;) {
      if (this.#glob(wanted, candidate, true)) return true;
      const slash = candidate.lastIndexOf('/');
      if (slash < 0) return false;
      candidate = candidate.slice(0, slash);
    }
  }

  #glob(pattern: string, text: string, path = false): boolean {
    const key = path ? `p:${pattern}` : `n:${pattern}`;
    let re = this.#patterns.get(key);
    if (re === undefined) {
      re = /[*?[]/.test(pattern) ? globToRegExp(pattern, path) : null;
      this.#patterns.set(key, re);
    }
    return re ? re.test(text) : pattern === text;
  }

  #noMatch(member: SelectorCriterion | SelectorIntersection): string {
    let message = `The selection criterion "${member.raw}" does not match any node`;
    if (member.kind === 'criterion' && member.method === 'fqn' && !/[*?[]/.test(member.value)) {
      const names = new Set(this.#graph.nodes().map((n) => n.name));
      const close = suggest(member.value, names);
      if (close.length > 0) message += ` (did you mean ${close.map((c) => `"${c}"`).join(', ')}?)`;
    }
    return message;
  }
}

function descend(config: Readonly<Record<string, unknown>>, keys: readonly string[]): unknown {
  let current: unknown = config;
  for (const key of keys) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Scalar equality on the text form; lists match on any element; booleans and severity ignore case. */
function configMatches(actual: unknown, wanted: string, keys: readonly string[]): boolean {
  if (actual === undefined) return false;
  if (Array.isArray(actual)) return actual.some((item) => configMatches(item, wanted, keys));
  if (typeof actual === 'boolean') return wanted.toLowerCase() === String(actual);
  if (typeof actual === 'string') {
    return keys.length === 1 && keys[0] === 'severity'
      ? actual.toLowerCase() === wanted.toLowerCase()
      : actual === wanted;
  }
  if (typeof actual === 'number' || typeof actual === 'bigint') return String(actual) === wanted;
  return false;
}

/** fnmatch-style: `*`, `?`, `[abc]`, `[!abc]`; in paths `*` stays within a folder and `**` crosses them. */
function globToRegExp(pattern: string, path: boolean): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') {
      if (path && pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          out += '(?:.*/)?';
        } else {
          out += '.*';
        }
      } else {
        out += path ? '[^/]*' : '.*';
      }
    } else if (ch === '?') {
      out += path ? '[^/]' : '.';
    } else if (ch === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
      } else {
        let body = pattern.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body.replaceAll('\\', '\\\\')}]`;
        i = close;
      }
    } else {
      out += ch.replace(/[.+^${}()|\\\]]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

function union(sets: readonly ReadonlySet<string>[]): Set<string> {
  const out = new Set<string>();
  for (const set of sets) for (const id of set) out.add(id);
  return out;
}

function intersection(sets: readonly ReadonlySet<string>[]): Set<string> {
  const [first, ...rest] = sets;
  const out = new Set<string>();
  if (!first) return out;
  for (const id of first) if (rest.every((s) => s.has(id))) out.add(id);
  return out;
}

function difference(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const id of a) if (!b.has(id)) out.add(id);
  return out;
}
