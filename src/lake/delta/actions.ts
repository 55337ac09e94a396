import { lakeError } from '../errors.js';

/*
 * The Delta log's actions, in their wire shape: one JSON object per line, `{"add": {...}}`. Field
 * names follow PROTOCOL.md exactly so a line serialises with JSON.stringify and parses back unchanged.
 */

export interface Protocol {
  readonly minReaderVersion: number;
  readonly minWriterVersion: number;
  /** Present only when minReaderVersion is 3 (table features). */
  readonly readerFeatures?: readonly string[];
  /** Present only when minWriterVersion is 7 (table features). */
  readonly writerFeatures?: readonly string[];
}

export interface Format {
  readonly provider: string;
  readonly options: Readonly<Record<string, string>>;
}

export interface Metadata {
  readonly id: string;
  readonly name?: string | null;
  readonly description?: string | null;
  readonly format: Format;
  /** The table schema as a JSON-serialised Delta StructType. */
  readonly schemaString: string;
  readonly partitionColumns: readonly string[];
  readonly configuration: Readonly<Record<string, string>>;
  readonly createdTime?: number | null;
}

export const EMPTY_SCHEMA_STRING = '{"type":"struct","fields":[]}';

export interface DeletionVectorDescriptor {
  readonly storageType: string;
  readonly pathOrInlineDv: string;
  readonly offset?: number | null;
  readonly sizeInBytes: number;
  readonly cardinality: number;
  readonly maxRowIndex?: number | null;
}

export interface Add {
  /** URI-encoded, relative to the table root (or absolute with a scheme). */
  readonly path: string;
  readonly partitionValues: Readonly<Record<string, string | null>>;
  readonly size: number;
  readonly modificationTime: number;
  readonly dataChange: boolean;
  /** JSON string: `{numRecords, minValues, maxValues, nullCount}`. */
  readonly stats?: string | null;
  readonly tags?: Readonly<Record<string, string | null>> | null;
  readonly deletionVector?: DeletionVectorDescriptor | null;
  readonly baseRowId?: number | null;
  readonly defaultRowCommitVersion?: number | null;
  readonly clusteringProvider?: string | null;
}

export interface Remove {
  readonly path: string;
  readonly deletionTimestamp?: number | null;
  readonly dataChange: boolean;
  readonly extendedFileMetadata?: boolean | null;
  readonly partitionValues?: Readonly<Record<string, string | null>> | null;
  readonly size?: number | null;
  readonly stats?: string | null;
  readonly tags?: Readonly<Record<string, string | null>> | null;
  readonly deletionVector?: DeletionVectorDescriptor | null;
  readonly baseRowId?: number | null;
  readonly defaultRowCommitVersion?: number | null;
}

export interface AddCdc {
  readonly path: string;
  readonly partitionValues: Readonly<Record<string, string | null>>;
  readonly size: number;
  readonly dataChange: boolean;
  readonly tags?: Readonly<Record<string, string | null>> | null;
}

export interface Txn {
  readonly appId: string;
  readonly version: number;
  readonly lastUpdated?: number | null;
}

/** Free-form provenance of one commit. `timestamp` (ms since epoch) dates the commit for time travel. */
export interface CommitInfo {
  readonly timestamp?: number;
  readonly operation?: string;
  readonly operationParameters?: Readonly<Record<string, unknown>>;
  readonly readVersion?: number;
  readonly isolationLevel?: string;
  readonly isBlindAppend?: boolean;
  readonly operationMetrics?: Readonly<Record<string, string>>;
  readonly engineInfo?: string;
  readonly txnId?: string;
  readonly [key: string]: unknown;
}

export interface DomainMetadata {
  readonly domain: string;
  readonly configuration: string;
  readonly removed: boolean;
}

export type Action =
  | { readonly add: Add }
  | { readonly remove: Remove }
  | { readonly metaData: Metadata }
  | { readonly protocol: Protocol }
  | { readonly txn: Txn }
  | { readonly commitInfo: CommitInfo }
  | { readonly cdc: AddCdc }
  | { readonly domainMetadata: DomainMetadata };

