import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMAS } from './config.js';
import { lazySchema, isString, type LazySchema } from './lazy-schema.js';
import { OUTPUT_SCHEMA } from './profiles.js';
import { KEY_SCHEMAS } from './project-file.js';
import { MATERIALIZATIONS } from './types.js';

const SCALARS: unknown[] = [
  ...['', 'a', 'all', 'error', 'WARN', 'warn ', ',', 'my_project', '1abc', '12', '4x', 'x'.repeat(300)],
  ...MATERIALIZATIONS,
  ...['ignore', 'fail', 'append_new_columns', 'sync_all_columns', 'timestamp', 'check', 'invalidate'],
  ...['new_record', 'minute', 'duckdb', 'view', 'ephemeral'],
  ...[0, -0, 1, 2, 4, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 60, Number.MAX_SAFE_INTEGER],
  ...[true, false, null, undefined, 10n],
];
const COMPOSITES: unknown[] = [
  [],
  ['a'],
  ['a', 'b'],
  ['a', 1],
  [null],
  [[]],
  [{}],
  [{ name: 'httpfs' }],
  ['httpfs', { name: 'x', extra: 1 }],
  {},
  { a: 'b' },
  { a: 1 },
  { a: null },
  { a: ['b'] },
  { sql: 'select 1', transaction: true },
  { show: true },
  { enforced: true },
  Object.create(null) as object,
  new Date(0),
];
const TARGETS: unknown[] = [
  { type: 'duckdb' },
  { type: 'duckdb', path: 'x.duckdb', schema: 'main', database: 'db', threads: 4 },
  { type: 'duckdb', threads: '4' },
  { type: 'duckdb', threads: '4x' },
  { type: 'duckdb', threads: 0 },
  { type: 'duckdb', threads: -1 },
  { type: 'duckdb', threads: 1.5 },
  { type: 'duckdb', threads: 2 ** 60 },
  { type: 'duckdb', extensions: ['httpfs', { name: 'spatial', repository: 'core' }] },
  { type: 'duckdb', extensions: [{}] },
  { type: 'duckdb', extensions: 'httpfs' },
  { type: 'duckdb', settings: { memory_limit: '1GB' } },
  { type: 'duckdb', settings: [] },
  { type: 'duckdb', path: null },
  { type: 'duckdb', custom: { anything: 1 } },
  { type: 1 },
  { path: 'x' },
];
const POOL = [...SCALARS, ...COMPOSITES, ...TARGETS];

const show = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);

const SCHEMAS: [string, LazySchema][] = [
  ...Object.entries(CONFIG_SCHEMAS).map(([k, s]): [string, LazySchema] => [`config ${k}`, s]),
  ...Object.entries(KEY_SCHEMAS).map(([k, s]): [string, LazySchema] => [`project file ${k}`, s]),
  ['profiles.yml target', OUTPUT_SCHEMA],
];

describe('lazy schemas', () => {
  it('accept without zod only values zod accepts unchanged', () => {
    for (const [name, schema] of SCHEMAS) {
      const plain = schema.plain;
      if (!plain) continue;
      let accepted = 0;
      for (const value of POOL) {
        if (!plain(value)) continue;
        accepted++;
        const result = schema.schema().safeParse(value);
        expect(result.success, `${name}: ${show(value)}`).toBe(true);
        expect(result.data, `${name}: ${show(value)}`).toEqual(value);
      }
      expect(accepted, `${name} accepts no value of the pool`).toBeGreaterThan(0);
    }
  });

  it('leave the commonest values to the plain checks', () => {
    const plain = (schema: LazySchema | undefined, value: unknown): boolean =>
      schema?.plain?.(value) === true;
    expect(plain(CONFIG_SCHEMAS['materialized'], 'table')).toBe(true);
    expect(plain(CONFIG_SCHEMAS['tags'], ['a', 'b'])).toBe(true);
    expect(plain(CONFIG_SCHEMAS['column_types'], { a: 'bigint' })).toBe(true);
    expect(plain(KEY_SCHEMAS['model-paths'], ['models'])).toBe(true);
    expect(plain(OUTPUT_SCHEMA, { type: 'duckdb', path: 'x.duckdb', threads: 4 })).toBe(true);
  });

  it('go through zod for anything else, which reports the issue', () => {
    let built = 0;
    const schema = lazySchema((z) => {
      built++;
      return z.string().min(2);
    }, isString);
    expect(schema.safeParse('a')).toEqual({ success: true, data: 'a' });
    expect(built).toBe(0);
    const result = schema.safeParse(3);
    expect(built).toBe(1);
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.issues[0]?.code).toBe('invalid_type');
  });
});
