import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { compareText } from '../core/compare.js';
import { lakeError } from './errors.js';
import type { ListOptions, ObjectInfo, ObjectStore } from './object-store.js';

/** Temporary files are written beside their target (same filesystem, so link/rename are atomic). */
const TEMP_PREFIX = '.weir-tmp-';
const STAT_CONCURRENCY = 64;
const RESOLVED_CACHE_SIZE = 10_000;

/** An ObjectStore on a local folder. Keys map to files under `root`. */
export class LocalObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Keys already resolved: a run asks for the same table and log folders many times. */
  private readonly resolved = new Map<string, string>();

  localPath(path: string): string {
    const known = this.resolved.get(path);
    if (known !== undefined) return known;
    const key = normalizeKey(path);
    const full = key === '' ? this.root : resolve(this.root, ...key.split('/'));
    const rel = relative(this.root, full);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw lakeError('invalidObjectPath', `The key "${path}" points outside the store root ${this.root}`, {
        hint: 'Use keys relative to the lake root, without "..".',
      });
    }
    if (this.resolved.size >= RESOLVED_CACHE_SIZE) this.resolved.clear();
    this.resolved.set(path, full);
    return full;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ObjectInfo[]> {
    const normalized = normalizeKey(prefix);
    const keepTrailing = prefix.endsWith('/') && normalized !== '' ? `${normalized}/` : normalized;
    const slash = keepTrailing.lastIndexOf('/');
    const baseKey = slash < 0 ? '' : keepTrailing.slice(0, slash);
    const keys: string[] = [];
    await this.walk(baseKey, keepTrailing, options.startAfter, keys);
    // Keys sort by UTF-16 code units, like S3 sorts by bytes for ASCII keys.
    keys.sort(compareText);
    const out: ObjectInfo[] = new Array<ObjectInfo>(keys.length);
    for (let i = 0; i < keys.length; i += STAT_CONCURRENCY) {
      const batch = keys.slice(i, i + STAT_CONCURRENCY);
      const infos = await Promise.all(
        batch.map(async (key) => {
          try {
            const s = await stat(this.localPath(key));
            return { path: key, size: s.size, mtimeMs: s.mtimeMs };
          } catch (err) {
            if (isErrno(err, 'ENOENT')) return undefined; // deleted while listing
            throw err;
          }
        }),
      );
      infos.forEach((info, j) => (out[i + j] = info as ObjectInfo));
    }
    return out.filter((x) => x !== undefined);
  }

  private async walk(
    dirKey: string,
    prefix: string,
    startAfter: string | undefined,
    out: string[],
  ): Promise<void> {
    let entries;
    try {
      entries = await readdir(this.localPath(dirKey), { withFileTypes: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return;
      throw err;
    }
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) {
        const asDir = `${key}/`;
        if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) subdirs.push(key);
      } else if (key.startsWith(prefix) && (startAfter === undefined || compareText(key, startAfter) > 0)) {
        out.push(key);
      }
    }
    for (const sub of subdirs) await this.walk(sub, prefix, startAfter, out);
  }

  async get(path: string): Promise<Uint8Array> {
    try {
      return await readFile(this.localPath(path));
    } catch (err) {
      throw this.wrapMissing(err, path);
    }
  }

  async getRange(path: string, start: number, end: number): Promise<Uint8Array> {
    if (!(start >= 0) || !(end >= start)) {
      throw lakeError('invalidArgument', `Invalid byte range [${start}, ${end}) for ${path}`, {
        hint: 'Pass 0 <= start <= end.',
      });
    }
    let handle;
    try {
      handle = await open(this.localPath(path), 'r');
    } catch (err) {
      throw this.wrapMissing(err, path);
    }
    try {
      const buffer = Buffer.alloc(end - start);
      let read = 0;
      while (read < buffer.length) {
        const { bytesRead } = await handle.read(buffer, read, buffer.length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return buffer.subarray(0, read);
    } finally {
      await handle.close();
    }
  }

  async put(path: string, data: Uint8Array | string): Promise<void> {
    const target = this.localPath(path);
    const temp = await this.writeTemp(target, data);
    try {
      await rename(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  async putIfAbsent(path: string, data: Uint8Array | string): Promise<boolean> {
    const target = this.localPath(path);
    // The content is complete on disk before the target name exists: link() publishes it in one step
    // and fails with EEXIST when another writer got there first.
    const temp = await this.writeTemp(target, data);
    try {
      await link(temp, target);
      return true;
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      if (isErrno(err, 'EPERM') || isErrno(err, 'ENOTSUP') || isErrno(err, 'EXDEV')) {
        return this.putIfAbsentWithoutLinks(target, data);
      }
      throw err;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** For filesystems without hard links: the exclusive create reserves the name, then the bytes follow. */
  private async putIfAbsentWithoutLinks(target: string, data: Uint8Array | string): Promise<boolean> {
    let handle;
    try {
      handle = await open(target, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY);
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      throw err;
    }
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  }

  async delete(path: string): Promise<void> {
    try {
      await unlink(this.localPath(path));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      const s = await stat(this.localPath(path));
      return s.isFile();
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
      throw err;
    }
  }

  private async writeTemp(target: string, data: Uint8Array | string): Promise<string> {
    const dir = dirname(target);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
    await writeFile(temp, data, { flush: true });
    return temp;
  }

  private wrapMissing(err: unknown, path: string): unknown {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'EISDIR') || isErrno(err, 'ENOTDIR')) {
      return lakeError('objectNotFound', `No object at "${path}" in ${this.root}`, {
        hint: 'Check the table path; the file may have been vacuumed or never committed.',
        cause: err,
      });
    }
    return err;
  }
}

function normalizeKey(path: string): string {
  return path
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
