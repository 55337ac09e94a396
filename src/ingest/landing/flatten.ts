import { createHash } from 'node:crypto';
import type { NestedSpec } from '../types.js';

/** Separator of flattened nested names: `address__city`. */
export const NESTED_SEPARATOR = '__';

export interface FlatRecord {
  readonly row: Record<string, unknown>;
  /** Child-table rows by array path (`items`, `items__tags`), each keyed to this record. */
  readonly children: ReadonlyMap<string, Record<string, unknown>[]>;
}

/**
 * Flattens one JSON record: objects become `parent__child` columns down to `maxDepth`, deeper
 * objects stay JSON text; arrays stay JSON text, or (child_table) become rows of a child table
 * with `_parent_key` (the parent's primary key, or a hash of the parent record) and `_index`.
 */
export function flattenRecord(
  value: Readonly<Record<string, unknown>>,
  nested: NestedSpec,
  primaryKey: readonly string[],
): FlatRecord {
  const row: Record<string, unknown> = {};
  const arrays: [string, unknown[]][] = [];
  const walk = (obj: Readonly<Record<string, unknown>>, prefix: string, depth: number): void => {
    for (const [k, v] of Object.entries(obj)) {
      const name = prefix ? `${prefix}${NESTED_SEPARATOR}${k}` : k;
      if (Array.isArray(v)) {
        if (nested.arrays === 'child_table') arrays.push([name, v]);
        else row[name] = JSON.stringify(v);
      } else if (v !== null && typeof v === 'object') {
        if (depth < nested.maxDepth) walk(v as Record<string, unknown>, name, depth + 1);
        else row[name] = JSON.stringify(v);
      } else {
        row[name] = v;
      }
    }
  };
  walk(value, '', 0);
  const children = new Map<string, Record<string, unknown>[]>();
  if (arrays.length > 0) {
    const parentKey =
      primaryKey.length > 0 && primaryKey.every((k) => row[k] !== undefined && row[k] !== null)
        ? primaryKey.map((k) => String(row[k])).join('|')
        : createHash('sha1').update(JSON.stringify(value)).digest('hex');
    for (const [name, items] of arrays) {
      const rows: Record<string, unknown>[] = [];
      items.forEach((item, index) => {
        const base = { _parent_key: parentKey, _index: index };
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
          const flat = flattenRecord(item as Record<string, unknown>, { ...nested, arrays: 'json' }, []);
          rows.push({ ...base, ...flat.row });
        } else {
          rows.push({ ...base, value: Array.isArray(item) ? JSON.stringify(item) : item });
        }
      });
      children.set(name, rows);
    }
  }
  return { row, children };
}
