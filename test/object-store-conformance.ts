import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WeirError } from '../src/core/errors.js';
import type { ObjectStore } from '../src/lake/object-store.js';

export interface ObjectStoreFixture {
  /** A fresh, empty store. */
  readonly store: ObjectStore;
  readonly cleanup: () => Promise<void>;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/**
 * The ObjectStore contract, run against every implementation (local folder today, S3 next). Keys are
 * `/`-separated and relative; list is recursive and sorted; putIfAbsent is the Delta commit primitive.
 */
export function objectStoreConformance(name: string, open: () => Promise<ObjectStoreFixture>): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let fixture: ObjectStoreFixture;
    let store: ObjectStore;

    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('puts, gets and overwrites objects', async () => {
      await store.put('a/b/c.txt', 'hello');
      expect(text(await store.get('a/b/c.txt'))).toBe('hello');
      await store.put('a/b/c.txt', new TextEncoder().encode('world!'));
      expect(text(await store.get('a/b/c.txt'))).toBe('world!');
      expect(await store.exists('a/b/c.txt')).toBe(true);
      expect(await store.exists('a/b/missing.txt')).toBe(false);
      expect(await store.exists('a/b')).toBe(false); // a "folder" is not an object
    });

    it('reads byte ranges [start, end)', async () => {
      await store.put('r.bin', new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
      expect([...(await store.getRange('r.bin', 2, 5))]).toEqual([2, 3, 4]);
      expect([...(await store.getRange('r.bin', 0, 0))]).toEqual([]);
      expect([...(await store.getRange('r.bin', 8, 20))]).toEqual([8, 9]);
    });

    it('reports a missing object as WEIR-L018', async () => {
      const err = await store.get('nope/x.json').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe('WEIR-L018');
      const rangeErr = await store.getRange('nope/x.json', 0, 1).catch((e: unknown) => e);
      expect((rangeErr as WeirError).code).toBe('WEIR-L018');
    });

    it('lists recursively by prefix, sorted, with sizes and mtimes', async () => {
      const before = Date.now() - 5_000;
      await store.put('t/_delta_log/00000000000000000001.json', '{}\n');
      await store.put('t/_delta_log/00000000000000000000.json', '{"a":1}\n');
      await store.put('t/part=1/f.parquet', 'xyz');
      await store.put('t2/other.txt', 'no');
      const all = await store.list('t/');
      expect(all.map((o) => o.path)).toEqual([
        't/_delta_log/00000000000000000000.json',
        't/_delta_log/00000000000000000001.json',
        't/part=1/f.parquet',
      ]);
      expect(all[0]?.size).toBe(8);
      expect(all[0]?.mtimeMs).toBeGreaterThan(before);
      // a prefix need not end at a folder boundary
      expect((await store.list('t/_delta_log/0000000000000000000')).map((o) => o.path)).toHaveLength(2);
      expect((await store.list('t')).map((o) => o.path)).toContain('t2/other.txt');
      expect(await store.list('missing/')).toEqual([]);
    });

    it('lists only keys after startAfter', async () => {
      for (let v = 0; v < 5; v++) await store.put(`log/${String(v).padStart(20, '0')}.json`, `${v}`);
      const after = await store.list('log/', { startAfter: `log/${String(2).padStart(20, '0')}.json` });
      expect(after.map((o) => o.path)).toEqual([
        `log/${String(3).padStart(20, '0')}.json`,
        `log/${String(4).padStart(20, '0')}.json`,
      ]);
    });

    it('putIfAbsent writes once and refuses to replace', async () => {
      expect(await store.putIfAbsent('log/0.json', 'first')).toBe(true);
      expect(await store.putIfAbsent('log/0.json', 'second')).toBe(false);
      expect(text(await store.get('log/0.json'))).toBe('first');
    });

    it('putIfAbsent lets exactly one of many racing writers win', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_v, i) =>
          store.putIfAbsent('race/00001.json', `writer-${i}\n`.repeat(1000)),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      // the content is the winner's, complete
      expect(text(await store.get('race/00001.json'))).toBe(`writer-${winner}\n`.repeat(1000));
      // no temporary files are left visible
      expect((await store.list('race/')).map((o) => o.path)).toEqual(['race/00001.json']);
    });

    it('never exposes a partially written object to a concurrent reader', async () => {
      const big = 'x'.repeat(4 * 1024 * 1024);
      const writer = store.putIfAbsent('big/obj', big);
      const seen: number[] = [];
      for (let i = 0; i < 50; i++) {
        if (await store.exists('big/obj')) seen.push((await store.get('big/obj')).length);
        await new Promise((r) => setImmediate(r));
      }
      await writer;
      seen.push((await store.get('big/obj')).length);
      expect(seen.every((n) => n === big.length)).toBe(true);
    });

    it('deletes objects, and deleting a missing object is fine', async () => {
      await store.put('d/x', '1');
      await store.delete('d/x');
      expect(await store.exists('d/x')).toBe(false);
      await expect(store.delete('d/x')).resolves.toBeUndefined();
      expect(await store.list('d/')).toEqual([]);
    });

    it('maps keys to a location the engine can read', async () => {
      await store.put('loc/f.txt', 'abc');
      const where = store.localPath('loc/f.txt');
      expect(where.endsWith('loc/f.txt')).toBe(true);
    });
  });
}
