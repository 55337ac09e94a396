/**
 * The types the ingest layer infers for untyped records (JSON, CSV, REST) and its evolution rules.
 * DuckDB spellings throughout, as `describe` and Delta scans report them.
 */
export const INFERRED_TYPES = [
  'BOOLEAN',
  'BIGINT',
  'DOUBLE',
  'DATE',
  'TIMESTAMP WITH TIME ZONE',
  'VARCHAR',
] as const;
export type InferredType = (typeof INFERRED_TYPES)[number];

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$/;

/** The type of one JSON value (objects and arrays are stored as JSON text: VARCHAR); null for null. */
export function valueType(v: unknown): InferredType | null {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean':
      return 'BOOLEAN';
    case 'bigint':
      return 'BIGINT';
    case 'number':
      return Number.isSafeInteger(v) ? 'BIGINT' : Number.isFinite(v) ? 'DOUBLE' : 'VARCHAR';
    case 'string':
      if (ISO_DATE.test(v) && !Number.isNaN(Date.parse(v))) return 'DATE';
      if (ISO_TIMESTAMP.test(v) && !Number.isNaN(Date.parse(v))) return 'TIMESTAMP WITH TIME ZONE';
      return 'VARCHAR';
    default:
      return 'VARCHAR';
  }
}

/** The narrowest type holding values of both types (first-load inference). */
export function unifyTypes(a: InferredType | null, b: InferredType | null): InferredType | null {
  if (a === null) return b;
  if (b === null || a === b) return a;
  const pair = new Set([a, b]);
  if (pair.has('BIGINT') && pair.has('DOUBLE')) return 'DOUBLE';
  if (pair.has('DATE') && pair.has('TIMESTAMP WITH TIME ZONE')) return 'TIMESTAMP WITH TIME ZONE';
  return 'VARCHAR';
}

/** Safe widening steps of a column's type (int -> bigint -> double). */
const WIDENS_TO: Readonly<Record<string, readonly string[]>> = {
  TINYINT: ['SMALLINT', 'INTEGER', 'BIGINT', 'DOUBLE'],
  SMALLINT: ['INTEGER', 'BIGINT', 'DOUBLE'],
  INTEGER: ['BIGINT', 'DOUBLE'],
  BIGINT: ['DOUBLE'],
  FLOAT: ['DOUBLE'],
};

export function normalizeType(t: string): string {
  const u = t.trim().toUpperCase();
  if (u === 'TIMESTAMPTZ') return 'TIMESTAMP WITH TIME ZONE';
  if (u === 'INT' || u === 'INT4') return 'INTEGER';
  if (u === 'INT8') return 'BIGINT';
  if (u === 'JSON') return 'VARCHAR';
  return u;
}

/** Whether the table column type `to` is a safe widening of `from`. */
export function isWidening(from: string, to: string): boolean {
  return WIDENS_TO[normalizeType(from)]?.includes(normalizeType(to)) === true;
}

/** Whether values of type `value` can be stored in a column of type `column` without loss. */
export function fitsInto(value: string, column: string): boolean {
  const v = normalizeType(value);
  const c = normalizeType(column);
  if (v === c) return true;
  if (c === 'VARCHAR') return true;
  if (isWidening(v, c)) return true;
  if (v === 'DATE' && c === 'TIMESTAMP WITH TIME ZONE') return true;
  // A whole number fits a decimal column when the driver gave it as a number.
  if (c.startsWith('DECIMAL') && (v === 'BIGINT' || v === 'INTEGER')) return true;
  return false;
}
