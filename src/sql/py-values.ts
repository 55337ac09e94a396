/**
 * Python value semantics for templates written for dbt (Jinja on Python): how values print,
 * which are truthy, how `==`, `+`, `%` and slices behave, and the str/list/dict methods dbt
 * projects call (`.upper()`, `.split()`, `.items()`, `.append()`, ...).
 */

/** Marker on keyword-argument objects, the nunjucks calling convention (`runtime.makeKeywordArgs`). */
export const KEYWORDS_MARKER = '__keywords';

export type Kwargs = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function isKeywordArgs(value: unknown): value is Kwargs {
  return isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, KEYWORDS_MARKER);
}

/** Splits nunjucks-style call arguments into positional values and keyword arguments. */
export function splitArgs(args: readonly unknown[]): { positional: unknown[]; kwargs: Kwargs } {
  const last = args[args.length - 1];
  if (args.length > 0 && isKeywordArgs(last)) {
    const kwargs: Kwargs = {};
    for (const key of Object.keys(last)) if (key !== KEYWORDS_MARKER) kwargs[key] = last[key];
    return { positional: args.slice(0, -1), kwargs };
  }
  return { positional: args as unknown[], kwargs: {} };
}

export function makeKeywordArgs(kwargs: Kwargs): Kwargs {
  return { ...kwargs, [KEYWORDS_MARKER]: true };
}

/** Python truthiness: empty lists, dicts and strings are false, unlike JavaScript. */
export function pyTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (value === true) return true;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Map || value instanceof Set) return value.size > 0;
  if (isPlainObject(value)) {
    for (const _key in value) return true;
    return false;
  }
  return true;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/** `str(value)`: what `{{ value }}` prints. Undefined prints nothing, like Jinja's Undefined. */
export function pyStr(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'undefined':
      return '';
    case 'number':
      return formatNumber(value);
    case 'boolean':
      return value ? 'True' : 'False';
    case 'bigint':
      return value.toString();
    case 'function':
      return `<function ${value.name || 'anonymous'}>`;
    default:
      break;
  }
  if (value === null) return 'None';
  if (Array.isArray(value) || isPlainObject(value) || value instanceof Map || value instanceof Set) {
    return pyRepr(value);
  }
  return String(value);
}

function quoteString(s: string): string {
  const escaped = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  if (!escaped.includes("'")) return `'${escaped}'`;
  if (!escaped.includes('"')) return `"${escaped}"`;
  return `'${escaped.replace(/'/g, "\\'")}'`;
}

/** `repr(value)`, used inside printed lists and dicts: `['a', 1, None]`. */
export function pyRepr(value: unknown): string {
  if (typeof value === 'string') return quoteString(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value instanceof Set) return value.size === 0 ? 'set()' : `{${[...value].map(pyRepr).join(', ')}}`;
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  }
  if (isPlainObject(value)) {
    const parts: string[] = [];
    for (const key of Object.keys(value)) {
      if (key === KEYWORDS_MARKER) continue;
      parts.push(`${quoteString(key)}: ${pyRepr(value[key])}`);
    }
    return `{${parts.join(', ')}}`;
  }
  if (value === undefined) return 'None';
  return pyStr(value);
}

/** Python `==`: no type coercion, structural for lists and dicts, None equals None only. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a === 'boolean' && typeof b === 'number') return Number(a) === b;
  if (typeof a === 'number' && typeof b === 'boolean') return a === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!pyEquals(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka)
      if (!Object.prototype.hasOwnProperty.call(b, k) || !pyEquals(a[k], b[k])) return false;
    return true;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    // Relations, datetimes, SafeStrings: compare by printed value, as their Python __eq__ would.
    const sa = (a as { toString(): string }).toString;
    if (sa !== Object.prototype.toString) return String(a) === String(b);
  }
  return false;
}

/** Python `in`. */
export function pyContains(container: unknown, item: unknown): boolean {
  if (typeof container === 'string') return container.includes(pyStr(item));
  if (Array.isArray(container)) {
    for (const element of container) if (pyEquals(element, item)) return true;
    return false;
  }
  if (container instanceof Set || container instanceof Map) return container.has(item);
  if (container !== null && typeof container === 'object') {
    return typeof item === 'string' && Object.prototype.hasOwnProperty.call(container, item);
  }
  throw new TypeError(`argument of type '${pyTypeName(container)}' is not iterable`);
}

