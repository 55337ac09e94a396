import { describe, expect, it } from 'vitest';
import {
  deltaSchemaFromColumns,
  deltaTypeToDuckDb,
  duckDbTypeToDelta,
  parseDuckDbType,
  parseSchemaString,
  schemaToString,
  writeCastSql,
} from './schema.js';

describe('parseDuckDbType', () => {
  it('reads nested types as DuckDB prints them', () => {
    expect(parseDuckDbType('STRUCT("a b" INTEGER, c VARCHAR[], d MAP(VARCHAR, DECIMAL(18,2)))')).toEqual({
      kind: 'struct',
      fields: [
        { name: 'a b', type: { kind: 'primitive', name: 'INTEGER' } },
        { name: 'c', type: { kind: 'list', element: { kind: 'primitive', name: 'VARCHAR' } } },
        {
          name: 'd',
          type: {
            kind: 'map',
            key: { kind: 'primitive', name: 'VARCHAR' },
            value: { kind: 'decimal', precision: 18, scale: 2 },
          },
        },
      ],
    });
    expect(parseDuckDbType('INTEGER[3][]')).toEqual({
      kind: 'list',
      element: { kind: 'array', size: 3, element: { kind: 'primitive', name: 'INTEGER' } },
    });
    expect(parseDuckDbType("ENUM('a', 'b,c)')")).toEqual({ kind: 'enum' });
    expect(parseDuckDbType('timestamp with time zone')).toEqual({
      kind: 'primitive',
      name: 'TIMESTAMP WITH TIME ZONE',
    });
    expect(parseDuckDbType('STRUCT("x""y" INT)')).toEqual({
      kind: 'struct',
      fields: [{ name: 'x"y', type: { kind: 'primitive', name: 'INTEGER' } }],
    });
  });

  it('refuses text that is not a type', () => {
    expect(() => parseDuckDbType('STRUCT(a INTEGER')).toThrow(expect.objectContaining({ code: 'WEIR-L020' }));
  });
});

