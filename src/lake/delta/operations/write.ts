import { randomUUID } from 'node:crypto';
import type { ColumnSchema, WrittenFile } from '../../../core/engine.js';
import { lakeError } from '../../errors.js';
import type { Action, Metadata } from '../actions.js';
import { DEFAULT_PROTOCOL } from '../protocol.js';
import {
  deltaSchemaFromColumns,
  formatDeltaType,
  sameDeltaType,
  schemaToString,
  type DeltaDataType,
  type StructField,
  type StructType,
} from '../schema.js';
import type { Snapshot } from '../snapshot.js';
import type { AppTransaction, CommitResult, TableHandle } from '../table-handle.js';
import { addFromWrittenFile, removeFromAdd } from './files.js';

export interface WriteOptions {
  /** Hive-style partition columns (the files must have been written with the same partitionBy). */
  readonly partitionColumns?: readonly string[];
  /** Operation name for the commit (default `CREATE TABLE` / `WRITE`). */
  readonly operation?: string;
  readonly operationParameters?: Readonly<Record<string, unknown>>;
  readonly txn?: AppTransaction;
  /** Table properties (`delta.*` and others), merged over the existing ones on overwrite. */
  readonly configuration?: Readonly<Record<string, string>>;
  /** The version the data was computed from, for conflict detection (default: the latest). */
  readonly readVersion?: number;
}

export type AppendOptions = Omit<WriteOptions, 'partitionColumns'> & {
  /** Partition columns when the append creates the table. */
  readonly partitionColumns?: readonly string[];
};

/** Creates a new table from written files; WEIR-L012 when it already exists. */
export async function createTable(
  table: TableHandle,
  files: readonly WrittenFile[],
  columns: readonly ColumnSchema[],
  options: WriteOptions = {},
): Promise<CommitResult> {
  const latest = await table.latestSnapshot();
  if (latest) {
    throw lakeError('tableExists', `Table ${table.tablePath} already exists (version ${latest.version})`, {
      hint: 'Use overwrite() to replace its contents or append() to add to it.',
    });
  }
  return replaceAll(table, undefined, files, columns, options, 'CREATE TABLE', 'ErrorIfExists');
}

/** Replaces every file of the table (or creates it). Writes metaData when the schema or partitioning changed. */
export async function overwriteTable(
  table: TableHandle,
  files: readonly WrittenFile[],
  columns: readonly ColumnSchema[],
  options: WriteOptions = {},
): Promise<CommitResult> {
  const base = await baseSnapshot(table, options.readVersion);
  return replaceAll(table, base, files, columns, options, base ? 'WRITE' : 'CREATE TABLE', 'Overwrite');
}

async function baseSnapshot(
  table: TableHandle,
  readVersion: number | undefined,
): Promise<Snapshot | undefined> {
  if (readVersion === undefined) return table.latestSnapshot();
  if (readVersion < 0) return undefined;
  return table.snapshot({ version: readVersion });
}

async function replaceAll(
  table: TableHandle,
  base: Snapshot | undefined,
  files: readonly WrittenFile[],
  columns: readonly ColumnSchema[],
  options: WriteOptions,
  defaultOperation: string,
  mode: string,
): Promise<CommitResult> {
  const schema = deltaSchemaFromColumns(columns);
  const partitionColumns = options.partitionColumns ?? base?.partitionColumns ?? [];
  validatePartitionColumns(table.tablePath, schema, partitionColumns);
  const now = table.now();
  const actions: Action[] = [];
  const metadata = nextMetadata(base?.metadata, schema, partitionColumns, options.configuration, now);
  if (!base) actions.push({ protocol: DEFAULT_PROTOCOL });
  if (metadata) actions.push({ metaData: metadata });
  for (const f of base?.files ?? []) actions.push({ remove: removeFromAdd(f, now) });
  actions.push(...adds(table, files, schema, partitionColumns, now));
  return table.commit(actions, {
    operation: options.operation ?? defaultOperation,
    operationParameters: options.operationParameters ?? {
      mode,
      partitionBy: JSON.stringify(partitionColumns),
    },
    operationMetrics: writeMetrics(files, base?.files.length ?? 0),
    readVersion: base?.version ?? -1,
    ...(options.txn ? { txn: options.txn } : {}),
  });
}

