import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { scanRecords, splitCopy } from './copy-chunks.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The text in pieces of `size` bytes, as a socket would deliver it. */
function pieces(text: string, size: number): Readable {
  const buf = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

describe('splitCopy', () => {
  it('cuts CSV only between records, counting quoted newlines as data', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weir-split-'));
    const csv = '1,a\n2,"multi\nline, ""q"""\n3,c\n4,"x\n\ny"\n5,e\n';
    for (const size of [1, 3, 7, 1000]) {
      const files = [];
      for await (const f of splitCopy(pieces(csv, size), { dir, rowsPerChunk: 2 })) {
        files.push({ rows: f.rows, text: await readFile(f.path, 'utf8') });
        await rm(f.path);
      }
      expect(files, `pieces of ${size}`).toEqual([
        { rows: 2, text: '1,a\n2,"multi\nline, ""q"""\n' },
        { rows: 2, text: '3,c\n4,"x\n\ny"\n' },
        { rows: 1, text: '5,e\n' },
      ]);
    }
  });

  it('finds the same record ends as a byte-by-byte scan, whatever the pieces', () => {
    // Record ends by the definition: a newline outside quotes, the quote state carried across pieces.
    const reference = (parts: Buffer[], limit: number): number[] => {
      const cuts: number[] = [];
      let pos = 0;
      let rows = 0;
      let inQuote = false;
      for (const part of parts) {
        for (let i = 0; i < part.length; i++) {
          if (part[i] === 0x22) inQuote = !inQuote;
          else if (part[i] === 0x0a && !inQuote && ++rows >= limit) {
            cuts.push(pos + i + 1);
            rows = 0;
          }
        }
        pos += part.length;
      }
      return cuts;
    };
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['a', ',', '"', '\n', '""', '1'];
    for (let round = 0; round < 200; round++) {
      const text = Array.from({ length: 1 + random(300) }, () => alphabet[random(alphabet.length)]).join('');
      const buf = Buffer.from(text);
      const size = 1 + random(40);
      const limit = 1 + random(4);
      const parts: Buffer[] = [];
      for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
      const cuts: number[] = [];
      const state = { inQuote: false, rows: 0 };
      let pos = 0;
      for (const part of parts) {
        for (let start = 0, end; (end = scanRecords(part, start, state, limit)) >= 0; start = end) {
          cuts.push(pos + end);
          state.rows = 0;
        }
        pos += part.length;
      }
      expect(cuts, JSON.stringify({ text, size, limit })).toEqual(reference(parts, limit));
    }
  });

  it('pauses the source while enough files wait, and stops it when the consumer stops', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weir-split-'));
    let produced = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 1000; i++) {
          produced++;
          yield Buffer.from(`${i},${'x'.repeat(10_000)}\n`);
        }
      })(),
    );
    const it = splitCopy(source, { dir, rowsPerChunk: 10, maxPending: 2 });
    const first = await it.next();
    expect(first.value).toMatchObject({ rows: 10 });
    await new Promise((r) => setTimeout(r, 50));
    // Two files waiting, one being written, about 1 MB buffered: the source did not run to its end.
    expect(produced).toBeLessThan(200);
    await it.return(undefined);
    await new Promise((r) => setTimeout(r, 20));
    expect(source.destroyed).toBe(true);
    expect((await readdir(dir)).length).toBeLessThanOrEqual(4);
  });

  it('reports a failing source', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weir-split-'));
    const source = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    const it = splitCopy(source, { dir, rowsPerChunk: 10 });
    await expect(it.next()).rejects.toThrow('connection reset');
  });
});
