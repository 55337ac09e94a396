import nunjucks from 'nunjucks';
import {
  isPlainObject,
  pyEquals,
  pyFormat,
  pyGetItem,
  pyIterate,
  pyRepr,
  pyStr,
  pyTruthy,
  type Kwargs,
} from './py-values.js';

/**
 * Filters (`{{ x | lower }}`) and tests (`{% if x is none %}`) with Jinja's names and keyword
 * arguments. nunjucks' own implementations are reused where they already behave like Jinja; the
 * rest (Jinja's `map`, `selectattr`, `tojson`, `unique`, dbt's `as_text`, ...) are defined here.
 */
export type FilterFn = (value: unknown, args: unknown[], kwargs: Kwargs) => unknown;
export type TestFn = (value: unknown, args: unknown[]) => boolean;

type NunjucksFn = (this: unknown, ...args: unknown[]) => unknown;

interface NunjucksEnv {
  filters: Record<string, NunjucksFn>;
  tests: Record<string, NunjucksFn>;
}

/** `this` for nunjucks filters that read `this.env.opts` (groupby, sort). */
let filterThis: { env: NunjucksEnv & { opts: object } } | undefined;

function nunjucksEnv(): NunjucksEnv & { opts: object } {
  if (!filterThis) {
    const env = new nunjucks.Environment(null, { autoescape: false }) as unknown as NunjucksEnv & {
      opts: object;
    };
    filterThis = { env };
  }
  return filterThis.env;
}

/** nunjucks returns SafeString objects from escape/safe; with autoescape off they are plain text. */
function unwrapSafe(value: unknown): unknown {
  if (value instanceof nunjucks.runtime.SafeString) return String(value);
  return value;
}

/**
 * Jinja keyword names of the nunjucks built-ins whose positional order already matches Jinja's,
 * so `sort(attribute='name')` lands in the right slot.
 */
const NUNJUCKS_SIGNATURES: Record<string, readonly string[]> = {
  abs: [],
  batch: ['linecount', 'fill_with'],
  capitalize: [],
  center: ['width'],
  default: ['default_value', 'boolean'],
  d: ['default_value', 'boolean'],
  dictsort: ['case_sensitive', 'by'],
  escape: [],
  e: [],
  forceescape: [],
  safe: [],
  first: [],
  last: [],
  groupby: ['attribute'],
  indent: ['width', 'first'],
  length: [],
  nl2br: [],
  random: [],
  replace: ['old', 'new', 'count'],
  reverse: [],
  round: ['precision', 'method'],
  slice: ['slices', 'fill_with'],
  sort: ['reverse', 'case_sensitive', 'attribute'],
  striptags: [],
  sum: ['attribute', 'start'],
  title: [],
  truncate: ['length', 'killwords', 'end'],
  urlencode: [],
  urlize: ['trim_url_limit', 'nofollow'],
  wordcount: [],
};

function adaptNunjucks(name: string, fn: NunjucksFn, signature: readonly string[]): FilterFn {
  return (value, args, kwargs) => {
    const positional = [...args];
    for (const key of Object.keys(kwargs)) {
      const at = signature.indexOf(key);
      if (at === -1) throw new Error(`filter '${name}' has no keyword argument '${key}'`);
      while (positional.length < at) positional.push(undefined);
      positional[at] = kwargs[key];
    }
    return unwrapSafe(fn.call(filterThis, value, ...positional));
  };
}

function attributeGetter(attribute: unknown): (item: unknown) => unknown {
  const path = pyStr(attribute).split('.');
  return (item) => {
    let current = item;
    for (const part of path) current = pyGetItem(current, /^\d+$/.test(part) ? Number(part) : part);
    return current;
  };
}

function compareValues(a: unknown, b: unknown, caseSensitive: boolean): number {
  const norm = (v: unknown): unknown => (typeof v === 'string' && !caseSensitive ? v.toLowerCase() : v);
  const x = norm(a);
  const y = norm(b);
  if (x === y) return 0;
  if (x === null || x === undefined) return -1;
  if (y === null || y === undefined) return 1;
  return (x as number) < (y as number) ? -1 : 1;
}

function toInt(value: unknown, fallback: unknown, base: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : fallback;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const text = pyStr(value).trim().replace(/_/g, '');
  const radix = base === undefined ? 10 : Number(base);
  if (radix === 10) {
    if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) return fallback;
    return Math.trunc(Number(text));
  }
  const n = parseInt(text, radix);
  return Number.isNaN(n) ? fallback : n;
}

function toFloat(value: unknown, fallback: unknown): unknown {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const n = Number(pyStr(value).trim());
  return pyStr(value).trim() === '' || Number.isNaN(n) ? fallback : n;
}

