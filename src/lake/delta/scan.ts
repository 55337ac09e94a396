import { quoteIdent, quoteLiteral, type EngineSession } from '../../core/engine.js';
import type { ObjectStore } from '../object-store.js';
import type { Add } from './actions.js';
import { dataFileLocation } from './paths.js';
import { columnMappingMode } from './protocol.js';
import { deltaTypeToDuckDb, type DeltaDataType, type StructField } from './schema.js';
import { statsOf, type Snapshot } from './snapshot.js';

/*
 * A DuckDB SELECT over one snapshot's data files that returns exactly the table's columns, in schema
 * order, with Delta types mapped to DuckDB types. The SQL is self-contained (absolute file paths,
 * literal partition values), so any session can run it, wrap it in a view, or filter it.
 */

const FILE_COLUMN = '__weir_file';
const EPOCH_TZ = "TIMESTAMPTZ '1970-01-01 00:00:00+00'";

const PHYSICAL_NAME_KEY = 'delta.columnMapping.physicalName';

function physicalName(field: StructField, mapped: boolean): string {
  const physical = field.metadata[PHYSICAL_NAME_KEY];
  return mapped && typeof physical === 'string' && physical !== '' ? physical : field.name;
}

/** True when reading `t` needs more than a CAST: renamed nested fields or nested timestamps. */
function needsRebuild(t: DeltaDataType, mapped: boolean): boolean {
  if (typeof t === 'string') return false;
  switch (t.type) {
    case 'struct':
      return t.fields.some(
        (f) => (mapped && physicalName(f, true) !== f.name) || needsRebuild(f.type, mapped),
      );
    case 'array':
      return needsRebuild(t.elementType, mapped);
    case 'map':
      return needsRebuild(t.keyType, mapped) || needsRebuild(t.valueType, mapped);
  }
}

/** The DuckDB type of a column as stored in the files (physical field names). */
function physicalDuckType(t: DeltaDataType, mapped: boolean): string {
  if (typeof t === 'string') return deltaTypeToDuckDb(t);
  switch (t.type) {
    case 'struct':
      return `STRUCT(${t.fields.map((f) => `${quoteIdent(physicalName(f, mapped))} ${physicalDuckType(f.type, mapped)}`).join(', ')})`;
    case 'array':
      return `${physicalDuckType(t.elementType, mapped)}[]`;
    case 'map':
      return `MAP(${physicalDuckType(t.keyType, mapped)}, ${physicalDuckType(t.valueType, mapped)})`;
  }
}

/**
 * An expression reading a file value `expr` as Delta type `t`. Timestamps go through epoch
 * microseconds: files hold them either as instants (TIMESTAMPTZ) or as UTC wall-clock values
 * (INT96 → TIMESTAMP), and a plain CAST would apply the session time zone to the latter.
 */
function readExpr(expr: string, t: DeltaDataType, mapped: boolean, depth: number): string {
  if (typeof t === 'string') {
    if (t === 'timestamp') return `(${EPOCH_TZ} + to_microseconds(epoch_us(${expr})))`;
    if (t === 'timestamp_ntz') return `make_timestamp(epoch_us(${expr}))`;
    return `CAST(${expr} AS ${deltaTypeToDuckDb(t)})`;
  }
  if (!needsRebuild(t, mapped)) return `CAST(${expr} AS ${deltaTypeToDuckDb(t)})`;
  const v = `__weir_x${depth}`;
  switch (t.type) {
    case 'struct': {
      const packed = t.fields
        .map(
          (f) =>
            `${quoteIdent(f.name)} := ${readExpr(`struct_extract(${expr}, ${quoteLiteral(physicalName(f, mapped))})`, f.type, mapped, depth + 1)}`,
        )
        .join(', ');
      return `CASE WHEN ${expr} IS NULL THEN NULL ELSE struct_pack(${packed}) END`;
    }
    case 'array':
      return `list_transform(${expr}, lambda ${v}: ${readExpr(v, t.elementType, mapped, depth + 1)})`;
    case 'map': {
      const key = readExpr(`struct_extract(${v}, 'key')`, t.keyType, mapped, depth + 1);
      const value = readExpr(`struct_extract(${v}, 'value')`, t.valueType, mapped, depth + 1);
      return `CASE WHEN ${expr} IS NULL THEN NULL ELSE map_from_entries(list_transform(map_entries(${expr}), lambda ${v}: struct_pack("key" := ${key}, "value" := ${value}))) END`;
    }
  }
}

