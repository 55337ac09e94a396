import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { constants as zc, createGunzip, gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { z } from 'zod';
import { quoteLiteral } from '../../../core/engine.js';
import { errorMessage, isWeirError } from '../../../core/errors.js';
import { LocalObjectStore } from '../../../lake/local-object-store.js';
import type { ObjectInfo, ObjectStore } from '../../../lake/object-store.js';
import { ingestError } from '../../errors.js';
import { unifyTypes, valueType, type InferredType } from '../../schema/types.js';
import type {
  Chunk,
  CursorState,
  DiscoveredStream,
  ReadRequest,
  RejectedRecord,
  SourceConnector,
  SourceRecord,
  StreamRead,
  StreamSpec,
} from '../../types.js';
import { selectRecords } from '../rest/paginators.js';
import {
  FILE_FORMATS,
  detectDelimiter,
  detectEncoding,
  formatOf,
  looksLikeHeader,
  typedCell,
  type FileFormat,
} from './sniff.js';

const optionsSchema = z.object({
  path: z.string().min(1),
  format: z.enum(FILE_FORMATS).optional(),
  csv: z
    .object({
      delimiter: z.string().min(1).max(4).optional(),
      quote: z.string().length(1).optional(),
      header: z.union([z.boolean(), z.literal('auto')]).optional(),
      encoding: z.string().optional(),
    })
    .strict()
    .optional(),
  json: z
    .object({ data_selector: z.string().min(1).optional() })
    .strict()
    .optional(),
});
export type FilesOptions = z.infer<typeof optionsSchema>;

/** Characters that make a path segment a glob. */
const GLOB_CHARS = /[*?[\]{}]/;

/** `data/in/**\/*.csv` -> base folder `data/in` and the pattern `**\/*.csv` relative to it. */
export function splitGlob(pattern: string): { base: string; pattern: string } {
  const parts = pattern.split('/');
  const i = parts.findIndex((p) => GLOB_CHARS.test(p));
  if (i < 0) return { base: parts.slice(0, -1).join('/') || '.', pattern: parts.at(-1) ?? '' };
  return {
    base: parts.slice(0, i).join('/') || (pattern.startsWith('/') ? '/' : '.'),
    pattern: parts.slice(i).join('/'),
  };
}

/** A glob (`*`, `**`, `?`, `[abc]`, `{a,b}`) as an anchored regular expression over `/` paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${glob
          .slice(i + 1, end)
          .split(',')
          .map((a) => a.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
          .join('|')})`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** `<sha256>:<size>:<mtimeMs>`: what the raw commit remembers of each loaded file. */
interface FileIdentity {
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
}

function formatIdentity(f: FileIdentity): string {
  return `${f.sha256}:${f.size}:${Math.round(f.mtimeMs)}`;
}

function parseIdentity(text: string | undefined): FileIdentity | undefined {
  const m = /^([0-9a-f]{64}):(\d+):(\d+)$/.exec(text ?? '');
  return m ? { sha256: m[1] as string, size: Number(m[2]), mtimeMs: Number(m[3]) } : undefined;
}

const BLOCK = 4 << 20;
const SAMPLE = 64 << 10;
const CSV_BATCH = 2000;

/** One matched file: where it is in the store and its name in cursors and locations. */
interface MatchedFile {
  readonly info: ObjectInfo;
  /** Relative to the project root (or absolute when outside it). */
  readonly id: string;
  readonly format: FileFormat;
  readonly gzip: boolean;
}

/**
 * Files (CSV, JSON, NDJSON, Parquet; gzip too) matched by a glob, read through the ObjectStore
 * interface. Each file's identity and checksum go into the cursor committed with the data, so a
 * file is loaded once; a changed file is loaded again as a new version of its rows.
 */
export class FilesSource implements SourceConnector {
  private readonly options: FilesOptions;
  private readonly store: ObjectStore;
  private readonly base: string;
  private readonly matcher: RegExp;
  private readonly where: string;

  constructor(
    private readonly spec: StreamSpec,
    private readonly projectRoot: string,
    store?: ObjectStore,
  ) {
    this.where = `stream ${spec.sourceName}.${spec.streamName}`;
    const r = optionsSchema.safeParse(spec.options);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw ingestError(
        'invalidConfig',
        `files settings of ${this.where}: '${issue?.path.map(String).join('.') ?? ''}': ${issue?.message ?? 'invalid'}`,
        { at: spec.at, hint: 'see the files section of docs/ingestion.md (path, format, csv, json)' },
      );
    }
    this.options = r.data;
    const glob = splitGlob(this.options.path);
    this.base = isAbsolute(glob.base) ? glob.base : resolve(projectRoot, glob.base);
    this.matcher = globToRegExp(glob.pattern);
    this.store = store ?? new LocalObjectStore(this.base);
  }

  private fail(file: string, what: string, err?: unknown): Error {
    if (isWeirError(err)) return err;
    return ingestError(
      'fileRead',
      `${this.where}: cannot read ${file}: ${what}${err === undefined ? '' : `: ${errorMessage(err)}`}`,
      {
        at: this.spec.at,
        hint: 'check the file (permissions, compression, format:) or move it out of the glob',
      },
    );
  }

  /** The files the glob matches now, in path order. */
  async match(): Promise<MatchedFile[]> {
    let infos: ObjectInfo[];
    try {
      infos = await this.store.list('');
    } catch (err) {
      throw this.fail(this.base, 'cannot list the folder', err);
    }
    const out: MatchedFile[] = [];
    for (const info of infos) {
      if (!this.matcher.test(info.path)) continue;
      const abs = join(this.base, info.path);
      const rel = relative(this.projectRoot, abs);
      const id = rel.startsWith('..') || isAbsolute(rel) ? abs : rel.split('\\').join('/');
      const guessed = formatOf(info.path);
      const format = this.options.format ?? guessed.format;
      if (!format)
        throw ingestError('fileRead', `${this.where}: cannot tell the format of ${id} from its name`, {
          at: this.spec.at,
          hint: `set format: (${FILE_FORMATS.join(', ')}) on the stream, or narrow path: to one kind of file`,
        });
      out.push({ info, id, format, gzip: guessed.gzip });
    }
    return out;
  }

  /** The file's bytes in blocks, hashed on the way (the digest is ready when the stream ends). */
  private bytes(file: MatchedFile, hash?: ReturnType<typeof createHash>): Readable {
    const { store } = this;
    const { path, size } = file.info;
    async function* blocks(): AsyncGenerator<Buffer> {
      for (let at = 0; at < size; at += BLOCK) {
        const b = Buffer.from(await store.getRange(path, at, Math.min(size, at + BLOCK)));
        hash?.update(b);
        yield b;
      }
    }
    return Readable.from(blocks(), { objectMode: false });
  }

  private async checksum(file: MatchedFile): Promise<string> {
    const hash = createHash('sha256');
    try {
      for await (const _ of this.bytes(file, hash)) {
        /* hashing */
      }
    } catch (err) {
      throw this.fail(file.id, 'read failed', err);
    }
    return hash.digest('hex');
  }

  /** A sample of the decompressed start of a file (encoding and dialect detection). */
  private async sample(file: MatchedFile): Promise<Buffer> {
    const head = Buffer.from(await this.store.getRange(file.info.path, 0, Math.min(file.info.size, SAMPLE)));
    if (!file.gzip) return head;
    try {
      return gunzipSync(head, { finishFlush: zc.Z_SYNC_FLUSH });
    } catch (err) {
      throw this.fail(file.id, 'not a valid gzip file', err);
    }
  }

  private async textStream(
    file: MatchedFile,
    hash: ReturnType<typeof createHash>,
  ): Promise<{ text: NodeJS.ReadableStream; encoding: string; sample: string }> {
    const sample = await this.sample(file);
    const encoding = this.options.csv?.encoding ?? detectEncoding(sample);
    if (!iconv.encodingExists(encoding))
      throw ingestError('invalidConfig', `${this.where}: unknown encoding '${encoding}'`, {
        at: this.spec.at,
        hint: 'use an encoding name such as utf8, latin1, windows-1252, utf16le',
      });
    let raw: NodeJS.ReadableStream = this.bytes(file, hash);
    if (file.gzip) {
      const gunzip = createGunzip();
      raw.on('error', (e) => gunzip.destroy(e));
      raw = raw.pipe(gunzip);
    }
    const decode = iconv.decodeStream(encoding);
    raw.on('error', (e) => decode.emit('error', e));
    return { text: raw.pipe(decode), encoding, sample: iconv.decode(sample, encoding) };
  }

  async discover(): Promise<DiscoveredStream[]> {
    const files = await this.match();
    const first = files[0];
    if (!first) return [{ name: this.spec.streamName, columns: [] }];
    const types = new Map<string, InferredType | null>();
    if (first.format === 'parquet') return [{ name: this.spec.streamName, columns: [] }];
    outer: for await (const chunk of this.records(first, createHash('sha256'), 200)) {
      for (const r of chunk.records) {
        for (const [k, v] of Object.entries(r.value))
          types.set(k, unifyTypes(types.get(k) ?? null, valueType(v)));
      }
      break outer;
    }
    return [
      {
        name: this.spec.streamName,
        columns: [...types].map(([name, t]) => ({ name, type: t ?? 'VARCHAR' })),
      },
    ];
  }

  async read(request: ReadRequest): Promise<StreamRead> {
    const files = await this.match();
    const previous: Readonly<Record<string, string>> =
      (request.cursor as CursorState | undefined)?.files ?? {};
    const remembered: Record<string, string> = { ...previous };
    async function* chunks(this: FilesSource): AsyncGenerator<Chunk> {
      for (const file of files) {
        const before = parseIdentity(previous[file.id]);
        if (before && before.size === file.info.size && before.mtimeMs === Math.round(file.info.mtimeMs))
          continue;
        const sha256 = await this.checksum(file);
        const now = formatIdentity({ sha256, size: file.info.size, mtimeMs: file.info.mtimeMs });
        // Touched but unchanged: remember the new mtime, load nothing.
        if (before?.sha256 === sha256) {
          remembered[file.id] = now;
          continue;
        }
        if (file.format === 'parquet') yield await this.parquet(file, request);
        else {
          const hash = createHash('sha256');
          yield* this.records(file, hash, request.chunkRows);
          if (hash.digest('hex') !== sha256)
            throw this.fail(file.id, 'the file changed while it was being loaded; run the load again');
        }
        remembered[file.id] = now;
      }
    }
    return { chunks: chunks.call(this), cursorPatch: () => ({ files: remembered }) };
  }

  private async parquet(file: MatchedFile, request: ReadRequest): Promise<Chunk> {
    const session = request.session;
    if (!session) throw this.fail(file.id, 'Parquet needs the landing session');
    if (file.gzip)
      throw this.fail(file.id, 'gzip-compressed Parquet is not supported (Parquet compresses itself)');
    const sql = `SELECT * FROM read_parquet(${quoteLiteral(this.store.localPath(file.info.path))})`;
    try {
      const columns = await session.describe(sql);
      const count = await session.query(`SELECT count(*) AS n FROM (${sql})`);
      return {
        kind: 'typed',
        sql,
        columns,
        rows: Number(count.rows[0]?.['n'] ?? 0),
        dispose: async () => {},
      };
    } catch (err) {
      throw this.fail(file.id, 'not a readable Parquet file', err);
    }
  }

  /** Records of a text file, in chunks; unparseable ones are rejected with `file:line`. */
  async *records(
    file: MatchedFile,
    hash: ReturnType<typeof createHash>,
    chunkRows: number,
  ): AsyncGenerator<RecordsChunk> {
    const acc = new Accumulator();
    const { text, sample } = await this.textStream(file, hash);
    try {
      if (file.format === 'json') {
        let body = '';
        for await (const part of text) body += String(part);
        const parsed = parseJsonDocument(body);
        if ('error' in parsed) {
          acc.rejected.push({
            reason: `malformed JSON: ${parsed.error}`,
            payload: body.slice(0, 2000),
            at: `${file.id}:${parsed.line}`,
          });
        } else {
          let i = 0;
          for (const v of selectRecords(parsed.value, this.options.json?.data_selector)) {
            i++;
            const at = `${file.id} item ${i}`;
            if (v !== null && typeof v === 'object' && !Array.isArray(v))
              acc.records.push({ value: v as Record<string, unknown>, at });
            else acc.rejected.push({ reason: 'not a JSON object', payload: JSON.stringify(v) ?? 'null', at });
            if (acc.size >= chunkRows) yield acc.flush();
          }
        }
      } else if (file.format === 'ndjson') {
        let line = 0;
        for await (const l of createInterface({ input: text, crlfDelay: Infinity })) {
          line++;
          if (l.trim() === '') continue;
          const at = `${file.id}:${line}`;
          try {
            const v: unknown = JSON.parse(l);
            if (v !== null && typeof v === 'object' && !Array.isArray(v))
              acc.records.push({ value: v as Record<string, unknown>, at });
            else acc.rejected.push({ reason: 'not a JSON object', payload: l, at });
          } catch (err) {
            acc.rejected.push({ reason: `malformed JSON: ${errorMessage(err)}`, payload: l, at });
          }
          if (acc.size >= chunkRows) yield acc.flush();
        }
      } else {
        yield* this.csv(file, text, sample, chunkRows, acc);
      }
    } catch (err) {
      throw this.fail(file.id, 'read failed', err);
    }
    if (acc.size > 0) yield acc.flush();
  }

  private async *csv(
    file: MatchedFile,
    text: NodeJS.ReadableStream,
    sample: string,
    chunkRows: number,
    acc: Accumulator,
  ): AsyncGenerator<RecordsChunk> {
    const o = this.options.csv ?? {};
    const quote = o.quote ?? '"';
    const delimiter = o.delimiter ?? detectDelimiter(sample, quote);
    const headerMode = o.header ?? 'auto';
    let columns: string[] | undefined;
    let pendingFirst: { cells: string[]; line: number; text: string } | undefined;
    const parseOpts = { delimiter, quote, escape: quote, relax_column_count: true, bom: true };

    const accept = (cells: string[], line: number, raw: string): void => {
      const at = `${file.id}:${line}`;
      const cols = columns ?? [];
      if (cells.length !== cols.length) {
        acc.rejected.push({
          reason: `ragged line: ${cells.length} fields where the header has ${cols.length}`,
          payload: raw,
          at,
        });
        return;
      }
      const value: Record<string, unknown> = {};
      cells.forEach((c, i) => (value[cols[i] as string] = typedCell(c)));
      acc.records.push({ value, at });
    };
    const settleHeader = (rows: readonly string[][]): void => {
      if (columns || !pendingFirst) return;
      const first = pendingFirst;
      const isHeader = headerMode === 'auto' ? looksLikeHeader(first.cells, rows.slice(0, 20)) : headerMode;
      if (isHeader) {
        columns = first.cells.map((c, i) => c.trim() || `column_${i + 1}`);
      } else {
        columns = first.cells.map((_, i) => `column_${i + 1}`);
        accept(first.cells, first.line, first.text);
      }
    };
    const handle = (batch: { text: string; line: number }[]): void => {
      let rows: string[][] | undefined;
      try {
        rows = parseCsv(batch.map((b) => b.text).join('\n'), parseOpts) as string[][];
        if (rows.length !== batch.length) rows = undefined;
      } catch {
        rows = undefined;
      }
      // The batch has a broken record: parse them one by one to find it.
      const parsed: (string[] | string)[] =
        rows ??
        batch.map((b) => {
          try {
            const r = parseCsv(b.text, parseOpts) as string[][];
            return r.length === 1 && r[0] ? r[0] : 'not one CSV record';
          } catch (err) {
            return `malformed CSV: ${errorMessage(err).replace(/ at line \d+/, '')}`;
          }
        });
      batch.forEach((b, i) => {
        const cells = parsed[i];
        if (typeof cells === 'string') {
          acc.rejected.push({ reason: cells, payload: b.text, at: `${file.id}:${b.line}` });
          return;
        }
        if (!columns && !pendingFirst) {
          pendingFirst = { cells: cells ?? [], line: b.line, text: b.text };
          return;
        }
        if (!columns) settleHeader(parsed.filter((p): p is string[] => typeof p !== 'string'));
        accept(cells ?? [], b.line, b.text);
      });
    };

    let batch: { text: string; line: number }[] = [];
    let pending: string[] = [];
    let startLine = 0;
    let quotes = 0;
    let line = 0;
    for await (const l of createInterface({ input: text, crlfDelay: Infinity })) {
      line++;
      if (pending.length === 0) {
        if (l.trim() === '') continue;
        startLine = line;
      }
      pending.push(l);
      for (const ch of l) if (ch === quote) quotes++;
      // An odd number of quotes so far: a quoted field goes on over the line break.
      if (quotes % 2 === 1) continue;
      batch.push({ text: pending.join('\n'), line: startLine });
      pending = [];
      quotes = 0;
      if (batch.length >= CSV_BATCH) {
        handle(batch);
        batch = [];
        if (acc.size >= chunkRows) yield acc.flush();
      }
    }
    if (pending.length > 0) batch.push({ text: pending.join('\n'), line: startLine });
    handle(batch);
    settleHeader([]);
  }

  async close(): Promise<void> {}
}

/** Records and rejects of the chunk being filled. */
class Accumulator {
  records: SourceRecord[] = [];
  rejected: RejectedRecord[] = [];

  get size(): number {
    return this.records.length + this.rejected.length;
  }

  flush(): RecordsChunk {
    const out: RecordsChunk = { kind: 'records', records: this.records, rejected: this.rejected };
    this.records = [];
    this.rejected = [];
    return out;
  }
}

type RecordsChunk = { kind: 'records'; records: SourceRecord[]; rejected: RejectedRecord[] };

/** JSON.parse with the line of the failure. */
function parseJsonDocument(body: string): { value: unknown } | { error: string; line: number } {
  try {
    return { value: JSON.parse(body) as unknown };
  } catch (err) {
    const msg = errorMessage(err);
    const pos = Number(/position (\d+)/.exec(msg)?.[1] ?? NaN);
    const line = Number.isFinite(pos) ? body.slice(0, pos).split('\n').length : 1;
    return { error: msg, line };
  }
}