/** Adds files to the table (creating it when missing). New columns evolve the schema; existing ones must keep their type. */
export async function appendToTable(
  table: TableHandle,
  files: readonly WrittenFile[],
  columns: readonly ColumnSchema[] | undefined,
  options: AppendOptions = {},
): Promise<CommitResult> {
  const base = await baseSnapshot(table, options.readVersion);
  if (!base) {
    if (!columns) {
      throw lakeError(
        'notADeltaTable',
        `Cannot append to ${table.tablePath}: the table does not exist and no columns were given to create it`,
        {
          hint: 'Pass the columns of the written data so the append can create the table.',
        },
      );
    }
    return replaceAll(table, undefined, files, columns, options, 'WRITE', 'Append');
  }
  const schema = columns
    ? evolveSchema(base.schema, deltaSchemaFromColumns(columns), table.tablePath)
    : base.schema;
  const now = table.now();
  const actions: Action[] = [];
  if (schema !== base.schema) {
    const metadata = nextMetadata(base.metadata, schema, base.partitionColumns, options.configuration, now);
    if (metadata) actions.push({ metaData: metadata });
  }
  actions.push(...adds(table, files, schema, base.partitionColumns, now));
  return table.commit(actions, {
    operation: options.operation ?? 'WRITE',
    operationParameters: options.operationParameters ?? {
      mode: 'Append',
      partitionBy: JSON.stringify(base.partitionColumns),
    },
    operationMetrics: writeMetrics(files, 0),
    readVersion: base.version,
    // New columns do not invalidate files appended concurrently: they read the column as NULL.
    conflictsWithAdds: false,
    ...(options.txn ? { txn: options.txn } : {}),
  });
}

export function adds(
  table: TableHandle,
  files: readonly WrittenFile[],
  schema: StructType,
  partitionColumns: readonly string[],
  now: number,
): Action[] {
  const root = table.location();
  return files.map((f) => {
    const missing = partitionColumns.filter((c) => !(c in f.partitionValues));
    if (missing.length > 0) {
      throw lakeError(
        'invalidPartitionColumns',
        `Data file ${f.path} has no value for partition column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} of table ${table.tablePath}`,
        {
          hint: `Write the files with partitionBy [${partitionColumns.join(', ')}] so each file belongs to one partition.`,
        },
      );
    }
    return { add: addFromWrittenFile(f, root, table.tablePath, schema, partitionColumns, now) };
  });
}

function writeMetrics(files: readonly WrittenFile[], removed: number): Record<string, string> {
  return {
    numFiles: String(files.length),
    numOutputRows: String(files.reduce((n, f) => n + f.rows, 0)),
    numOutputBytes: String(files.reduce((n, f) => n + f.bytes, 0)),
    ...(removed > 0 ? { numRemovedFiles: String(removed) } : {}),
  };
}

/** New metadata when anything changed (or the table is new); undefined when the current one still holds. */
export function nextMetadata(
  current: Metadata | undefined,
  schema: StructType,
  partitionColumns: readonly string[],
  configuration: Readonly<Record<string, string>> | undefined,
  now: number,
): Metadata | undefined {
  const mergedConfig = { ...(current?.configuration ?? {}), ...(configuration ?? {}) };
  const schemaString = schemaToString(schema);
  if (
    current &&
    sameSchemaString(current.schemaString, schema) &&
    sameList(current.partitionColumns, partitionColumns) &&
    sameConfig(current.configuration, mergedConfig)
  ) {
    return undefined;
  }
  return {
    id: current?.id ?? randomUUID(),
    ...(current?.name ? { name: current.name } : {}),
    ...(current?.description ? { description: current.description } : {}),
    format: current?.format ?? { provider: 'parquet', options: {} },
    schemaString,
    partitionColumns: [...partitionColumns],
    configuration: mergedConfig,
    createdTime: current?.createdTime ?? now,
  };
}