/** The placeholder type that guarantees a column exists in the union without forcing a lossy cast. */
function placeholderType(t: DeltaDataType, mapped: boolean): string | undefined {
  if (t === 'timestamp' || t === 'timestamp_ntz') return 'TIMESTAMP';
  if (typeof t !== 'string' && needsRebuild(t, mapped)) return physicalDuckType(t, mapped);
  return undefined;
}

/**
 * Partition value text (PROTOCOL.md "Partition Value Serialization") as a typed SQL literal.
 * Timestamps without an offset are UTC, as the Delta kernel reads them.
 */
export function partitionLiteral(value: string | null | undefined, t: DeltaDataType): string {
  const duck = typeof t === 'string' && t !== 'variant' ? deltaTypeToDuckDb(t) : 'VARCHAR';
  if (value === null || value === undefined || (value === '' && t !== 'string'))
    return `CAST(NULL AS ${duck})`;
  if (t === 'timestamp') {
    const text = value.trim();
    const withZone = /(Z|[+-]\d\d(:?\d\d)?)$/.test(text) && /[T ]\d/.test(text) ? text : `${text}+00`;
    return `CAST(${quoteLiteral(withZone)} AS TIMESTAMP WITH TIME ZONE)`;
  }
  if (t === 'binary') {
    let hex = '';
    for (const ch of value) hex += (ch.codePointAt(0) ?? 0).toString(16).padStart(2, '0');
    return `unhex(${quoteLiteral(hex)})`;
  }
  return `CAST(${quoteLiteral(value)} AS ${duck})`;
}

/**
 * True when, for every data column, some file's stats count fewer nulls than rows in that column:
 * that file holds values of it, so the column is in the files and the scan needs no placeholder.
 * Files without stats, nested columns (whose null counts are per field) and columns null
 * throughout prove nothing.
 */
function everyColumnInSomeFile(
  snapshot: Snapshot,
  dataFields: readonly StructField[],
  mapped: boolean,
): boolean {
  const missing = new Set(dataFields.map((f) => physicalName(f, mapped)));
  for (const file of snapshot.files) {
    const stats = statsOf(file);
    const rows = stats?.numRecords;
    const nulls = stats?.nullCount;
    if (typeof rows !== 'number' || !nulls) continue;
    for (const name of missing) {
      const n = nulls[name];
      if (typeof n === 'number' && n < rows) missing.delete(name);
    }
    if (missing.size === 0) return true;
  }
  return false;
}

/** Where each data file of a snapshot is, for the engine. */
export function snapshotFileLocations(store: ObjectStore, snapshot: Snapshot): string[] {
  return snapshot.files.map((f) => dataFileLocation(store, snapshot.tablePath, f.path));
}

export interface DataFile {
  /** Absolute path (or URL) the engine reads. */
  readonly path: string;
  /** The path as recorded in the log (relative, URI-encoded). */
  readonly logPath: string;
  readonly rows: number;
  readonly bytes: number;
  readonly partitionValues: Readonly<Record<string, string | null>>;
}

/**
 * The live files of a snapshot. Row counts come from the file stats; files written without stats
 * are counted from their Parquet footers through the engine.
 */
export async function dataFiles(
  store: ObjectStore,
  session: EngineSession,
  snapshot: Snapshot,
): Promise<DataFile[]> {
  const locations = snapshotFileLocations(store, snapshot);
  const counted = snapshot.files.map((f) => statsOf(f)?.numRecords);
  const missing = locations.filter((_l, i) => typeof counted[i] !== 'number');
  const footer = new Map<string, number>();
  if (missing.length > 0) {
    const result = await session.query(
      `SELECT file_name AS f, num_rows AS n FROM parquet_file_metadata([${missing.map(quoteLiteral).join(', ')}])`,
    );
    for (const row of result.rows) footer.set(String(row['f']), Number(row['n']));
  }
  return snapshot.files.map((f, i) => {
    const path = locations[i] as string;
    const n = counted[i];
    return {
      path,
      logPath: f.path,
      rows: typeof n === 'number' ? n : (footer.get(path) ?? 0),
      bytes: f.size,
      partitionValues: f.partitionValues,
    };
  });
}