export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (Array.isArray(value)) return 'list';
  if (isPlainObject(value) || value instanceof Map) return 'dict';
  if (typeof value === 'function') return 'function';
  return (value as object).constructor?.name ?? 'object';
}

/** Index with Python's negative indices. */
function normalizeIndex(index: number, length: number): number {
  return index < 0 ? index + length : index;
}

/** `obj[start:stop:step]` for strings and lists. */
export function pySlice(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  const s = step === null || step === undefined ? 1 : Number(step);
  if (s === 0) throw new RangeError('slice step cannot be zero');
  const seq: string | unknown[] =
    typeof obj === 'string'
      ? obj
      : Array.isArray(obj)
        ? obj
        : obj === null || obj === undefined
          ? []
          : [...pyIterate(obj)];
  const len = seq.length;
  const clamp = (v: unknown, dflt: number, lo: number, hi: number): number => {
    if (v === null || v === undefined) return dflt;
    let n = Math.trunc(Number(v));
    if (n < 0) n += len;
    return Math.min(Math.max(n, lo), hi);
  };
  const out: unknown[] = [];
  let text = '';
  if (s > 0) {
    const from = clamp(start, 0, 0, len);
    const to = clamp(stop, len, 0, len);
    for (let i = from; i < to; i += s) {
      if (typeof seq === 'string') text += seq.charAt(i);
      else out.push(seq[i]);
    }
  } else {
    const from = clamp(start, len - 1, -1, len - 1);
    const to = clamp(stop, -1, -1, len - 1);
    for (let i = from; i > to; i += s) {
      if (typeof seq === 'string') text += seq.charAt(i);
      else out.push(seq[i]);
    }
  }
  return typeof seq === 'string' ? text : out;
}

/** The values a `for` loop visits: list items, string characters, dict keys, iterables. */
export function pyIterate(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value === null || value === undefined || value === false) return [];
  if (typeof value === 'string') return Array.from(value);
  if (value instanceof Map) return [...value.keys()];
  if (isPlainObject(value)) return Object.keys(value).filter((k) => k !== KEYWORDS_MARKER);
  if (typeof value === 'object' && Symbol.iterator in value) return Array.from(value as Iterable<unknown>);
  throw new TypeError(`'${pyTypeName(value)}' object is not iterable`);
}

function formatPercent(format: string, args: unknown): string {
  const values = Array.isArray(args) ? args : [args];
  let i = 0;
  return format.replace(
    /%(\([^)]*\))?([-+ 0#]*)(\d+)?(?:\.(\d+))?([sdifr%])/g,
    (m, key, _flags, _width, prec, conv) => {
      if (conv === '%') return '%';
      const value =
        typeof key === 'string' && isPlainObject(args) ? args[key.slice(1, -1)] : (values[i++] as unknown);
      switch (conv) {
        case 's':
          return pyStr(value);
        case 'r':
          return pyRepr(value);
        case 'd':
        case 'i':
          return String(Math.trunc(Number(value)));
        case 'f':
          return Number(value).toFixed(prec === undefined ? 6 : Number(prec));
        default:
          return m;
      }
    },
  );
}

/** `'{} and {name}'.format(...)`. */
export function pyFormat(template: string, positional: readonly unknown[], kwargs: Kwargs): string {
  let auto = 0;
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, field: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const [name = '', spec] = (field ?? '').split(':');
    let value: unknown;
    if (name === '') value = positional[auto++];
    else if (/^\d+$/.test(name)) value = positional[Number(name)];
    else value = kwargs[name];
    if (spec && /^\.\d+f$/.test(spec)) return Number(value).toFixed(Number(spec.slice(1, -1)));
    return pyStr(value);
  });
}

