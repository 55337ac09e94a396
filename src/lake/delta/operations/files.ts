import { isAbsolute, relative, sep } from 'node:path';
import type { WrittenFile } from '../../../core/engine.js';
import { stringifyJson, type Add, type Remove } from '../actions.js';
import { lakeError } from '../../errors.js';
import { encodeDeltaPath } from '../paths.js';
import type { DeltaDataType, StructType } from '../schema.js';

/** The `add` action for a Parquet file the engine wrote under the table root. */
export function addFromWrittenFile(
  file: WrittenFile,
  tableRoot: string,
  tablePath: string,
  schema: StructType,
  partitionColumns: readonly string[],
  modificationTime: number,
): Add {
  const rel = relative(tableRoot, file.path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw lakeError(
      'invalidFilePath',
      `Data file ${file.path} is not inside table ${tablePath} (${tableRoot})`,
      {
        hint: 'Write data files into the table folder (WriteParquetOptions.dir = table location) before committing them.',
      },
    );
  }
  const types = new Map(schema.fields.map((f) => [f.name, f.type]));
  const partitionValues: Record<string, string | null> = {};
  for (const col of partitionColumns) {
    const raw = file.partitionValues[col];
    partitionValues[col] =
      raw === undefined || raw === null ? null : normalizePartitionValue(raw, types.get(col) ?? 'string');
  }
  const partitionSet = new Set(partitionColumns);
  const minValues: Record<string, unknown> = {};
  const maxValues: Record<string, unknown> = {};
  const nullCount: Record<string, number> = {};
  for (const [name, stats] of Object.entries(file.columns)) {
    if (partitionSet.has(name) || !types.has(name)) continue;
    if (isStatValue(stats.min)) minValues[name] = stats.min;
    if (isStatValue(stats.max)) maxValues[name] = stats.max;
    if (typeof stats.nullCount === 'number') nullCount[name] = stats.nullCount;
  }
  return {
    path: encodeDeltaPath(rel.split(sep).join('/')),
    partitionValues,
    size: file.bytes,
    modificationTime,
    dataChange: true,
    stats: stringifyJson({ numRecords: file.rows, minValues, maxValues, nullCount }),
  };
}

function isStatValue(v: unknown): boolean {
  return (
    typeof v === 'string' ||
    typeof v === 'bigint' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v))
  );
}

/** The `remove` action retiring a live file (keeps what vacuum and CDC readers use). */
export function removeFromAdd(add: Add, deletionTimestamp: number, dataChange = true): Remove {
  return {
    path: add.path,
    deletionTimestamp,
    dataChange,
    extendedFileMetadata: true,
    partitionValues: add.partitionValues,
    size: add.size,
    ...(add.stats ? { stats: add.stats } : {}),
    ...(add.tags ? { tags: add.tags } : {}),
    ...(add.deletionVector ? { deletionVector: add.deletionVector } : {}),
  };
}

const ZONED_TS_RE =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?\s*(Z|[+-]\d\d(?::?\d\d)?)?$/;

/**
 * Partition value text as Delta serialises it, from the engine's rendering of the value. Timestamps
 * become ISO 8601 in UTC with microseconds (`2021-09-08T11:11:11.000000Z`), which the protocol allows
 * and which no reader can misread as local time.
 */
export function normalizePartitionValue(raw: string, type: DeltaDataType): string {
  if (type === 'timestamp') {
    const m = ZONED_TS_RE.exec(raw.trim());
    if (!m) return raw;
    const [, y, mo, d, h, mi, s, frac = '', zone] = m;
    let offsetMinutes = 0;
    if (zone && zone !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
    }
    const date = new Date(0);
    date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d)); // Date.UTC would map years < 100 to 19xx
    date.setUTCHours(Number(h), Number(mi), Number(s), 0);
    const iso = new Date(date.getTime() - offsetMinutes * 60_000).toISOString().slice(0, 19);
    return `${iso}.${(frac + '000000').slice(0, 6)}Z`;
  }
  if (type === 'timestamp_ntz') return raw.replace('T', ' ');
  if (type === 'boolean') return raw.toLowerCase();
  return raw;
}
