import {
  DuckDBBitValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTypeId,
  arrayFromArrayValue,
  arrayFromListValue,
  blobValue,
  booleanFromValue,
  bytesFromBlobValue,
  bytesFromGeometryValue,
  createDuckDBValueConverter,
  fromVariantValue,
  listValue,
  nullConverter,
  numberFromValue,
  objectArrayFromMapValue,
  objectFromStructValue,
  objectFromUnionValue,
  stringFromValue,
  structValue,
  timestampTZValue,
  unsupportedConverter,
  type DuckDBValue,
  type DuckDBValueConverter,
} from '@duckdb/node-api';
import type { SqlValue } from '../../core/engine.js';

/*
 * DuckDB -> JS value mapping (what `query` and `stream` return):
 *   TINYINT..INTEGER, UTINYINT..UINTEGER, FLOAT, DOUBLE      -> number
 *   BIGINT, UBIGINT                                          -> number when |v| <= 2^53-1, else bigint
 *   HUGEINT, UHUGEINT, BIGNUM                                -> bigint (always: their range is beyond 2^53)
 *   DECIMAL(p,s)                                             -> string, exact ('12.30'); a double would round
 *   VARCHAR, ENUM, UUID                                      -> string
 *   DATE                                                     -> 'YYYY-MM-DD' string (a calendar day has no time zone)
 *   TIMESTAMP, TIMESTAMP_S/_MS/_NS, TIMESTAMP WITH TIME ZONE -> JS Date (millisecond precision);
 *                                                               'infinity' / '-infinity' / out-of-range -> DuckDB's string
 *   TIME, TIME WITH TIME ZONE, TIME_NS, INTERVAL, BIT        -> DuckDB's string form ('12:30:00', '1 day')
 *   BOOLEAN                                                  -> boolean
 *   BLOB, GEOMETRY                                           -> Uint8Array
 *   LIST, ARRAY                                              -> array
 *   STRUCT                                                   -> object
 *   MAP                                                      -> array of { key, value } (keys need not be strings)
 *   UNION                                                    -> { tag, value }
 */

type NonNullSqlValue = Exclude<SqlValue, null>;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
// JS Date covers +-8.64e15 ms around the epoch.
const MAX_DATE_MS = 8_640_000_000_000_000n;

function smallBigint(value: DuckDBValue): NonNullSqlValue {
  if (typeof value !== 'bigint') return Number(value);
  return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value;
}

function bigintValue(value: DuckDBValue): NonNullSqlValue {
  return typeof value === 'bigint' ? value : BigInt(String(value));
}

function dateString(value: DuckDBValue): NonNullSqlValue {
  return value instanceof DuckDBDateValue ? value.toString() : String(value);
}