/** Python's json.dumps: `{"a": 1, "b": [1, 2]}`, with a space after `:` and `,`. */
function toJson(value: unknown, indent: unknown): string {
  const replacer = (_key: string, v: unknown): unknown => {
    if (v === undefined) return null;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !isPlainObject(v)) return String(v);
    return v;
  };
  if (typeof indent === 'number') return JSON.stringify(value ?? null, replacer, indent) ?? 'null';
  const normalized = JSON.parse(JSON.stringify(value ?? null, replacer) ?? 'null') as unknown;
  const dump = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(dump).join(', ')}]`;
    if (isPlainObject(v)) {
      return `{${Object.entries(v)
        .map(([k, x]) => `${JSON.stringify(k)}: ${dump(x)}`)
        .join(', ')}}`;
    }
    return JSON.stringify(v);
  };
  return dump(normalized);
}

function selectOrReject(
  tests: ReadonlyMap<string, TestFn>,
  items: unknown,
  args: unknown[],
  keep: boolean,
  attribute: ((item: unknown) => unknown) | undefined,
): unknown[] {
  const [testName, ...testArgs] = args;
  let check: (v: unknown) => boolean = pyTruthy;
  if (testName !== undefined) {
    const test = tests.get(pyStr(testName));
    if (!test) throw new Error(`no test named '${pyStr(testName)}'`);
    check = (v) => test(v, testArgs);
  }
  return pyIterate(items).filter((item) => check(attribute ? attribute(item) : item) === keep);
}

export function createTests(): Map<string, TestFn> {
  const tests = new Map<string, TestFn>();
  const env = nunjucksEnv();
  for (const [name, fn] of Object.entries(env.tests)) {
    tests.set(name, (value, args) => fn.call(filterThis, value, ...args) === true);
  }
  const isNone = (v: unknown): boolean => v === null || v === undefined;
  tests.set('none', isNone);
  tests.set('null', isNone);
  tests.set('true', (v) => v === true);
  tests.set('false', (v) => v === false);
  tests.set('boolean', (v) => typeof v === 'boolean');
  tests.set('integer', (v) => typeof v === 'number' && Number.isInteger(v));
  tests.set('float', (v) => typeof v === 'number' && !Number.isInteger(v));
  tests.set('number', (v) => typeof v === 'number');
  tests.set('string', (v) => typeof v === 'string');
  tests.set('sequence', (v) => typeof v === 'string' || Array.isArray(v));
  tests.set('mapping', (v) => isPlainObject(v) || v instanceof Map);
  tests.set(
    'iterable',
    (v) =>
      typeof v === 'string' ||
      (v !== null && typeof v === 'object' && (Symbol.iterator in v || isPlainObject(v))),
  );
  tests.set('defined', (v) => v !== undefined);
  tests.set('undefined', (v) => v === undefined);
  tests.set('callable', (v) => typeof v === 'function');
  tests.set('in', (v, args) => {
    const container = args[0];
    if (typeof container === 'string') return container.includes(pyStr(v));
    if (Array.isArray(container)) return container.some((x) => pyEquals(x, v));
    if (isPlainObject(container))
      return typeof v === 'string' && Object.prototype.hasOwnProperty.call(container, v);
    return false;
  });
  const eq: TestFn = (v, args) => pyEquals(v, args[0]);
  for (const name of ['eq', 'equalto', '==', 'sameas']) tests.set(name, eq);
  tests.set('ne', (v, args) => !pyEquals(v, args[0]));
  tests.set('!=', (v, args) => !pyEquals(v, args[0]));
  return tests;
}

export function createFilters(tests: ReadonlyMap<string, TestFn>): Map<string, FilterFn> {
  const filters = new Map<string, FilterFn>();
  const env = nunjucksEnv();
  for (const [name, signature] of Object.entries(NUNJUCKS_SIGNATURES)) {
    const fn = env.filters[name];
    if (fn) filters.set(name, adaptNunjucks(name, fn, signature));
  }

  const text: FilterFn = (v) => pyStr(v);
  filters.set('string', text);
  filters.set('as_text', text);
  filters.set('as_bool', (v) => (typeof v === 'string' ? v.trim().toLowerCase() === 'true' : pyTruthy(v)));
  filters.set('as_number', (v) => toFloat(v, v));
  filters.set('as_native', (v) => v);
  filters.set('lower', (v) => pyStr(v).toLowerCase());
  filters.set('upper', (v) => pyStr(v).toUpperCase());
  filters.set('trim', (v, args, kw) => {
    const chars = args[0] ?? kw.chars;
    const s = pyStr(v);
    if (chars === undefined || chars === null) return s.trim();
    const set = pyStr(chars);
    let from = 0;
    let to = s.length;
    while (from < to && set.includes(s.charAt(from))) from++;
    while (to > from && set.includes(s.charAt(to - 1))) to--;
    return s.slice(from, to);
  });
  filters.set('int', (v, args, kw) => toInt(v, args[0] ?? kw.default ?? 0, args[1] ?? kw.base));
  filters.set('float', (v, args, kw) => toFloat(v, args[0] ?? kw.default ?? 0));
  filters.set('list', (v) => (v === undefined || v === null ? [] : [...pyIterate(v)]));
  filters.set('count', filters.get('length')!);
  filters.set('join', (v, args, kw) => {
    const separator = pyStr(args[0] ?? kw.d ?? '');
    const attribute = args[1] ?? kw.attribute;
    const getter = attribute === undefined || attribute === null ? undefined : attributeGetter(attribute);
    return pyIterate(v)
      .map((item) => pyStr(getter ? getter(item) : item))
      .join(separator);
  });
  filters.set('map', (v, args, kw) => {
    const items = pyIterate(v);
    if (kw.attribute !== undefined) {
      const getter = attributeGetter(kw.attribute);
      return items.map((item) => {
        const value = getter(item);
        return value === undefined && kw.default !== undefined ? kw.default : value;
      });
    }
    const [name, ...rest] = args;
    const filter = filters.get(pyStr(name));
    if (!filter) throw new Error(`no filter named '${pyStr(name)}'`);
    return items.map((item) => filter(item, rest, {}));
  });
  filters.set('select', (v, args) => selectOrReject(tests, v, args, true, undefined));
  filters.set('reject', (v, args) => selectOrReject(tests, v, args, false, undefined));
  filters.set('selectattr', (v, args) =>
    selectOrReject(tests, v, args.slice(1), true, attributeGetter(args[0])),
  );
  filters.set('rejectattr', (v, args) =>
    selectOrReject(tests, v, args.slice(1), false, attributeGetter(args[0])),
  );
  filters.set('unique', (v, args, kw) => {
    const attribute = args[1] ?? kw.attribute;
    const getter = attribute === undefined ? undefined : attributeGetter(attribute);
    const caseSensitive = pyTruthy(args[0] ?? kw.case_sensitive ?? false);
    const seen: unknown[] = [];
    const out: unknown[] = [];
    for (const item of pyIterate(v)) {
      let key = getter ? getter(item) : item;
      if (typeof key === 'string' && !caseSensitive) key = key.toLowerCase();
      if (seen.some((s) => pyEquals(s, key))) continue;
      seen.push(key);
      out.push(item);
    }
    return out;
  });
  const extreme =
    (sign: 1 | -1): FilterFn =>
    (v, args, kw) => {
      const attribute = args[1] ?? kw.attribute;
      const getter = attribute === undefined ? (x: unknown) => x : attributeGetter(attribute);
      const caseSensitive = pyTruthy(args[0] ?? kw.case_sensitive ?? false);
      let best: unknown;
      let first = true;
      for (const item of pyIterate(v)) {
        if (first || sign * compareValues(getter(item), getter(best), caseSensitive) > 0) best = item;
        first = false;
      }
      return best;
    };
  filters.set('max', extreme(1));
  filters.set('min', extreme(-1));
  filters.set('sort', (v, args, kw) => {
    const reverse = pyTruthy(args[0] ?? kw.reverse ?? false);
    const caseSensitive = pyTruthy(args[1] ?? kw.case_sensitive ?? false);
    const attribute = args[2] ?? kw.attribute;
    const getter =
      attribute === undefined || attribute === null ? (x: unknown) => x : attributeGetter(attribute);
    const sorted = [...pyIterate(v)].sort((a, b) => compareValues(getter(a), getter(b), caseSensitive));
    return reverse ? sorted.reverse() : sorted;
  });
  filters.set('tojson', (v, args, kw) => toJson(v, args[0] ?? kw.indent));
  filters.set('dump', (v, args) => toJson(v, args[0]));
  filters.set('items', (v) => (isPlainObject(v) ? Object.entries(v) : v instanceof Map ? [...v] : []));
  filters.set('format', (v, args, kw) => {
    const template = pyStr(v);
    return template.includes('%')
      ? template.replace(
          /%[sdrif]/g,
          (() => {
            let i = 0;
            return (m: string) => (m === '%r' ? pyRepr(args[i++]) : pyStr(args[i++]));
          })(),
        )
      : pyFormat(template, args, kw);
  });
  filters.set('attr', (v, args) => pyGetItem(v, pyStr(args[0])));
  filters.set('pprint', (v) => pyRepr(v));

  // Jinja rejects keyword arguments a filter does not take; so do we, instead of ignoring a typo.
  for (const [name, fn] of filters) {
    if (Object.prototype.hasOwnProperty.call(NUNJUCKS_SIGNATURES, name) && !CUSTOM_KEYWORDS[name]) continue;
    const allowed = CUSTOM_KEYWORDS[name] ?? [];
    if (allowed === '*') continue;
    filters.set(name, (value, args, kwargs) => {
      for (const key of Object.keys(kwargs)) {
        if (!allowed.includes(key)) throw new Error(`filter '${name}' has no keyword argument '${key}'`);
      }
      return fn(value, args, kwargs);
    });
  }
  return filters;
}

/** Keyword arguments of the filters defined here (nunjucks' own are checked by adaptNunjucks). */
const CUSTOM_KEYWORDS: Record<string, readonly string[] | '*'> = {
  trim: ['chars'],
  int: ['default', 'base'],
  float: ['default'],
  join: ['d', 'attribute'],
  map: ['attribute', 'default'],
  unique: ['case_sensitive', 'attribute'],
  min: ['case_sensitive', 'attribute'],
  max: ['case_sensitive', 'attribute'],
  sort: ['reverse', 'case_sensitive', 'attribute'],
  tojson: ['indent'],
  dump: ['indent'],
  format: '*',
};
