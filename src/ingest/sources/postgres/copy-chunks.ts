import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface CopyChunkFile {
  readonly path: string;
  /** CSV records in the file (exact: newlines inside quoted fields are not counted). */
  readonly rows: number;
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;

/** Where a scan stands between two pieces of the stream. */
interface ScanState {
  inQuote: boolean;
  /** Records ended since the current file was opened. */
  rows: number;
}

/**
 * Scans `buf` from `from` for record ends (newlines outside quotes; a doubled quote inside a
 * quoted field toggles twice, so it needs no case of its own). Returns the index just past the
 * record end that brings `state.rows` to `limit`, or -1 when the piece ends first. Jumps from
 * quote to newline with indexOf (memchr) instead of testing every byte in JS: the COPY stream of a
 * 10M-row table is about 1 GB, and this loop runs on the thread that also feeds Postgres' socket.
 */
export function scanRecords(buf: Buffer, from: number, state: ScanState, limit: number): number {
  const len = buf.length;
  const next = (byte: number, i: number): number => {
    const at = buf.indexOf(byte, i);
    return at < 0 ? len : at;
  };
  let i = from;
  let inQuote = state.inQuote;
  let rows = state.rows;
  let quote = next(QUOTE, i);
  let newline = next(NEWLINE, i);
  for (;;) {
    if (inQuote) {
      if (quote === len) break;
      inQuote = false;
      i = quote + 1;
      quote = next(QUOTE, i);
      if (newline < i) newline = next(NEWLINE, i);
    } else if (quote < newline) {
      inQuote = true;
      i = quote + 1;
      quote = next(QUOTE, i);
    } else if (newline < len) {
      i = newline + 1;
      newline = next(NEWLINE, i);
      if (++rows >= limit) {
        state.inQuote = inQuote;
        state.rows = rows;
        return i;
      }
    } else break;
  }
  state.inQuote = inQuote;
  state.rows = rows;
  return -1;
}

/**
 * Splits a `COPY ... (FORMAT csv)` stream into files of about `rowsPerChunk` records, cut only at
 * record boundaries, and hands each finished file out while COPY goes on writing the next one, so
 * DuckDB converts chunk n while Postgres sends chunk n+1. At most `maxPending` finished files wait
 * for the consumer; beyond that COPY is paused (TCP backpressure), which bounds disk and memory.
 */
export function splitCopy(
  source: Readable,
  options: { dir: string; rowsPerChunk: number; maxPending?: number },
): AsyncGenerator<CopyChunkFile> {
  const maxPending = options.maxPending ?? 2;
  const ready: CopyChunkFile[] = [];
  let failure: unknown;
  let finished = false;
  let wake: (() => void) | undefined;
  let resume: (() => void) | undefined;
  const signal = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  let seq = 0;
  let out: WriteStream | undefined;
  let path = '';
  const scan: ScanState = { inQuote: false, rows: 0 };

  const open = (): void => {
    path = join(options.dir, `copy-${String(seq++).padStart(5, '0')}.csv`);
    out = createWriteStream(path, { highWaterMark: 1 << 20 });
  };
  const write = async (buf: Buffer): Promise<void> => {
    if (!out) open();
    if (!(out as WriteStream).write(buf)) await once(out as WriteStream, 'drain');
  };
  const close = async (): Promise<void> => {
    const o = out;
    if (!o) return;
    out = undefined;
    o.end();
    await once(o, 'finish');
    if (scan.rows > 0) ready.push({ path, rows: scan.rows });
    scan.rows = 0;
    signal();
    // Backpressure: COPY waits while the consumer has enough files to work on.
    while (ready.length >= maxPending && failure === undefined) await new Promise<void>((r) => (resume = r));
  };

  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb): void {
      void (async () => {
        let start = 0;
        for (let end; (end = scanRecords(chunk, start, scan, options.rowsPerChunk)) >= 0; start = end) {
          await write(chunk.subarray(start, end));
          await close();
        }
        if (start < chunk.length) await write(chunk.subarray(start));
      })().then(() => cb(), cb);
    },
    final(cb): void {
      close().then(() => cb(), cb);
    },
  });

  pipeline(source, sink).then(
    () => {
      finished = true;
      signal();
    },
    (err: unknown) => {
      failure = err;
      finished = true;
      signal();
    },
  );

  async function* files(): AsyncGenerator<CopyChunkFile> {
    try {
      for (;;) {
        const next = ready.shift();
        if (next) {
          const r = resume;
          resume = undefined;
          r?.();
          yield next;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (finished) return;
        await new Promise<void>((r) => (wake = r));
      }
    } finally {
      if (!finished) {
        failure ??= new Error('the consumer stopped');
        resume?.();
        source.destroy();
        sink.destroy();
      }
    }
  }
  return files();
}
