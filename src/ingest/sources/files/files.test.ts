import { describe, expect, it } from 'vitest';
import { globToRegExp, splitGlob } from './files-source.js';
import { detectDelimiter, formatOf, looksLikeHeader, typedCell } from './sniff.js';

describe('files helpers', () => {
  it('splits a glob into its base folder and pattern, and matches like a shell', () => {
    expect(splitGlob('data/in/**/*.csv')).toEqual({ base: 'data/in', pattern: '**/*.csv' });
    expect(splitGlob('data/orders.csv')).toEqual({ base: 'data', pattern: 'orders.csv' });
    expect(splitGlob('*.json')).toEqual({ base: '.', pattern: '*.json' });
    const re = globToRegExp('**/*.{csv,csv.gz}');
    expect(['a.csv', 'x/y/a.csv.gz', 'x/a.json', 'a.csvx'].map((p) => re.test(p))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(globToRegExp('day=?/[ab].ndjson').test('day=1/a.ndjson')).toBe(true);
    expect(globToRegExp('*.csv').test('sub/a.csv')).toBe(false);
  });

  it('tells formats from names, delimiters from samples, headers from first rows', () => {
    expect(formatOf('a/b.CSV.gz')).toEqual({ format: 'csv', gzip: true });
    expect(formatOf('b.jsonl')).toEqual({ format: 'ndjson', gzip: false });
    expect(formatOf('b.xlsx').format).toBeUndefined();
    expect(detectDelimiter('a;b;c\n1;2;3\n4;"x;y";5')).toBe(';');
    expect(detectDelimiter('a\tb\n1\t2')).toBe('\t');
    expect(detectDelimiter('a,b|c\n1,2|3\n4,5|6,7')).toBe('|');
    expect(looksLikeHeader(['id', 'name'], [['1', 'x']])).toBe(true);
    expect(looksLikeHeader(['1', 'x'], [['2', 'y']])).toBe(false);
    expect(looksLikeHeader(['a', 'a'], [['1', '2']])).toBe(false);
  });

  it('types CSV cells conservatively', () => {
    expect(['', '12', '-3.5', '1e3', '007', 'true', 'x', '12345678901234567890'].map(typedCell)).toEqual([
      null,
      12,
      -3.5,
      1000,
      '007',
      true,
      'x',
      '12345678901234567890',
    ]);
  });
});