function sameSchemaString(current: string, schema: StructType): boolean {
  try {
    const parsed = JSON.parse(current) as StructType;
    return (
      parsed.fields.length === schema.fields.length &&
      parsed.fields.every((f, i) => {
        const g = schema.fields[i];
        return (
          g !== undefined && f.name === g.name && sameDeltaType(f.type, g.type) && f.nullable === g.nullable
        );
      })
    );
  } catch {
    return false;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameConfig(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export function validatePartitionColumns(
  tablePath: string,
  schema: StructType,
  partitionColumns: readonly string[],
): void {
  const fields = new Map(schema.fields.map((f) => [f.name, f]));
  for (const col of partitionColumns) {
    const field = fields.get(col);
    if (!field) {
      throw lakeError(
        'invalidPartitionColumns',
        `Partition column "${col}" of table ${tablePath} is not one of its columns (${schema.fields.map((f) => f.name).join(', ')})`,
        {
          hint: 'Partition by columns the query returns.',
        },
      );
    }
    if (typeof field.type !== 'string') {
      throw lakeError(
        'invalidPartitionColumns',
        `Partition column "${col}" of table ${tablePath} has the nested type ${formatDeltaType(field.type)}`,
        {
          hint: 'Partition by a primitive column (string, date, integer, ...).',
        },
      );
    }
  }
  if (new Set(partitionColumns).size !== partitionColumns.length) {
    throw lakeError(
      'invalidPartitionColumns',
      `Partition columns of table ${tablePath} repeat a column: ${partitionColumns.join(', ')}`,
      {
        hint: 'List each partition column once.',
      },
    );
  }
  if (partitionColumns.length > 0 && partitionColumns.length === schema.fields.length) {
    throw lakeError(
      'invalidPartitionColumns',
      `Table ${tablePath} cannot be partitioned by all of its columns`,
      {
        hint: 'Keep at least one data column outside the partition columns.',
      },
    );
  }
}

const INTEGER_RANK: Readonly<Record<string, number>> = { byte: 1, short: 2, integer: 3, long: 4 };

/** Data of type `from` can be stored in a column of type `to` and read back unchanged. */
function widensTo(from: DeltaDataType, to: DeltaDataType): boolean {
  if (sameDeltaType(from, to)) return true;
  if (typeof from !== 'string' || typeof to !== 'string') return false;
  const a = INTEGER_RANK[from];
  const b = INTEGER_RANK[to];
  if (a !== undefined && b !== undefined) return a <= b;
  if (from === 'float' && to === 'double') return true;
  const da = /^decimal\((\d+),(\d+)\)$/.exec(from);
  const db = /^decimal\((\d+),(\d+)\)$/.exec(to);
  if (da && db) {
    const [pa, sa, pb, sb] = [Number(da[1]), Number(da[2]), Number(db[1]), Number(db[2])];
    return sb >= sa && pb - sb >= pa - sa;
  }
  return false;
}

/**
 * The table schema after appending data with schema `incoming`: the same object when nothing is new,
 * else the current fields followed by the new ones. A column whose type would change is WEIR-L013.
 */
export function evolveSchema(current: StructType, incoming: StructType, tablePath: string): StructType {
  const byName = new Map(current.fields.map((f) => [f.name.toLowerCase(), f]));
  const added: StructField[] = [];
  for (const field of incoming.fields) {
    const existing = byName.get(field.name.toLowerCase());
    if (!existing) {
      added.push({ ...field, nullable: true });
      continue;
    }
    if (!widensTo(field.type, existing.type)) {
      throw lakeError(
        'schemaMismatch',
        `Column "${field.name}" of table ${tablePath} is ${formatDeltaType(existing.type)}, but the new data has ${formatDeltaType(field.type)}`,
        {
          hint: `Cast "${field.name}" to ${formatDeltaType(existing.type)} in the model, or overwrite the table to change its type.`,
        },
      );
    }
  }
  if (added.length === 0) return current;
  return { type: 'struct', fields: [...current.fields, ...added] };
}
