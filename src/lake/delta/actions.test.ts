import { describe, expect, it } from 'vitest';
import { parseCommit, serializeCommit, stringifyJson, type Action } from './actions.js';

describe('commit files', () => {
  it('parses every action kind and ignores unknown ones', () => {
    const text = [
      '{"commitInfo":{"timestamp":1,"operation":"WRITE","anything":{"nested":[1]}}}',
      '{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}',
      '{"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\\"type\\":\\"struct\\",\\"fields\\":[]}","partitionColumns":[],"configuration":{"a":"b"},"createdTime":5}}',
      '',
      '{"add":{"path":"f.parquet","partitionValues":{"p":null},"size":3,"modificationTime":4,"dataChange":true,"stats":"{}"}}',
      '{"remove":{"path":"g.parquet","deletionTimestamp":9,"dataChange":true}}',
      '{"txn":{"appId":"app","version":3}}',
      '{"checkpointMetadata":{"version":1}}',
      '{"domainMetadata":{"domain":"d","configuration":"{}","removed":false}}',
    ].join('\n');
    const actions = parseCommit(text, 't/_delta_log/00000000000000000000.json');
    expect(actions.map((a) => Object.keys(a)[0])).toEqual([
      'commitInfo',
      'protocol',
      'metaData',
      'add',
      'remove',
      'txn',
      'domainMetadata',
    ]);
    expect(actions[3]).toEqual({
      add: {
        path: 'f.parquet',
        partitionValues: { p: null },
        size: 3,
        modificationTime: 4,
        dataChange: true,
        stats: '{}',
      },
    });
  });

  it('names the file and line of a corrupt entry (WEIR-L003)', () => {
    const file = 't/_delta_log/00000000000000000007.json';
    expect(() => parseCommit('{"commitInfo":{}}\n{"add": {"path": 1}}\n', file)).toThrow(
      expect.objectContaining({
        code: 'WEIR-L003',
        at: { file, line: 2 },
        message: expect.stringContaining(`${file}:2`) as unknown,
      }),
    );
    expect(() => parseCommit('{"commitInfo":{}}\n\n{"add": {', file)).toThrow(
      expect.objectContaining({ at: { file, line: 3 } }),
    );
  });

  it('serialises one action per line, round-tripping', () => {
    const actions: Action[] = [
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      { add: { path: 'a b.parquet', partitionValues: {}, size: 1, modificationTime: 2, dataChange: true } },
    ];
    const text = serializeCommit(actions);
    expect(text.endsWith('\n')).toBe(true);
    expect(parseCommit(text, 'x')).toEqual(actions);
  });

  it('writes bigint as a JSON number', () => {
    expect(
      stringifyJson({ n: 9007199254740993n, s: '__bigint__1', d: new Date(0), u: undefined, f: Number.NaN }),
    ).toBe('{"n":9007199254740993,"s":"__bigint__1","d":"1970-01-01T00:00:00.000Z","f":null}');
  });
});