/** Binary `+` with Python meaning for strings and lists. */
export function pyAdd(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a === 'string' || typeof b === 'string') return pyStr(a) + pyStr(b);
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (a instanceof PyDateTime && b instanceof PyTimedelta) return a.plus(b.milliseconds);
  if (a instanceof PyTimedelta && b instanceof PyDateTime) return b.plus(a.milliseconds);
  if (a instanceof PyTimedelta && b instanceof PyTimedelta)
    return new PyTimedelta(a.milliseconds + b.milliseconds);
  return Number(a) + Number(b);
}

export function pySub(a: unknown, b: unknown): unknown {
  if (a instanceof PyDateTime && b instanceof PyTimedelta) return a.plus(-b.milliseconds);
  if (a instanceof PyDateTime && b instanceof PyDateTime)
    return new PyTimedelta(a.date.getTime() - b.date.getTime());
  if (a instanceof PyTimedelta && b instanceof PyTimedelta)
    return new PyTimedelta(a.milliseconds - b.milliseconds);
  return Number(a) - Number(b);
}

export function pyMul(a: unknown, b: unknown): unknown {
  if (typeof a === 'string' && typeof b === 'number') return a.repeat(Math.max(0, b));
  if (typeof a === 'number' && typeof b === 'string') return b.repeat(Math.max(0, a));
  if (Array.isArray(a) && typeof b === 'number') {
    const out: unknown[] = [];
    for (let i = 0; i < b; i++) out.push(...a);
    return out;
  }
  return Number(a) * Number(b);
}

export function pyMod(a: unknown, b: unknown): unknown {
  if (typeof a === 'string') return formatPercent(a, b);
  const x = Number(a);
  const y = Number(b);
  return ((x % y) + y) % y;
}

// ---------------------------------------------------------------------------------------------
// Methods: `'abc'.upper()`, `[1].append(2)`, `{'a': 1}.items()`.

type Method = (this: never, ...args: unknown[]) => unknown;

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  if (chars === undefined || chars === null) {
    if (left && right) return s.trim();
    return left ? s.trimStart() : s.trimEnd();
  }
  const set = pyStr(chars);
  let from = 0;
  let to = s.length;
  if (left) while (from < to && set.includes(s.charAt(from))) from++;
  if (right) while (to > from && set.includes(s.charAt(to - 1))) to--;
  return s.slice(from, to);
}

