import { hash } from 'node:crypto';

/**
 * dbt's generic test names (core/dbt/parser/generic_test_builders.py), reproduced so that unique
 * ids, selection and stored failures match what dbt users already see.
 */
export interface TestNames {
  /** e.g. `accepted_values_orders_status__placed__shipped` (used in the unique id). */
  readonly fullName: string;
  /** Under 64 characters: the full name, or its first 30 identifying characters + an md5. */
  readonly shortName: string;
}

const MAX_NAME = 64;

/**
 * @param testName as written, e.g. `not_null` or `dbt_utils.expression_is_true`
 * @param targetName model/seed/snapshot name, or `<source>_<table>` for a source
 * @param args the test's arguments including `column_name`, without configs
 */
export function synthesizeTestNames(
  testName: string,
  targetName: string,
  args: Readonly<Record<string, unknown>>,
  onSource: boolean,
): TestNames {
  const dot = testName.lastIndexOf('.');
  const namespace = dot === -1 ? undefined : testName.slice(0, dot);
  let type = dot === -1 ? testName : testName.slice(dot + 1);
  if (onSource) type = `source_${type}`;
  if (namespace !== undefined) type = `${namespace.replaceAll('.', '_')}_${type}`;

  const flat: string[] = [];
  for (const key of Object.keys(args).sort()) {
    if (key === 'model') continue;
    const value = args[key];
    const parts = Array.isArray(value) ? value : isPlainObject(value) ? Object.values(value) : [value];
    for (const part of parts) flat.push(pyStr(part));
  }
  const unique = flat.map((a) => a.replace(/[^0-9a-zA-Z_]+/g, '_')).join('__');
  const identifier = `${type}_${targetName}`;
  const fullName = `${identifier}_${unique}`;
  const shortName =
    fullName.length >= MAX_NAME
      ? // One-shot hash: createHash sets up stream machinery on first use (~5 ms at start-up).
        `${identifier.slice(0, 30)}_${hash('md5', fullName)}`
      : fullName;
  return { fullName, shortName };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Python's str() of a YAML value, since dbt builds the name from str(arg). */
export function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  return pyRepr(value);
}

function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') {
    if (value.includes("'") && !value.includes('"')) return `"${value.replaceAll('\\', '\\\\')}"`;
    return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value instanceof Date) return value.toISOString();
  if (isPlainObject(value)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}
