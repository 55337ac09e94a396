import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { partitionValuesFromPath, statValue, unquoteColumnKey } from './parquet-stats.js';

describe('statValue', () => {
  it('reads integers and drops bounds a double cannot hold exactly', () => {
    expect(statValue('INTEGER', '-12', 'min')).toBe(-12);
    expect(statValue('UBIGINT', '9007199254740991', 'max')).toBe(9007199254740991);
    expect(statValue('BIGINT', '9007199254740993', 'max')).toBeUndefined();
    expect(statValue('HUGEINT', '-9007199254740993', 'min')).toBeUndefined();
  });

  it('reads floats and skips non-finite ones', () => {
    expect(statValue('DOUBLE', '1.5', 'min')).toBe(1.5);
    expect(statValue('FLOAT', 'nan', 'max')).toBeUndefined();
    expect(statValue('DOUBLE', 'inf', 'max')).toBeUndefined();
  });

  it('widens long decimals by one ulp so they stay bounds', () => {
    expect(statValue('DECIMAL(18,2)', '12.30', 'min')).toBe(12.3);
    const min = statValue('DECIMAL(38,2)', '12345678901234567.89', 'min') as number;
    const max = statValue('DECIMAL(38,2)', '12345678901234567.89', 'max') as number;
    expect(min).toBeLessThan(max);
    expect(BigInt(Math.floor(min))).toBeLessThanOrEqual(12345678901234567n);
    expect(BigInt(Math.ceil(max))).toBeGreaterThanOrEqual(12345678901234568n);
  });

  it('truncates strings by code point: min to a prefix, max dropped', () => {
    const long = '😀'.repeat(40);
    expect(statValue('VARCHAR', long, 'min')).toBe('😀'.repeat(32));
    expect(statValue('VARCHAR', long, 'max')).toBeUndefined();
    expect(statValue('VARCHAR', 'short', 'max')).toBe('short');
  });

  it('normalises timestamps with any offset to UTC milliseconds, rounding outward', () => {
    expect(statValue('TIMESTAMP WITH TIME ZONE', '2024-01-01 01:30:00.1234+01:30', 'min')).toBe(
      '2024-01-01T00:00:00.123Z',
    );
    expect(statValue('TIMESTAMP WITH TIME ZONE', '2024-01-01 01:30:00.1234+01:30', 'max')).toBe(
      '2024-01-01T00:00:00.124Z',
    );
    expect(statValue('TIMESTAMP WITH TIME ZONE', '2023-12-31 19:00:00-05', 'max')).toBe(
      '2024-01-01T00:00:00.000Z',
    );
    expect(statValue('TIMESTAMP', '2024-02-29 12:00:00', 'min')).toBe('2024-02-29T12:00:00.000');
    expect(statValue('TIMESTAMP_NS', '2024-02-29 12:00:00.000000001', 'max')).toBe('2024-02-29T12:00:00.001');
    expect(statValue('TIMESTAMP WITH TIME ZONE', 'infinity', 'max')).toBeUndefined();
  });

  it('keeps dates and omits types without usable bounds', () => {
    expect(statValue('DATE', '2024-02-29', 'min')).toBe('2024-02-29');
    expect(statValue('DATE', '-infinity', 'min')).toBeUndefined();
    for (const type of [
      'BOOLEAN',
      'BLOB',
      'INTEGER[]',
      'STRUCT("a" INTEGER)',
      'MAP(VARCHAR, INTEGER)',
      'UUID',
    ]) {
      expect(statValue(type, '1', 'min')).toBeUndefined();
    }
  });
});

describe('unquoteColumnKey', () => {
  it('removes RETURN_STATS quoting and skips nested paths', () => {
    expect(unquoteColumnKey('"a b"')).toBe('a b');
    expect(unquoteColumnKey('"say ""hi"""')).toBe('say "hi"');
    expect(unquoteColumnKey('plain')).toBe('plain');
    expect(unquoteColumnKey('"s"."x"')).toBeUndefined();
  });
});

describe('partitionValuesFromPath', () => {
  it('reads Hive folders, unescaping values and the null marker', () => {
    const dir = join('/lake', 't');
    const file = join(dir, 'day=2024-01-01', 'k=x%2Fy%3Dz', 'n=__HIVE_DEFAULT_PARTITION__', 'f.parquet');
    expect(partitionValuesFromPath(dir, file)).toEqual({ day: '2024-01-01', k: 'x/y=z', n: null });
  });
});