function pySplit(s: string, sep: unknown, maxsplit: unknown): string[] {
  const limit = maxsplit === undefined || maxsplit === null ? -1 : Number(maxsplit);
  if (sep === undefined || sep === null) {
    const parts = s.trim().split(/\s+/);
    if (parts.length === 1 && parts[0] === '') return [];
    if (limit < 0 || parts.length <= limit + 1) return parts;
    // Re-split keeping the remainder intact.
    const out: string[] = [];
    let rest = s.trimStart();
    for (let i = 0; i < limit; i++) {
      const m = /\s+/.exec(rest);
      if (!m) break;
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    out.push(rest);
    return out;
  }
  const separator = pyStr(sep);
  const parts = s.split(separator);
  if (limit < 0 || parts.length <= limit + 1) return parts;
  return [...parts.slice(0, limit), parts.slice(limit).join(separator)];
}

function matchesAffix(s: string, affix: unknown, atStart: boolean): boolean {
  const options = Array.isArray(affix) ? affix : [affix];
  return options.some((a) => (atStart ? s.startsWith(pyStr(a)) : s.endsWith(pyStr(a))));
}

function replaceCount(s: string, oldValue: unknown, newValue: unknown, count: unknown): string {
  const o = pyStr(oldValue);
  const n = pyStr(newValue);
  const max = count === undefined || count === null ? -1 : Number(count);
  if (max < 0) return s.split(o).join(n);
  let out = '';
  let rest = s;
  for (let i = 0; i < max; i++) {
    const at = rest.indexOf(o);
    if (at === -1) break;
    out += rest.slice(0, at) + n;
    rest = rest.slice(at + o.length);
  }
  return out + rest;
}

const STRING_METHODS: Record<string, (this: string, ...args: unknown[]) => unknown> = {
  upper() {
    return this.toUpperCase();
  },
  lower() {
    return this.toLowerCase();
  },
  strip(chars) {
    return stripChars(this, chars, true, true);
  },
  lstrip(chars) {
    return stripChars(this, chars, true, false);
  },
  rstrip(chars) {
    return stripChars(this, chars, false, true);
  },
  split(sep, maxsplit) {
    return pySplit(this, sep, maxsplit);
  },
  splitlines() {
    return this.split(/\r?\n/).filter((line, i, all) => i < all.length - 1 || line !== '');
  },
  startswith(prefix) {
    return matchesAffix(this, prefix, true);
  },
  endswith(suffix) {
    return matchesAffix(this, suffix, false);
  },
  replace(oldValue, newValue, count) {
    return replaceCount(this, oldValue, newValue, count);
  },
  join(items) {
    return pyIterate(items).map(pyStr).join(this);
  },
  format(...args) {
    const { positional, kwargs } = splitArgs(args);
    return pyFormat(this, positional, kwargs);
  },
  title() {
    return this.toLowerCase().replace(
      /(^|[^a-zA-Z0-9])([a-z])/g,
      (_m, p: string, c: string) => p + c.toUpperCase(),
    );
  },
  capitalize() {
    return this.charAt(0).toUpperCase() + this.slice(1).toLowerCase();
  },
  count(sub) {
    const s = pyStr(sub);
    if (s === '') return this.length + 1;
    return this.split(s).length - 1;
  },
  find(sub) {
    return this.indexOf(pyStr(sub));
  },
  rfind(sub) {
    return this.lastIndexOf(pyStr(sub));
  },
  index(sub) {
    const at = this.indexOf(pyStr(sub));
    if (at === -1) throw new Error('ValueError: substring not found');
    return at;
  },
  isdigit() {
    return /^\d+$/.test(this);
  },
  isnumeric() {
    return /^\d+$/.test(this);
  },
  isalpha() {
    return /^[A-Za-z]+$/.test(this);
  },
  isalnum() {
    return /^[A-Za-z0-9]+$/.test(this);
  },
  isupper() {
    return /[A-Z]/.test(this) && this === this.toUpperCase();
  },
  islower() {
    return /[a-z]/.test(this) && this === this.toLowerCase();
  },
  isspace() {
    return /^\s+$/.test(this);
  },
  zfill(width) {
    return this.padStart(Number(width), '0');
  },
  ljust(width, fill) {
    return this.padEnd(Number(width), fill === undefined ? ' ' : pyStr(fill));
  },
  rjust(width, fill) {
    return this.padStart(Number(width), fill === undefined ? ' ' : pyStr(fill));
  },
  casefold() {
    return this.toLowerCase();
  },
};

const LIST_METHODS: Record<string, (this: unknown[], ...args: unknown[]) => unknown> = {
  append(item) {
    this.push(item);
    return null;
  },
  extend(items) {
    this.push(...pyIterate(items));
    return null;
  },
  insert(index, item) {
    this.splice(normalizeIndex(Number(index), this.length), 0, item);
    return null;
  },
  pop(index) {
    if (this.length === 0) throw new Error('IndexError: pop from empty list');
    if (index === undefined) return this.pop();
    const at = normalizeIndex(Number(index), this.length);
    if (at < 0 || at >= this.length) throw new Error('IndexError: pop index out of range');
    return this.splice(at, 1)[0];
  },
  remove(item) {
    const at = this.findIndex((x) => pyEquals(x, item));
    if (at === -1) throw new Error('ValueError: list.remove(x): x not in list');
    this.splice(at, 1);
    return null;
  },
  index(item) {
    const at = this.findIndex((x) => pyEquals(x, item));
    if (at === -1) throw new Error(`ValueError: ${pyRepr(item)} is not in list`);
    return at;
  },
  count(item) {
    return this.filter((x) => pyEquals(x, item)).length;
  },
  reverse() {
    this.reverse();
    return null;
  },
  copy() {
    return [...this];
  },
};

const DICT_METHODS: Record<string, (this: Record<string, unknown>, ...args: unknown[]) => unknown> = {
  items() {
    return Object.keys(this)
      .filter((k) => k !== KEYWORDS_MARKER)
      .map((k) => [k, this[k]]);
  },
  keys() {
    return Object.keys(this).filter((k) => k !== KEYWORDS_MARKER);
  },
  values() {
    return Object.keys(this)
      .filter((k) => k !== KEYWORDS_MARKER)
      .map((k) => this[k]);
  },
  get(key, fallback) {
    const k = pyStr(key);
    return Object.prototype.hasOwnProperty.call(this, k) ? this[k] : fallback === undefined ? null : fallback;
  },
  has_key(key) {
    return Object.prototype.hasOwnProperty.call(this, pyStr(key));
  },
  update(...args) {
    const { positional, kwargs } = splitArgs(args);
    for (const source of positional) if (isPlainObject(source)) Object.assign(this, source);
    Object.assign(this, kwargs);
    return null;
  },
  pop(key, fallback) {
    const k = pyStr(key);
    if (Object.prototype.hasOwnProperty.call(this, k)) {
      const value = this[k];
      delete this[k];
      return value;
    }
    if (fallback === undefined) throw new Error(`KeyError: ${pyRepr(key)}`);
    return fallback;
  },
  setdefault(key, fallback) {
    const k = pyStr(key);
    if (!Object.prototype.hasOwnProperty.call(this, k)) this[k] = fallback === undefined ? null : fallback;
    return this[k];
  },
  copy() {
    return { ...this };
  },
};
DICT_METHODS.iteritems = DICT_METHODS.items!;
DICT_METHODS.iterkeys = DICT_METHODS.keys!;
DICT_METHODS.itervalues = DICT_METHODS.values!;

const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

/**
 * The Python method `name` of `obj`, unbound, or undefined. Data wins over methods on dicts, so
 * a dict with a key `items` still returns its value for `d.items`.
 */
export function pyMethod(obj: unknown, name: string): Method | undefined {
  if (typeof obj === 'string')
    return hasOwn(STRING_METHODS, name) ? (STRING_METHODS[name] as Method) : undefined;
  if (Array.isArray(obj)) return hasOwn(LIST_METHODS, name) ? (LIST_METHODS[name] as Method) : undefined;
  if (isPlainObject(obj) && !hasOwn(obj, name) && hasOwn(DICT_METHODS, name))
    return DICT_METHODS[name] as Method;
  return undefined;
}

/** `obj.key` / `obj[key]` (without Python methods): None-safe, negative list indices. */
export function pyGetItem(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return undefined;
  if (typeof key === 'number') {
    if (typeof obj === 'string') return obj.charAt(normalizeIndex(key, obj.length)) || undefined;
    if (Array.isArray(obj)) return obj[normalizeIndex(key, obj.length)];
  }
  if (obj instanceof Map) return obj.get(key);
  if (typeof obj === 'object' || typeof obj === 'function') {
    return (obj as Record<string, unknown>)[key as string];
  }
  if (typeof obj === 'string') return undefined;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// datetime: `run_started_at.strftime('%Y-%m-%d')`, `modules.datetime.timedelta(days=1)`.

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** A UTC datetime with Python's str(), strftime and isoformat. */
export class PyDateTime {
  readonly date: Date;
  /** Whether str() includes `+00:00`, as for dbt's timezone-aware run_started_at. */
  readonly aware: boolean;
  /** A `datetime.date`: prints as `YYYY-MM-DD`. */
  readonly dateOnly: boolean;

  constructor(date: Date, aware = true, dateOnly = false) {
    this.date = date;
    this.aware = aware;
    this.dateOnly = dateOnly;
  }

  get year(): number {
    return this.date.getUTCFullYear();
  }
  get month(): number {
    return this.date.getUTCMonth() + 1;
  }
  get day(): number {
    return this.date.getUTCDate();
  }
  get hour(): number {
    return this.date.getUTCHours();
  }
  get minute(): number {
    return this.date.getUTCMinutes();
  }
  get second(): number {
    return this.date.getUTCSeconds();
  }
  get microsecond(): number {
    return this.date.getUTCMilliseconds() * 1000;
  }

  plus(milliseconds: number): PyDateTime {
    return new PyDateTime(new Date(this.date.getTime() + milliseconds), this.aware, this.dateOnly);
  }

  strftime(format: unknown): string {
    const d = this.date;
    return pyStr(format).replace(/%([a-zA-Z%])/g, (m, c: string) => {
      switch (c) {
        case 'Y':
          return pad(d.getUTCFullYear(), 4);
        case 'y':
          return pad(d.getUTCFullYear() % 100);
        case 'm':
          return pad(d.getUTCMonth() + 1);
        case 'd':
          return pad(d.getUTCDate());
        case 'H':
          return pad(d.getUTCHours());
        case 'I':
          return pad(d.getUTCHours() % 12 || 12);
        case 'p':
          return d.getUTCHours() < 12 ? 'AM' : 'PM';
        case 'M':
          return pad(d.getUTCMinutes());
        case 'S':
          return pad(d.getUTCSeconds());
        case 'f':
          return pad(d.getUTCMilliseconds() * 1000, 6);
        case 'j': {
          const startOfYear = Date.UTC(d.getUTCFullYear(), 0, 1);
          return pad(Math.floor((d.getTime() - startOfYear) / 86_400_000) + 1, 3);
        }
        case 'a':
          return WEEKDAYS[d.getUTCDay()]!.slice(0, 3);
        case 'A':
          return WEEKDAYS[d.getUTCDay()]!;
        case 'b':
          return MONTHS[d.getUTCMonth()]!.slice(0, 3);
        case 'B':
          return MONTHS[d.getUTCMonth()]!;
        case 'w':
          return String(d.getUTCDay());
        case 'z':
          return this.aware ? '+0000' : '';
        case 'Z':
          return this.aware ? 'UTC' : '';
        case '%':
          return '%';
        default:
          return m;
      }
    });
  }

  isoformat(sep?: unknown): string {
    if (this.dateOnly) return this.strftime('%Y-%m-%d');
    const s = typeof sep === 'string' ? sep : 'T';
    const fraction = this.date.getUTCMilliseconds() ? this.strftime('.%f') : '';
    return this.strftime(`%Y-%m-%d${s}%H:%M:%S`) + fraction + (this.aware ? '+00:00' : '');
  }

  timestamp(): number {
    return this.date.getTime() / 1000;
  }

  toString(): string {
    return this.isoformat(' ');
  }
}

export class PyTimedelta {
  readonly milliseconds: number;

  constructor(milliseconds: number) {
    this.milliseconds = milliseconds;
  }

  get days(): number {
    return Math.floor(this.milliseconds / 86_400_000);
  }

  total_seconds(): number {
    return this.milliseconds / 1000;
  }

  toString(): string {
    const days = this.days;
    let rest = Math.round(this.milliseconds - days * 86_400_000) / 1000;
    const h = Math.floor(rest / 3600);
    rest -= h * 3600;
    const m = Math.floor(rest / 60);
    const s = rest - m * 60;
    const clock = `${h}:${pad(m)}:${pad(Math.floor(s))}`;
    return days === 0 ? clock : `${days} day${Math.abs(days) === 1 ? '' : 's'}, ${clock}`;
  }
}

/** `modules.datetime`: the parts dbt projects use. */
export function datetimeModule(now: () => Date): Record<string, unknown> {
  const timedelta = (...args: unknown[]): PyTimedelta => {
    const { positional, kwargs } = splitArgs(args);
    const n = (v: unknown): number => (v === undefined ? 0 : Number(v));
    const ms =
      n(positional[0] ?? kwargs.days) * 86_400_000 +
      n(positional[1] ?? kwargs.seconds) * 1000 +
      n(positional[2] ?? kwargs.microseconds) / 1000 +
      n(kwargs.milliseconds) +
      n(kwargs.minutes) * 60_000 +
      n(kwargs.hours) * 3_600_000 +
      n(kwargs.weeks) * 7 * 86_400_000;
    return new PyTimedelta(ms);
  };
  const datetime = {
    now: () => new PyDateTime(now(), false),
    utcnow: () => new PyDateTime(now(), false),
    fromisoformat: (s: unknown) => new PyDateTime(new Date(pyStr(s)), /[zZ]|[+-]\d\d:?\d\d$/.test(pyStr(s))),
  };
  const date = {
    today: () => {
      const d = now();
      return new PyDateTime(
        new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())),
        false,
        true,
      );
    },
  };
  return { datetime, date, timedelta };
}
