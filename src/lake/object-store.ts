/**
 * The storage the lake sits on: a flat namespace of keys (`a/b/c.parquet`, `/`-separated, no leading
 * slash), as on S3. The local filesystem is the embedded default; S3 follows the same contract, checked
 * by the shared suite in test/object-store-conformance.ts.
 */
export interface ObjectInfo {
  /** Key relative to the store root, `/`-separated. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface ListOptions {
  /** Only keys that sort strictly after this one (S3 `StartAfter`); lets a log listing skip old commits. */
  readonly startAfter?: string;
}

export interface ObjectStore {
  /** Every object whose key starts with `prefix` (at any depth), sorted by key. A missing prefix lists nothing. */
  list(prefix: string, options?: ListOptions): Promise<ObjectInfo[]>;
  /** Whole object. Throws WEIR-L018 when it does not exist. */
  get(path: string): Promise<Uint8Array>;
  /** Bytes `[start, end)` of an object. Throws WEIR-L018 when it does not exist. */
  getRange(path: string, start: number, end: number): Promise<Uint8Array>;
  /** Creates or replaces an object; readers see either the old or the new bytes, never a mix. */
  put(path: string, data: Uint8Array | string): Promise<void>;
  /**
   * Creates an object only if no object has that key, atomically: false when it already exists. The
   * Delta commit primitive: two writers racing for the same version, exactly one wins.
   */
  putIfAbsent(path: string, data: Uint8Array | string): Promise<boolean>;
  /** Deletes an object; deleting a missing object is not an error. */
  delete(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Absolute path or URL of a key that the engine can read (and write) directly. */
  localPath(path: string): string;
}

/** Joins key segments with `/`, dropping empty ones and duplicate separators. */
export function joinKey(...parts: readonly string[]): string {
  return parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}
