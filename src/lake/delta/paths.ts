import { isAbsolute, relative, resolve, sep } from 'node:path';
import { joinKey, type ObjectStore } from '../object-store.js';

/*
 * Delta stores data file paths as URIs: relative to the table root and percent-encoded, or absolute
 * with a scheme (`file:/...`, `s3://...`). Readers must decode them; writers must encode them.
 */

const KEEP = /[A-Za-z0-9\-._~!$&'()*+,;=@]/;

/** Percent-encodes a relative path, segment by segment (`/` kept), the way Delta writers do. */
export function encodeDeltaPath(path: string): string {
  let out = '';
  for (const ch of path) {
    if (ch === '/' || KEEP.test(ch)) {
      out += ch;
    } else {
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

/** Decodes a percent-encoded path; text that is not valid percent-encoding is kept as written. */
export function decodeDeltaPath(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** For `file:` URIs and bare absolute paths, the absolute local path; undefined for other forms. */
function localAbsolute(path: string): string | undefined {
  const scheme = SCHEME_RE.exec(path);
  if (scheme && scheme[1]?.length === 1) return resolve(decodeDeltaPath(path)); // a Windows drive letter
  if (scheme) {
    if (scheme[1]?.toLowerCase() !== 'file') return undefined;
    let rest = path.slice(scheme[0].length);
    // file:/p, file:///p and file://localhost/p all name /p
    if (rest.startsWith('//')) {
      const slash = rest.indexOf('/', 2);
      rest = slash < 0 ? '/' : rest.slice(slash);
    }
    return resolve(decodeDeltaPath(rest));
  }
  if (path.startsWith('/')) return resolve(decodeDeltaPath(path));
  return undefined;
}

/**
 * Canonical identity of a data file for reconciling adds and removes: the decoded path relative to
 * the table root when the file lies under it, the absolute form otherwise. `file:/x`, `file:///x` and
 * `/x` are the same file.
 */
export function canonicalFilePath(path: string, tableRoot: string): string {
  const abs = localAbsolute(path);
  if (abs !== undefined) {
    const rel = relative(tableRoot, abs);
    return rel.startsWith('..') || isAbsolute(rel) ? abs : rel.split(sep).join('/');
  }
  if (SCHEME_RE.test(path)) return path;
  return joinKey(decodeDeltaPath(path));
}

/** Where the engine reads a data file: an absolute local path or a URL. */
export function dataFileLocation(store: ObjectStore, tablePath: string, path: string): string {
  const abs = localAbsolute(path);
  if (abs !== undefined) return abs;
  if (SCHEME_RE.test(path)) return path;
  return store.localPath(joinKey(tablePath, decodeDeltaPath(path)));
}