/** The DuckDB SELECT that reads a snapshot. See the module comment. */
export function scanSql(store: ObjectStore, snapshot: Snapshot): string {
  const fields = snapshot.schema.fields;
  const mapped = columnMappingMode(snapshot.metadata) !== 'none';
  const partitionSet = new Set(snapshot.partitionColumns);
  if (fields.length === 0) return 'SELECT 1 AS __weir_no_columns WHERE false';

  if (snapshot.files.length === 0) {
    const cols = fields.map((f) => `CAST(NULL AS ${deltaTypeToDuckDb(f.type)}) AS ${quoteIdent(f.name)}`);
    return `SELECT ${cols.join(', ')} WHERE false`;
  }

  const dataFields = fields.filter((f) => !partitionSet.has(f.name));
  const partitionFields = fields.filter((f) => partitionSet.has(f.name));
  const locations = snapshotFileLocations(store, snapshot);
  const fileList = `[${locations.map(quoteLiteral).join(', ')}]`;
  // Files of one table can differ in columns (some written before a column was added): matched by
  // name. A single file needs no matching.
  const options = locations.length > 1 ? ['union_by_name = true'] : [];
  options.push('hive_partitioning = false');
  if (partitionFields.length > 0) options.push(`filename = ${quoteLiteral(FILE_COLUMN)}`);

  // A column that no file has (added after every file was written) must still come out, as NULL:
  // UNION ALL BY NAME with an empty row of every column fills it in without knowing which files lack it.
  // It is left out when the files' stats show each column holding values in some file: binding the
  // union costs about as much as binding the scan, on every read.
  const placeholders = everyColumnInSomeFile(snapshot, dataFields, mapped)
    ? []
    : dataFields.map((f) => {
        const phys = quoteIdent(physicalName(f, mapped));
        const type = placeholderType(f.type, mapped);
        return type === undefined ? `NULL AS ${phys}` : `CAST(NULL AS ${type}) AS ${phys}`;
      });
  const data =
    placeholders.length > 0
      ? `(SELECT ${placeholders.join(', ')} WHERE false UNION ALL BY NAME SELECT * FROM read_parquet(${fileList}, ${options.join(', ')}))`
      : `read_parquet(${fileList}, ${options.join(', ')})`;

  const projections = fields.map((f) => {
    if (partitionSet.has(f.name))
      return `__weir_p.${quoteIdent(`__weir_p${partitionFields.indexOf(f)}`)} AS ${quoteIdent(f.name)}`;
    const source = `__weir_d.${quoteIdent(physicalName(f, mapped))}`;
    return `${readExpr(source, f.type, mapped, 0)} AS ${quoteIdent(f.name)}`;
  });

  if (partitionFields.length === 0) return `SELECT ${projections.join(', ')} FROM ${data} AS __weir_d`;

  const rows = snapshot.files.map((file: Add, i) => {
    const values = partitionFields.map((f) =>
      partitionLiteral(file.partitionValues[physicalName(f, mapped)], f.type),
    );
    return `(${[quoteLiteral(locations[i] as string), ...values].join(', ')})`;
  });
  const valueNames = [
    quoteIdent('__weir_path'),
    ...partitionFields.map((_f, i) => quoteIdent(`__weir_p${i}`)),
  ];
  return (
    `SELECT ${projections.join(', ')} FROM ${data} AS __weir_d ` +
    `JOIN (VALUES ${rows.join(', ')}) AS __weir_p(${valueNames.join(', ')}) ` +
    `ON __weir_d.${quoteIdent(FILE_COLUMN)} = __weir_p.${quoteIdent('__weir_path')}`
  );
}
