import { quoteIdent, quoteLiteral, type ColumnSchema } from '../../core/engine.js';
import { lakeError } from '../errors.js';

/*
 * The Delta schema model (PROTOCOL.md "Schema Serialization Format") and its mapping to and from
 * DuckDB types. Writers cast what Delta cannot store (writeCastSql) before the Parquet is written, so
 * every file in a table holds only types a Delta reader understands.
 */

export const DELTA_PRIMITIVE_TYPES = [
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'float',
  'double',
  'boolean',
  'binary',
  'date',
  'timestamp',
  'timestamp_ntz',
  'variant',
] as const;
export type DeltaPrimitiveName = (typeof DELTA_PRIMITIVE_TYPES)[number];

/** A primitive name or `decimal(p,s)`. */
export type DeltaPrimitiveType = DeltaPrimitiveName | `decimal(${number},${number})`;

export interface StructField {
  readonly name: string;
  readonly type: DeltaDataType;
  readonly nullable: boolean;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface StructType {
  readonly type: 'struct';
  readonly fields: readonly StructField[];
}

export interface ArrayType {
  readonly type: 'array';
  readonly elementType: DeltaDataType;
  readonly containsNull: boolean;
}

export interface MapType {
  readonly type: 'map';
  readonly keyType: DeltaDataType;
  readonly valueType: DeltaDataType;
  readonly valueContainsNull: boolean;
}

export type DeltaDataType = DeltaPrimitiveType | StructType | ArrayType | MapType;

const DECIMAL_RE = /^decimal\(\s*(\d+)\s*,\s*(-?\d+)\s*\)$/;

// ---------------------------------------------------------------------------------------------
// Delta schema JSON

/** Parses `metaData.schemaString`. Throws WEIR-L009 naming `where` when it is not a valid schema. */
export function parseSchemaString(schemaString: string, where: string): StructType {
  let value: unknown;
  try {
    value = JSON.parse(schemaString);
  } catch (err) {
    throw invalidSchema(
      where,
      `schemaString is not JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const type = parseDataType(value, where, 'schema');
  if (typeof type !== 'object' || type.type !== 'struct')
    throw invalidSchema(where, 'the schema is not a struct');
  return type;
}

function parseDataType(value: unknown, where: string, path: string): DeltaDataType {
  if (typeof value === 'string') {
    if ((DELTA_PRIMITIVE_TYPES as readonly string[]).includes(value)) return value as DeltaPrimitiveName;
    const m = DECIMAL_RE.exec(value);
    if (m) return `decimal(${Number(m[1])},${Number(m[2])})`;
    if (value === 'decimal') return 'decimal(10,0)';
    throw invalidSchema(where, `unknown type "${value}" at ${path}`);
  }
  if (typeof value !== 'object' || value === null) throw invalidSchema(where, `invalid type at ${path}`);
  const o = value as Record<string, unknown>;
  switch (o['type']) {
    case 'struct': {
      if (!Array.isArray(o['fields'])) throw invalidSchema(where, `struct without fields at ${path}`);
      const fields = o['fields'].map((f: unknown, i: number): StructField => {
        if (typeof f !== 'object' || f === null) throw invalidSchema(where, `invalid field ${i} at ${path}`);
        const fo = f as Record<string, unknown>;
        if (typeof fo['name'] !== 'string') throw invalidSchema(where, `field ${i} at ${path} has no name`);
        const name = fo['name'];
        return {
          name,
          type: parseDataType(fo['type'], where, `${path}.${name}`),
          nullable: fo['nullable'] !== false,
          metadata:
            typeof fo['metadata'] === 'object' && fo['metadata'] !== null
              ? (fo['metadata'] as Record<string, unknown>)
              : {},
        };
      });
      return { type: 'struct', fields };
    }
    case 'array':
      return {
        type: 'array',
        elementType: parseDataType(o['elementType'], where, `${path}[]`),
        containsNull: o['containsNull'] !== false,
      };
    case 'map':
      return {
        type: 'map',
        keyType: parseDataType(o['keyType'], where, `${path}.key`),
        valueType: parseDataType(o['valueType'], where, `${path}.value`),
        valueContainsNull: o['valueContainsNull'] !== false,
      };
    default:
      throw invalidSchema(where, `unknown complex type ${JSON.stringify(o['type'])} at ${path}`);
  }
}

/** The schemaString for a schema (field order and metadata preserved). */
export function schemaToString(schema: StructType): string {
  return JSON.stringify(schema);
}

function invalidSchema(where: string, detail: string) {
  return lakeError('invalidSchema', `Invalid Delta schema in ${where}: ${detail}`, {
    hint: 'The table metadata is damaged or uses a type this reader does not know; rebuild the table or upgrade Weir.',
  });
}

/** Structural equality of types, ignoring nullability and field metadata. */
export function sameDeltaType(a: DeltaDataType, b: DeltaDataType): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.type === 'struct' && b.type === 'struct') {
    return (
      a.fields.length === b.fields.length &&
      a.fields.every((f, i) => {
        const g = b.fields[i];
        return g !== undefined && f.name === g.name && sameDeltaType(f.type, g.type);
      })
    );
  }
  if (a.type === 'array' && b.type === 'array') return sameDeltaType(a.elementType, b.elementType);
  if (a.type === 'map' && b.type === 'map')
    return sameDeltaType(a.keyType, b.keyType) && sameDeltaType(a.valueType, b.valueType);
  return false;
}

/** A short human rendering: `struct<a: integer, b: array<string>>`. */
export function formatDeltaType(t: DeltaDataType): string {
  if (typeof t === 'string') return t;
  switch (t.type) {
    case 'struct':
      return `struct<${t.fields.map((f) => `${f.name}: ${formatDeltaType(f.type)}`).join(', ')}>`;
    case 'array':
      return `array<${formatDeltaType(t.elementType)}>`;
    case 'map':
      return `map<${formatDeltaType(t.keyType)}, ${formatDeltaType(t.valueType)}>`;
  }
}

// ---------------------------------------------------------------------------------------------
// Delta -> DuckDB

/** The DuckDB type a Delta type reads as. */
export function deltaTypeToDuckDb(t: DeltaDataType): string {
  if (typeof t === 'string') {
    const m = DECIMAL_RE.exec(t);
    if (m) return `DECIMAL(${m[1]},${m[2]})`;
    switch (t as DeltaPrimitiveName) {
      case 'string':
        return 'VARCHAR';
      case 'long':
        return 'BIGINT';
      case 'integer':
        return 'INTEGER';
      case 'short':
        return 'SMALLINT';
      case 'byte':
        return 'TINYINT';
      case 'float':
        return 'FLOAT';
      case 'double':
        return 'DOUBLE';
      case 'boolean':
        return 'BOOLEAN';
      case 'binary':
        return 'BLOB';
      case 'date':
        return 'DATE';
      case 'timestamp':
        return 'TIMESTAMP WITH TIME ZONE';
      case 'timestamp_ntz':
        return 'TIMESTAMP';
      case 'variant':
        throw lakeError('unsupportedType', 'The Delta type "variant" cannot be read by Weir yet', {
          hint: 'Cast the column to a string in the producing engine, or read the table with Spark.',
        });
    }
  }
  switch (t.type) {
    case 'struct':
      return `STRUCT(${t.fields.map((f) => `${quoteIdent(f.name)} ${deltaTypeToDuckDb(f.type)}`).join(', ')})`;
    case 'array':
      return `${deltaTypeToDuckDb(t.elementType)}[]`;
    case 'map':
      return `MAP(${deltaTypeToDuckDb(t.keyType)}, ${deltaTypeToDuckDb(t.valueType)})`;
  }
}

// ---------------------------------------------------------------------------------------------
// DuckDB type strings

export type DuckType =
  | { readonly kind: 'primitive'; readonly name: string }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'list'; readonly element: DuckType }
  | { readonly kind: 'array'; readonly element: DuckType; readonly size: number }
  | {
      readonly kind: 'struct';
      readonly fields: ReadonlyArray<{ readonly name: string; readonly type: DuckType }>;
    }
  | { readonly kind: 'map'; readonly key: DuckType; readonly value: DuckType }
  | {
      readonly kind: 'union';
      readonly members: ReadonlyArray<{ readonly name: string; readonly type: DuckType }>;
    }
  | { readonly kind: 'enum' }
  | { readonly kind: 'other'; readonly name: string };

const ALIASES: Readonly<Record<string, string>> = {
  INT: 'INTEGER',
  INT4: 'INTEGER',
  INT32: 'INTEGER',
  SIGNED: 'INTEGER',
  INT8: 'BIGINT',
  INT64: 'BIGINT',
  LONG: 'BIGINT',
  INT2: 'SMALLINT',
  INT16: 'SMALLINT',
  SHORT: 'SMALLINT',
  INT1: 'TINYINT',
  INT128: 'HUGEINT',
  UINT8: 'UTINYINT',
  UINT16: 'USMALLINT',
  UINT32: 'UINTEGER',
  UINT64: 'UBIGINT',
  UINT128: 'UHUGEINT',
  REAL: 'FLOAT',
  FLOAT4: 'FLOAT',
  FLOAT8: 'DOUBLE',
  'DOUBLE PRECISION': 'DOUBLE',
  STRING: 'VARCHAR',
  TEXT: 'VARCHAR',
  CHAR: 'VARCHAR',
  BPCHAR: 'VARCHAR',
  NVARCHAR: 'VARCHAR',
  BYTEA: 'BLOB',
  BINARY: 'BLOB',
  VARBINARY: 'BLOB',
  BOOL: 'BOOLEAN',
  LOGICAL: 'BOOLEAN',
  DATETIME: 'TIMESTAMP',
  TIMESTAMP_US: 'TIMESTAMP',
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  TIMETZ: 'TIME WITH TIME ZONE',
  BITSTRING: 'BIT',
  VARINT: 'BIGNUM',
  '"NULL"': 'NULL',
};

/** Parses a DuckDB type as DuckDB prints it (`STRUCT(a INTEGER, "b c" VARCHAR[])`, `DECIMAL(18,2)`, ...). */
export function parseDuckDbType(text: string): DuckType {
  const parser = new TypeParser(text);
  const t = parser.type();
  parser.skipSpace();
  if (!parser.done()) throw parser.fail('unexpected text after the type');
  return t;
}

class TypeParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] as string)) this.pos++;
  }

  fail(detail: string) {
    return lakeError(
      'unsupportedType',
      `Cannot read the DuckDB type "${this.text}": ${detail} (at ${this.pos})`,
      {
        hint: 'Cast the column to a standard type (VARCHAR, BIGINT, DECIMAL, TIMESTAMPTZ, ...) in the model.',
      },
    );
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  private expect(ch: string): void {
    this.skipSpace();
    if (this.peek() !== ch) throw this.fail(`expected "${ch}"`);
    this.pos++;
  }

  /** A (possibly double-quoted) identifier. */
  name(): string {
    this.skipSpace();
    if (this.peek() === '"') {
      let out = '';
      this.pos++;
      while (!this.done()) {
        const ch = this.text[this.pos++] as string;
        if (ch === '"') {
          if (this.peek() === '"') {
            out += '"';
            this.pos++;
            continue;
          }
          return out;
        }
        out += ch;
      }
      throw this.fail('unterminated quoted name');
    }
    const start = this.pos;
    while (!this.done() && !/[\s(),[\]]/.test(this.peek())) this.pos++;
    if (start === this.pos) throw this.fail('expected a name');
    return this.text.slice(start, this.pos);
  }

  type(): DuckType {
    this.skipSpace();
    const start = this.pos;
    while (!this.done() && !/[(),[\]]/.test(this.peek())) this.pos++;
    const rawName = this.text.slice(start, this.pos).trim().replace(/\s+/g, ' ').toUpperCase();
    if (rawName === '') throw this.fail('expected a type name');
    const name = ALIASES[rawName] ?? rawName;
    let t: DuckType;
    if (this.peek() === '(') {
      this.pos++;
      t = this.parameterised(name);
    } else if (name === 'DECIMAL' || name === 'NUMERIC') {
      t = { kind: 'decimal', precision: 18, scale: 3 };
    } else {
      t = { kind: 'primitive', name };
    }
    for (;;) {
      this.skipSpace();
      if (this.peek() !== '[') break;
      this.pos++;
      const close = this.text.indexOf(']', this.pos);
      if (close < 0) throw this.fail('unterminated [');
      const size = this.text.slice(this.pos, close).trim();
      this.pos = close + 1;
      t = size === '' ? { kind: 'list', element: t } : { kind: 'array', element: t, size: Number(size) };
    }
    return t;
  }

  private parameterised(name: string): DuckType {
    switch (name) {
      case 'DECIMAL':
      case 'NUMERIC': {
        const args = this.rawUntilClose()
          .split(',')
          .map((s) => Number(s.trim()));
        const precision = args[0] ?? 18;
        const scale = args[1] ?? 0;
        if (!Number.isInteger(precision) || !Number.isInteger(scale))
          throw this.fail('invalid DECIMAL arguments');
        return { kind: 'decimal', precision, scale };
      }
      case 'STRUCT':
      case 'ROW':
      case 'UNION': {
        const fields: Array<{ name: string; type: DuckType }> = [];
        this.skipSpace();
        if (this.peek() === ')') {
          this.pos++;
        } else {
          for (;;) {
            const fieldName = this.name();
            const fieldType = this.type();
            fields.push({ name: fieldName, type: fieldType });
            this.skipSpace();
            if (this.peek() === ',') {
              this.pos++;
              continue;
            }
            this.expect(')');
            break;
          }
        }
        return name === 'UNION' ? { kind: 'union', members: fields } : { kind: 'struct', fields };
      }
      case 'MAP': {
        const key = this.type();
        this.expect(',');
        const value = this.type();
        this.expect(')');
        return { kind: 'map', key, value };
      }
      case 'ENUM':
        this.rawUntilClose();
        return { kind: 'enum' };
      case 'LIST': {
        const element = this.type();
        this.expect(')');
        return { kind: 'list', element };
      }
      default:
        // VARCHAR(10), BIT(8), ...: the arguments do not change how Delta stores the value.
        this.rawUntilClose();
        return DIRECT[name] || WIDENED[name] || AS_STRING.has(name)
          ? { kind: 'primitive', name }
          : { kind: 'other', name };
    }
  }

  /** Text up to the matching `)`, skipping quoted strings; consumes the `)`. */
  private rawUntilClose(): string {
    const start = this.pos;
    let depth = 0;
    while (!this.done()) {
      const ch = this.text[this.pos] as string;
      if (ch === "'" || ch === '"') {
        const close = this.text.indexOf(ch, this.pos + 1);
        if (close < 0) throw this.fail('unterminated quote');
        this.pos = close + 1;
        continue;
      }
      if (ch === '(') depth++;
      if (ch === ')') {
        if (depth === 0) {
          const raw = this.text.slice(start, this.pos);
          this.pos++;
          return raw;
        }
        depth--;
      }
      this.pos++;
    }
    throw this.fail('unterminated (');
  }
}

/** Types Delta has no equivalent for, written as their text form. */
const AS_STRING = new Set([
  'UUID',
  'INTERVAL',
  'TIME',
  'TIME WITH TIME ZONE',
  'TIME_NS',
  'JSON',
  'BIT',
  'BIGNUM',
  'NULL',
]);

/** Integer types Delta lacks and the type that holds every value of them. */
const WIDENED: Readonly<Record<string, { duck: string; delta: DeltaPrimitiveType }>> = {
  UTINYINT: { duck: 'SMALLINT', delta: 'short' },
  USMALLINT: { duck: 'INTEGER', delta: 'integer' },
  UINTEGER: { duck: 'BIGINT', delta: 'long' },
  UBIGINT: { duck: 'DECIMAL(20,0)', delta: 'decimal(20,0)' },
  HUGEINT: { duck: 'DECIMAL(38,0)', delta: 'decimal(38,0)' },
  UHUGEINT: { duck: 'DECIMAL(38,0)', delta: 'decimal(38,0)' },
};

const DIRECT: Readonly<Record<string, DeltaPrimitiveType>> = {
  BOOLEAN: 'boolean',
  TINYINT: 'byte',
  SMALLINT: 'short',
  INTEGER: 'integer',
  BIGINT: 'long',
  FLOAT: 'float',
  DOUBLE: 'double',
  VARCHAR: 'string',
  BLOB: 'binary',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
  TIMESTAMP_S: 'timestamp',
  TIMESTAMP_MS: 'timestamp',
  TIMESTAMP_NS: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamp',
};

function unsupported(type: string, column: string) {
  return lakeError(
    'unsupportedType',
    `Column "${column}" has type ${type}, which a Delta table cannot store`,
    {
      hint: 'Cast the column to a supported type in the model (for example ::VARCHAR or ::DOUBLE).',
    },
  );
}

/** The Delta type a DuckDB column is stored as (after writeCastSql). Throws WEIR-L020 for types with no mapping. */
export function duckDbTypeToDelta(type: DuckType | string, column = '?'): DeltaDataType {
  const t = typeof type === 'string' ? parseDuckDbType(type) : type;
  switch (t.kind) {
    case 'primitive': {
      const direct = DIRECT[t.name];
      if (direct) return direct;
      const widened = WIDENED[t.name];
      if (widened) return widened.delta;
      if (AS_STRING.has(t.name)) return 'string';
      throw unsupported(t.name, column);
    }
    case 'decimal':
      if (t.precision > 38) throw unsupported(`DECIMAL(${t.precision},${t.scale})`, column);
      return `decimal(${t.precision},${t.scale})`;
    case 'enum':
    case 'union':
      return 'string';
    case 'list':
    case 'array':
      return { type: 'array', elementType: duckDbTypeToDelta(t.element, column), containsNull: true };
    case 'struct':
      return {
        type: 'struct',
        fields: t.fields.map((f) => ({
          name: f.name,
          type: duckDbTypeToDelta(f.type, `${column}.${f.name}`),
          nullable: true,
          metadata: {},
        })),
      };
    case 'map':
      return {
        type: 'map',
        keyType: duckDbTypeToDelta(t.key, column),
        valueType: duckDbTypeToDelta(t.value, column),
        valueContainsNull: true,
      };
    case 'other':
      throw unsupported(t.name, column);
  }
}

/** The Delta schema of a query's columns, in column order. */
export function deltaSchemaFromColumns(columns: readonly ColumnSchema[]): StructType {
  const seen = new Set<string>();
  return {
    type: 'struct',
    fields: columns.map((c) => {
      const key = c.name.toLowerCase();
      if (seen.has(key)) {
        throw lakeError(
          'invalidSchema',
          `Column "${c.name}" appears twice (Delta column names are case-insensitive)`,
          {
            hint: 'Give every column a distinct name in the model.',
          },
        );
      }
      seen.add(key);
      return {
        name: c.name,
        type: duckDbTypeToDelta(c.type, c.name),
        nullable: c.nullable ?? true,
        metadata: {},
      };
    }),
  };
}

/**
 * The SELECT list that turns rows with these columns into rows Delta can store: every column, in
 * order, cast where DuckDB has a type Delta lacks. Naive timestamps are read as UTC wall-clock time
 * (Delta `timestamp` is an instant); `timestamp_ntz` needs a table feature Weir does not write.
 */
export function writeCastSql(columns: readonly ColumnSchema[]): string {
  return columns
    .map((c) => {
      const col = quoteIdent(c.name);
      const converted = writeCastExpr(c);
      return converted === undefined ? col : `${converted} AS ${col}`;
    })
    .join(', ');
}

/** The Delta-storable form of one column, or undefined when it is stored as it is. */
export function writeCastExpr(column: ColumnSchema): string | undefined {
  return convertExpr(quoteIdent(column.name), parseDuckDbType(column.type), 0, column.name);
}

/** The DuckDB type a column has once written to Delta and read back. */
export function deltaRoundTripType(column: ColumnSchema): string {
  return deltaTypeToDuckDb(duckDbTypeToDelta(column.type, column.name));
}

/** An expression converting `expr` of type `t` to its Delta-storable form, or undefined when none is needed. */
function convertExpr(expr: string, t: DuckType, depth: number, column: string): string | undefined {
  switch (t.kind) {
    case 'primitive': {
      if (t.name === 'TIMESTAMP') return `timezone('UTC', ${expr})`;
      if (t.name === 'TIMESTAMP_S' || t.name === 'TIMESTAMP_MS' || t.name === 'TIMESTAMP_NS') {
        return `timezone('UTC', CAST(${expr} AS TIMESTAMP))`;
      }
      const widened = WIDENED[t.name];
      if (widened) return `CAST(${expr} AS ${widened.duck})`;
      if (AS_STRING.has(t.name)) return `CAST(${expr} AS VARCHAR)`;
      if (DIRECT[t.name]) return undefined;
      throw unsupported(t.name, column);
    }
    case 'decimal':
      if (t.precision > 38) throw unsupported(`DECIMAL(${t.precision},${t.scale})`, column);
      return undefined;
    case 'enum':
    case 'union':
      return `CAST(${expr} AS VARCHAR)`;
    case 'list':
    case 'array': {
      const v = `__weir_x${depth}`;
      const inner = convertExpr(v, t.element, depth + 1, column);
      return inner === undefined ? undefined : `list_transform(${expr}, lambda ${v}: ${inner})`;
    }
    case 'struct': {
      const parts = t.fields.map((f) => {
        const access = `struct_extract(${expr}, ${quoteLiteral(f.name)})`;
        return {
          name: f.name,
          converted: convertExpr(access, f.type, depth + 1, `${column}.${f.name}`),
          access,
        };
      });
      if (parts.every((p) => p.converted === undefined)) return undefined;
      const packed = parts.map((p) => `${quoteIdent(p.name)} := ${p.converted ?? p.access}`).join(', ');
      return `CASE WHEN ${expr} IS NULL THEN NULL ELSE struct_pack(${packed}) END`;
    }
    case 'map': {
      const v = `__weir_x${depth}`;
      const keyAccess = `struct_extract(${v}, 'key')`;
      const valueAccess = `struct_extract(${v}, 'value')`;
      const key = convertExpr(keyAccess, t.key, depth + 1, column);
      const value = convertExpr(valueAccess, t.value, depth + 1, column);
      if (key === undefined && value === undefined) return undefined;
      const entry = `struct_pack("key" := ${key ?? keyAccess}, "value" := ${value ?? valueAccess})`;
      return `CASE WHEN ${expr} IS NULL THEN NULL ELSE map_from_entries(list_transform(map_entries(${expr}), lambda ${v}: ${entry})) END`;
    }
    case 'other':
      throw unsupported(t.name, column);
  }
}
