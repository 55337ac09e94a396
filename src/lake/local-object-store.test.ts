import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { objectStoreConformance } from '../../test/object-store-conformance.js';
import { LocalObjectStore } from './local-object-store.js';

objectStoreConformance('LocalObjectStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'weir-store-'));
  return { store: new LocalObjectStore(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('LocalObjectStore', () => {
  it('keeps keys inside the root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'weir-store-'));
    try {
      const store = new LocalObjectStore(root);
      expect(() => store.localPath('../escape')).toThrow(/outside the store root/);
      expect(() => store.localPath('a/../../escape')).toThrow(expect.objectContaining({ code: 'WEIR-L019' }));
      expect(store.localPath('a//b/./c')).toBe(join(root, 'a', 'b', 'c'));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('stores objects as plain files under the root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'weir-store-'));
    try {
      const store = new LocalObjectStore(root);
      await store.put('t/x.json', '{"a":1}');
      expect(await readFile(join(root, 't', 'x.json'), 'utf8')).toBe('{"a":1}');
      await writeFile(join(root, 't', 'y.json'), 'outside');
      expect((await store.list('t/')).map((o) => o.path)).toEqual(['t/x.json', 't/y.json']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