describe('DuckDB <-> Delta types', () => {
  const cases: ReadonlyArray<readonly [string, unknown]> = [
    ['BOOLEAN', 'boolean'],
    ['TINYINT', 'byte'],
    ['SMALLINT', 'short'],
    ['INTEGER', 'integer'],
    ['BIGINT', 'long'],
    ['HUGEINT', 'decimal(38,0)'],
    ['UHUGEINT', 'decimal(38,0)'],
    ['UBIGINT', 'decimal(20,0)'],
    ['UINTEGER', 'long'],
    ['USMALLINT', 'integer'],
    ['UTINYINT', 'short'],
    ['FLOAT', 'float'],
    ['DOUBLE', 'double'],
    ['DECIMAL(10,3)', 'decimal(10,3)'],
    ['VARCHAR', 'string'],
    ['BLOB', 'binary'],
    ['DATE', 'date'],
    ['TIMESTAMP', 'timestamp'],
    ['TIMESTAMP_NS', 'timestamp'],
    ['TIMESTAMP WITH TIME ZONE', 'timestamp'],
    ['UUID', 'string'],
    ['INTERVAL', 'string'],
    ['TIME', 'string'],
    ['TIME WITH TIME ZONE', 'string'],
    ['JSON', 'string'],
    ["ENUM('x')", 'string'],
    ['BIT', 'string'],
    ['UNION(a INTEGER, b VARCHAR)', 'string'],
    ['INTEGER[]', { type: 'array', elementType: 'integer', containsNull: true }],
    [
      'MAP(VARCHAR, UBIGINT)',
      { type: 'map', keyType: 'string', valueType: 'decimal(20,0)', valueContainsNull: true },
    ],
  ];
  for (const [duck, delta] of cases) {
    it(`${duck} -> ${JSON.stringify(delta)}`, () => {
      expect(duckDbTypeToDelta(duck)).toEqual(delta);
    });
  }

  it('maps Delta types back to the DuckDB types a scan returns', () => {
    expect(deltaTypeToDuckDb('timestamp')).toBe('TIMESTAMP WITH TIME ZONE');
    expect(deltaTypeToDuckDb('timestamp_ntz')).toBe('TIMESTAMP');
    expect(deltaTypeToDuckDb('decimal(38,0)')).toBe('DECIMAL(38,0)');
    expect(
      deltaTypeToDuckDb({
        type: 'struct',
        fields: [
          {
            name: 'a b',
            type: { type: 'map', keyType: 'string', valueType: 'binary', valueContainsNull: true },
            nullable: true,
            metadata: {},
          },
        ],
      }),
    ).toBe('STRUCT("a b" MAP(VARCHAR, BLOB))');
  });

  it('refuses types it cannot store, naming the column', () => {
    expect(() => duckDbTypeToDelta('GEOMETRY', 'shape')).toThrow(/"shape"/);
    expect(() => duckDbTypeToDelta('DECIMAL(40,2)', 'big')).toThrow(
      expect.objectContaining({ code: 'WEIR-L020' }),
    );
  });

  it('builds a schema that round-trips through schemaString', () => {
    const schema = deltaSchemaFromColumns([
      { name: 'id', type: 'BIGINT', nullable: false },
      { name: 's', type: 'STRUCT(a TIMESTAMP, b UUID)' },
    ]);
    expect(schema.fields[0]).toEqual({ name: 'id', type: 'long', nullable: false, metadata: {} });
    expect(parseSchemaString(schemaToString(schema), 'test')).toEqual(schema);
    expect(() =>
      deltaSchemaFromColumns([
        { name: 'A', type: 'INTEGER' },
        { name: 'a', type: 'INTEGER' },
      ]),
    ).toThrow(/twice/);
  });

  it('reports a broken schemaString as WEIR-L009', () => {
    expect(() =>
      parseSchemaString('{"type":"struct","fields":[{"name":"x","type":"quaternion"}]}', 'metadata of t'),
    ).toThrow(
      expect.objectContaining({
        code: 'WEIR-L009',
        message: expect.stringContaining('quaternion') as unknown,
      }),
    );
    expect(() => parseSchemaString('not json', 'm')).toThrow(expect.objectContaining({ code: 'WEIR-L009' }));
  });
});

describe('writeCastSql', () => {
  it('leaves Delta-native columns alone and casts the rest', () => {
    expect(
      writeCastSql([
        { name: 'id', type: 'BIGINT' },
        { name: 'ts', type: 'TIMESTAMP' },
        { name: 'u', type: 'UBIGINT' },
        { name: 'i', type: 'INTERVAL' },
      ]),
    ).toBe(
      `"id", timezone('UTC', "ts") AS "ts", CAST("u" AS DECIMAL(20,0)) AS "u", CAST("i" AS VARCHAR) AS "i"`,
    );
  });

  it('rebuilds nested values only where something inside needs a cast', () => {
    expect(writeCastSql([{ name: 's', type: 'STRUCT(a INTEGER, b VARCHAR)' }])).toBe('"s"');
    const sql = writeCastSql([{ name: 's', type: 'STRUCT(a INTEGER, t TIMESTAMP_MS[])' }]);
    expect(sql).toBe(
      `CASE WHEN "s" IS NULL THEN NULL ELSE struct_pack("a" := struct_extract("s", 'a'), "t" := ` +
        `list_transform(struct_extract("s", 't'), lambda __weir_x1: timezone('UTC', CAST(__weir_x1 AS TIMESTAMP)))) END AS "s"`,
    );
    expect(writeCastSql([{ name: 'm', type: 'MAP(VARCHAR, HUGEINT)' }])).toContain(
      `map_from_entries(list_transform(map_entries("m"), lambda __weir_x0: struct_pack("key" := struct_extract(__weir_x0, 'key'), "value" := CAST(struct_extract(__weir_x0, 'value') AS DECIMAL(38,0)))))`,
    );
  });
});
