/**
 * Columnar step results. A TypeScript step with an `output` may return rows, or columns: an
 * Apache Arrow JS `Table` / `RecordBatch` (or an array of them), recognised by shape (`numRows`,
 * `schema.fields`, `getChild`) so Weir needs no Arrow dependency, or `{ columns: { name: [...] } }`.
 * They are turned into rows before the table is written: a convenience, not a zero-copy path.
 */
export interface ArrowLikeVector {
  get(index: number): unknown;
}

export interface ArrowLike {
  readonly numRows: number;
  readonly schema: { readonly fields: ReadonlyArray<{ readonly name: string }> };
  getChild(name: string): ArrowLikeVector | null;
}

export interface ColumnBatch {
  readonly columns: Readonly<Record<string, ArrayLike<unknown>>>;
}

export function isArrowLike(v: unknown): v is ArrowLike {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { numRows?: unknown; schema?: { fields?: unknown }; getChild?: unknown };
  return typeof o.numRows === 'number' && Array.isArray(o.schema?.fields) && typeof o.getChild === 'function';
}

export function isColumnBatch(v: unknown): v is ColumnBatch {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  const columns = (v as { columns?: unknown }).columns;
  return (
    keys.length === 1 &&
    typeof columns === 'object' &&
    columns !== null &&
    Object.values(columns).every((c) => Array.isArray(c) || ArrayBuffer.isView(c))
  );
}

/** Arrow int64 values arrive as bigint: keep them numbers when they fit. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER))
    return Number(v);
  return v;
}

function arrowRows(t: ArrowLike): Record<string, unknown>[] {
  const names = t.schema.fields.map((f) => f.name);
  const vectors = names.map((n) => t.getChild(n));
  const rows: Record<string, unknown>[] = new Array<Record<string, unknown>>(t.numRows);
  for (let i = 0; i < t.numRows; i++) {
    const row: Record<string, unknown> = {};
    names.forEach((n, c) => (row[n] = plain(vectors[c]?.get(i) ?? null)));
    rows[i] = row;
  }
  return rows;
}

function batchRows(b: ColumnBatch): Record<string, unknown>[] {
  const names = Object.keys(b.columns);
  const length = Math.max(0, ...names.map((n) => b.columns[n]?.length ?? 0));
  const rows: Record<string, unknown>[] = new Array<Record<string, unknown>>(length);
  for (let i = 0; i < length; i++) {
    const row: Record<string, unknown> = {};
    for (const n of names) row[n] = plain(b.columns[n]?.[i] ?? null);
    rows[i] = row;
  }
  return rows;
}

/** Rows for a columnar result (or an array of columnar batches); anything else unchanged. */
export function toRows(value: unknown): unknown {
  if (isArrowLike(value)) return arrowRows(value);
  if (isColumnBatch(value)) return batchRows(value);
  if (Array.isArray(value) && value.length > 0 && value.every((v) => isArrowLike(v) || isColumnBatch(v)))
    return value.flatMap((v: ArrowLike | ColumnBatch) => (isArrowLike(v) ? arrowRows(v) : batchRows(v)));
  return value;
}