function decimalString(value: DuckDBValue): NonNullSqlValue {
  return value instanceof DuckDBDecimalValue ? value.toString() : String(value);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Timestamps of every precision to a JS Date; values a Date cannot hold keep DuckDB's text. */
function timestampToDate(value: DuckDBValue): NonNullSqlValue {
  if (value === null || typeof value !== 'object') return String(value);
  let ms: bigint;
  if ('micros' in value && typeof value.micros === 'bigint') ms = floorDiv(value.micros, 1000n);
  else if ('millis' in value && typeof value.millis === 'bigint') ms = value.millis;
  else if ('seconds' in value && typeof value.seconds === 'bigint') ms = value.seconds * 1000n;
  else if ('nanos' in value && typeof value.nanos === 'bigint') ms = floorDiv(value.nanos, 1_000_000n);
  else return String(value);
  const finite = !('isFinite' in value) || value.isFinite !== false;
  if (!finite || ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return String(value);
  return new Date(Number(ms));
}

function textOf(value: DuckDBValue): NonNullSqlValue {
  return value instanceof DuckDBBitValue ? value.toString() : String(value);
}

type Conv = DuckDBValueConverter<NonNullSqlValue>;

const byTypeId: Record<DuckDBTypeId, Conv | undefined> = {
  [DuckDBTypeId.INVALID]: unsupportedConverter,
  [DuckDBTypeId.BOOLEAN]: booleanFromValue,
  [DuckDBTypeId.TINYINT]: numberFromValue,
  [DuckDBTypeId.SMALLINT]: numberFromValue,
  [DuckDBTypeId.INTEGER]: numberFromValue,
  [DuckDBTypeId.BIGINT]: smallBigint,
  [DuckDBTypeId.UTINYINT]: numberFromValue,
  [DuckDBTypeId.USMALLINT]: numberFromValue,
  [DuckDBTypeId.UINTEGER]: numberFromValue,
  [DuckDBTypeId.UBIGINT]: smallBigint,
  [DuckDBTypeId.FLOAT]: numberFromValue,
  [DuckDBTypeId.DOUBLE]: numberFromValue,
  [DuckDBTypeId.TIMESTAMP]: timestampToDate,
  [DuckDBTypeId.DATE]: dateString,
  [DuckDBTypeId.TIME]: textOf,
  [DuckDBTypeId.INTERVAL]: textOf,
  [DuckDBTypeId.HUGEINT]: bigintValue,
  [DuckDBTypeId.UHUGEINT]: bigintValue,
  [DuckDBTypeId.VARCHAR]: stringFromValue,
  [DuckDBTypeId.BLOB]: bytesFromBlobValue,
  [DuckDBTypeId.DECIMAL]: decimalString,
  [DuckDBTypeId.TIMESTAMP_S]: timestampToDate,
  [DuckDBTypeId.TIMESTAMP_MS]: timestampToDate,
  [DuckDBTypeId.TIMESTAMP_NS]: timestampToDate,
  [DuckDBTypeId.ENUM]: stringFromValue,
  [DuckDBTypeId.LIST]: arrayFromListValue as Conv,
  [DuckDBTypeId.STRUCT]: objectFromStructValue as Conv,
  [DuckDBTypeId.MAP]: objectArrayFromMapValue as Conv,
  [DuckDBTypeId.ARRAY]: arrayFromArrayValue as Conv,
  [DuckDBTypeId.UUID]: stringFromValue,
  [DuckDBTypeId.UNION]: objectFromUnionValue as Conv,
  [DuckDBTypeId.BIT]: textOf,
  [DuckDBTypeId.TIME_TZ]: textOf,
  [DuckDBTypeId.TIMESTAMP_TZ]: timestampToDate,
  [DuckDBTypeId.ANY]: unsupportedConverter,
  [DuckDBTypeId.BIGNUM]: bigintValue,
  [DuckDBTypeId.SQLNULL]: nullConverter,
  [DuckDBTypeId.STRING_LITERAL]: stringFromValue,
  [DuckDBTypeId.INTEGER_LITERAL]: smallBigint,
  [DuckDBTypeId.TIME_NS]: textOf,
  [DuckDBTypeId.GEOMETRY]: bytesFromGeometryValue,
  [DuckDBTypeId.VARIANT]: fromVariantValue as Conv,
};

export const sqlValueConverter: DuckDBValueConverter<NonNullSqlValue> = createDuckDBValueConverter(byTypeId);

/**
 * Query parameters to DuckDB values. Numbers bind as INTEGER/BIGINT/DOUBLE by their value, bigints as
 * HUGEINT, Dates as TIMESTAMP WITH TIME ZONE, Uint8Array as BLOB, arrays as LIST, objects as STRUCT.
 */
export function toDuckDbValue(value: SqlValue): DuckDBValue {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return timestampTZValue(BigInt(value.getTime()) * 1000n);
  if (value instanceof Uint8Array) return blobValue(value);
  if (Array.isArray(value)) return listValue(value.map(toDuckDbValue));
  const entries: Record<string, DuckDBValue> = {};
  for (const [k, v] of Object.entries(value)) entries[k] = toDuckDbValue(v);
  return structValue(entries);
}
