import { describe, expect, it } from 'vitest';
import { canonicalFilePath, decodeDeltaPath, encodeDeltaPath } from './paths.js';

describe('Delta file paths', () => {
  it('encodes what a URI path cannot hold and decodes it back', () => {
    const raw = 'as_timestamp=2021-09-08 11%3A11%3A11/part-0 é#?.parquet';
    const encoded = encodeDeltaPath(raw);
    expect(encoded).toBe('as_timestamp=2021-09-08%2011%253A11%253A11/part-0%20%C3%A9%23%3F.parquet');
    expect(decodeDeltaPath(encoded)).toBe(raw);
    expect(encodeDeltaPath('p=a+b/f.parquet')).toBe('p=a+b/f.parquet');
  });

  it('keeps text that is not valid percent-encoding', () => {
    expect(decodeDeltaPath('100%/x')).toBe('100%/x');
    expect(decodeDeltaPath('a%20b%zz')).toBe('a b%zz');
  });

  it('gives file: URIs, bare absolute paths and relative paths one identity', () => {
    const root = '/data/lake/t';
    expect(canonicalFilePath('file:/some/abs/path', root)).toBe('/some/abs/path');
    expect(canonicalFilePath('file:///some/abs/path', root)).toBe('/some/abs/path');
    expect(canonicalFilePath('/some/abs/path', root)).toBe('/some/abs/path');
    expect(canonicalFilePath('file:/some/with%20space/p@%23h', root)).toBe('/some/with space/p@#h');
    expect(canonicalFilePath('/data/lake/t/p=1/f.parquet', root)).toBe('p=1/f.parquet');
    expect(canonicalFilePath('p%3D1/f.parquet', root)).toBe('p=1/f.parquet');
    expect(canonicalFilePath('s3://bucket/t/f.parquet', root)).toBe('s3://bucket/t/f.parquet');
  });
});