export const ACTION_KINDS = [
  'add',
  'remove',
  'metaData',
  'protocol',
  'txn',
  'commitInfo',
  'cdc',
  'domainMetadata',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface LogLocation {
  /** Store key of the commit or checkpoint file. */
  readonly file: string;
  /** 1-based line (commits) or row (checkpoints). */
  readonly line: number;
}

/** A stable identity for a data file across adds and removes: its path plus its deletion vector, if any. */
export function deletionVectorId(dv: DeletionVectorDescriptor | null | undefined): string {
  if (!dv) return '';
  return `${dv.storageType}${dv.pathOrInlineDv}${dv.offset === undefined || dv.offset === null ? '' : `@${dv.offset}`}`;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class ActionShapeError extends Error {}

function req<T>(obj: Record<string, Json>, key: string, check: (v: unknown) => v is T, what: string): T {
  const v = obj[key];
  if (!check(v)) throw new ActionShapeError(`${what}.${key} is missing or not a ${checkName(check)}`);
  return v;
}

function opt<T>(
  obj: Record<string, Json>,
  key: string,
  check: (v: unknown) => v is T,
  what: string,
): T | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) throw new ActionShapeError(`${what}.${key} is not a ${checkName(check)}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');
const isStringMap = (v: unknown): v is Record<string, string | null> =>
  isObject(v) && Object.values(v).every((x) => x === null || typeof x === 'string');

function checkName(check: (v: unknown) => boolean): string {
  if (check === isString) return 'string';
  if (check === isNumber) return 'number';
  if (check === isBoolean) return 'boolean';
  if (check === isStringArray) return 'list of strings';
  if (check === isStringMap) return 'map of strings';
  return 'valid value';
}

/** Spark writes string maps with non-string values in a few legacy places; keep them as text. */
function stringMap(v: Json | undefined): Record<string, string | null> {
  if (!isObject(v)) return {};
  const out: Record<string, string | null> = {};
  for (const [k, x] of Object.entries(v))
    out[k] = x === null ? null : typeof x === 'string' ? x : JSON.stringify(x);
  return out;
}

function configMap(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(stringMap(v))) if (x !== null) out[k] = x;
  return out;
}

function parseDv(v: Json | undefined, what: string): DeletionVectorDescriptor | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new ActionShapeError(`${what}.deletionVector is not an object`);
  const d = v;
  return {
    storageType: req(d, 'storageType', isString, `${what}.deletionVector`),
    pathOrInlineDv: req(d, 'pathOrInlineDv', isString, `${what}.deletionVector`),
    ...(isNumber(d['offset']) ? { offset: d['offset'] } : {}),
    sizeInBytes: req(d, 'sizeInBytes', isNumber, `${what}.deletionVector`),
    cardinality: req(d, 'cardinality', isNumber, `${what}.deletionVector`),
    ...(isNumber(d['maxRowIndex']) ? { maxRowIndex: d['maxRowIndex'] } : {}),
  };
}

function defined<T extends Record<string, unknown>>(obj: T): T {
  for (const k of Object.keys(obj)) if (obj[k] === undefined) delete obj[k];
  return obj;
}

function parseAdd(o: Record<string, Json>): Add {
  const w = 'add';
  return defined({
    path: req(o, 'path', isString, w),
    partitionValues: stringMap(o['partitionValues']),
    size: opt(o, 'size', isNumber, w) ?? 0,
    modificationTime: opt(o, 'modificationTime', isNumber, w) ?? 0,
    dataChange: opt(o, 'dataChange', isBoolean, w) ?? true,
    stats: opt(o, 'stats', isString, w),
    tags: isObject(o['tags']) ? stringMap(o['tags']) : undefined,
    deletionVector: parseDv(o['deletionVector'], w),
    baseRowId: opt(o, 'baseRowId', isNumber, w),
    defaultRowCommitVersion: opt(o, 'defaultRowCommitVersion', isNumber, w),
    clusteringProvider: opt(o, 'clusteringProvider', isString, w),
  });
}

function parseRemove(o: Record<string, Json>): Remove {
  const w = 'remove';
  return defined({
    path: req(o, 'path', isString, w),
    deletionTimestamp: opt(o, 'deletionTimestamp', isNumber, w),
    dataChange: opt(o, 'dataChange', isBoolean, w) ?? true,
    extendedFileMetadata: opt(o, 'extendedFileMetadata', isBoolean, w),
    partitionValues: isObject(o['partitionValues']) ? stringMap(o['partitionValues']) : undefined,
    size: opt(o, 'size', isNumber, w),
    stats: opt(o, 'stats', isString, w),
    tags: isObject(o['tags']) ? stringMap(o['tags']) : undefined,
    deletionVector: parseDv(o['deletionVector'], w),
    baseRowId: opt(o, 'baseRowId', isNumber, w),
    defaultRowCommitVersion: opt(o, 'defaultRowCommitVersion', isNumber, w),
  });
}

function parseMetadata(o: Record<string, Json>): Metadata {
  const w = 'metaData';
  const format = isObject(o['format']) ? o['format'] : {};
  return defined({
    id: opt(o, 'id', isString, w) ?? '',
    name: opt(o, 'name', isString, w),
    description: opt(o, 'description', isString, w),
    format: {
      provider: isString(format['provider']) ? format['provider'] : 'parquet',
      options: configMap(format['options']),
    },
    // Spark's Metadata() default has no schema; a table without one has no columns.
    schemaString: opt(o, 'schemaString', isString, w) ?? EMPTY_SCHEMA_STRING,
    partitionColumns: opt(o, 'partitionColumns', isStringArray, w) ?? [],
    configuration: configMap(o['configuration']),
    createdTime: opt(o, 'createdTime', isNumber, w),
  });
}

function parseProtocol(o: Record<string, Json>): Protocol {
  const w = 'protocol';
  return defined({
    minReaderVersion: req(o, 'minReaderVersion', isNumber, w),
    minWriterVersion: req(o, 'minWriterVersion', isNumber, w),
    readerFeatures: opt(o, 'readerFeatures', isStringArray, w),
    writerFeatures: opt(o, 'writerFeatures', isStringArray, w),
  });
}

function parseTxn(o: Record<string, Json>): Txn {
  const w = 'txn';
  return defined({
    appId: req(o, 'appId', isString, w),
    version: req(o, 'version', isNumber, w),
    lastUpdated: opt(o, 'lastUpdated', isNumber, w),
  });
}

function parseCdc(o: Record<string, Json>): AddCdc {
  const w = 'cdc';
  return defined({
    path: req(o, 'path', isString, w),
    partitionValues: stringMap(o['partitionValues']),
    size: opt(o, 'size', isNumber, w) ?? 0,
    dataChange: opt(o, 'dataChange', isBoolean, w) ?? false,
    tags: isObject(o['tags']) ? stringMap(o['tags']) : undefined,
  });
}

function parseDomainMetadata(o: Record<string, Json>): DomainMetadata {
  const w = 'domainMetadata';
  return {
    domain: req(o, 'domain', isString, w),
    configuration: opt(o, 'configuration', isString, w) ?? '',
    removed: opt(o, 'removed', isBoolean, w) ?? false,
  };
}

/**
 * One action from a parsed log object (a commit line or a checkpoint row). Unknown action kinds
 * (checkpointMetadata, sidecar, future ones) yield undefined; a known kind with a broken shape is
 * WEIR-L003 naming the file and line.
 */
export function actionFromObject(value: unknown, at: LogLocation): Action | undefined {
  if (!isObject(value)) throw corrupt(at, 'the line is not a JSON object');
  try {
    for (const [key, body] of Object.entries(value)) {
      if (body === null || body === undefined) continue;
      if (!isObject(body)) {
        if ((ACTION_KINDS as readonly string[]).includes(key))
          throw new ActionShapeError(`${key} is not an object`);
        continue;
      }
      switch (key) {
        case 'add':
          return { add: parseAdd(body) };
        case 'remove':
          return { remove: parseRemove(body) };
        case 'metaData':
          return { metaData: parseMetadata(body) };
        case 'protocol':
          return { protocol: parseProtocol(body) };
        case 'txn':
          return { txn: parseTxn(body) };
        case 'commitInfo':
          return { commitInfo: body as CommitInfo };
        case 'cdc':
          return { cdc: parseCdc(body) };
        case 'domainMetadata':
          return { domainMetadata: parseDomainMetadata(body) };
        default:
          continue;
      }
    }
    return undefined;
  } catch (err) {
    if (err instanceof ActionShapeError) throw corrupt(at, err.message);
    throw err;
  }
}

/** Parses a whole commit file (newline-delimited JSON). Blank lines are allowed. */
export function parseCommit(text: string, file: string): Action[] {
  const out: Action[] = [];
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw corrupt(
        { file, line: lineNo },
        `invalid JSON (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    const action = actionFromObject(value, { file, line: lineNo });
    if (action) out.push(action);
  }
  return out;
}

/** The commit file body: one action per line, newline-terminated. */
export function serializeCommit(actions: readonly Action[]): string {
  return actions.map((a) => stringifyJson(a)).join('\n') + '\n';
}

function corrupt(at: LogLocation, detail: string) {
  return lakeError('corruptCommit', `Corrupt Delta log entry at ${at.file}:${at.line}: ${detail}`, {
    at: { file: at.file, line: at.line },
    hint: 'The commit file is damaged or was not written by a Delta writer. Restore it from a backup, or remove the table folder and rebuild it.',
  });
}

/**
 * JSON text of a value, like JSON.stringify, except that bigint is written as a plain JSON number
 * (Delta stats may hold 64-bit integers) and non-finite numbers become null.
 */
export function stringifyJson(value: unknown): string {
  return writeJson(value) ?? 'null';
}

function writeJson(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      const withToJson = value as { toJSON?: () => unknown };
      if (typeof withToJson.toJSON === 'function') return writeJson(withToJson.toJSON());
      if (Array.isArray(value)) return `[${value.map((v) => writeJson(v) ?? 'null').join(',')}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        const text = writeJson(v);
        if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return undefined;
  }
}
