import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteLiteral } from '../../../core/engine.js';
import { stringifyJson, type Add, type Remove } from '../actions.js';
import type { Snapshot } from '../snapshot.js';
import type { TableHandle } from '../table-handle.js';
import { deletedFileRetentionMs } from './retention.js';

const STRING_MAP = 'MAP(VARCHAR, VARCHAR)';
const DV =
  'STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, "offset" INTEGER, sizeInBytes INTEGER, cardinality BIGINT, maxRowIndex BIGINT)';

/** The classic checkpoint schema (PROTOCOL.md "Checkpoint Schema"), as DuckDB types for read_json. */
const CHECKPOINT_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['txn', 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)'],
  [
    'add',
    `STRUCT(path VARCHAR, partitionValues ${STRING_MAP}, size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, ` +
      `tags ${STRING_MAP}, deletionVector ${DV}, baseRowId BIGINT, defaultRowCommitVersion BIGINT, ` +
      `clusteringProvider VARCHAR, stats VARCHAR)`,
  ],
  [
    'remove',
    `STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, ` +
      `partitionValues ${STRING_MAP}, size BIGINT, tags ${STRING_MAP}, deletionVector ${DV}, baseRowId BIGINT, ` +
      `defaultRowCommitVersion BIGINT, stats VARCHAR)`,
  ],
  [
    'metaData',
    `STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options ${STRING_MAP}), ` +
      `schemaString VARCHAR, partitionColumns VARCHAR[], configuration ${STRING_MAP}, createdTime BIGINT)`,
  ],
  [
    'protocol',
    'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])',
  ],
  ['domainMetadata', 'STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN)'],
];

export interface CheckpointResult {
  readonly version: number;
  /** Rows (actions) in the checkpoint. */
  readonly size: number;
  readonly sizeInBytes: number;
  readonly numOfAddFiles: number;
}

function checkpointAdd(a: Add): Add {
  // Only the checkpoint schema's fields: read_json refuses unknown struct members.
  return {
    path: a.path,
    partitionValues: a.partitionValues,
    size: a.size,
    modificationTime: a.modificationTime,
    dataChange: false,
    ...(a.tags ? { tags: a.tags } : {}),
    ...(a.deletionVector ? { deletionVector: a.deletionVector } : {}),
    ...(a.baseRowId != null ? { baseRowId: a.baseRowId } : {}),
    ...(a.defaultRowCommitVersion != null ? { defaultRowCommitVersion: a.defaultRowCommitVersion } : {}),
    ...(a.clusteringProvider ? { clusteringProvider: a.clusteringProvider } : {}),
    ...(a.stats ? { stats: a.stats } : {}),
  };
}

function checkpointRemove(r: Remove): Remove {
  return {
    path: r.path,
    ...(r.deletionTimestamp != null ? { deletionTimestamp: r.deletionTimestamp } : {}),
    dataChange: false,
    ...(r.extendedFileMetadata != null ? { extendedFileMetadata: r.extendedFileMetadata } : {}),
    ...(r.partitionValues ? { partitionValues: r.partitionValues } : {}),
    ...(r.size != null ? { size: r.size } : {}),
    ...(r.tags ? { tags: r.tags } : {}),
    ...(r.deletionVector ? { deletionVector: r.deletionVector } : {}),
  };
}

/**
 * Writes a classic single-file Parquet checkpoint of `snapshot` and points `_last_checkpoint` at it.
 * The rows are built by the engine from NDJSON with the checkpoint schema; the file reaches the log
 * with one atomic put, so a reader never sees half a checkpoint.
 */
export async function writeCheckpoint(table: TableHandle, snapshot: Snapshot): Promise<CheckpointResult> {
  const cutoff = table.now() - deletedFileRetentionMs(snapshot.configuration);
  const lines: string[] = [];
  lines.push(stringifyJson({ protocol: snapshot.protocol }));
  lines.push(stringifyJson({ metaData: snapshot.metadata }));
  for (const txn of snapshot.txns.values()) lines.push(stringifyJson({ txn }));
  for (const domainMetadata of snapshot.domains.values()) lines.push(stringifyJson({ domainMetadata }));
  for (const add of snapshot.files) lines.push(stringifyJson({ add: checkpointAdd(add) }));
  for (const remove of snapshot.tombstones) {
    // Expired tombstones are dropped: vacuum may already have deleted their files.
    if ((remove.deletionTimestamp ?? 0) > cutoff)
      lines.push(stringifyJson({ remove: checkpointRemove(remove) }));
  }
  const dir = await mkdtemp(join(tmpdir(), 'weir-checkpoint-'));
  try {
    const ndjson = join(dir, 'actions.ndjson');
    const parquet = join(dir, 'checkpoint.parquet');
    await writeFile(ndjson, lines.join('\n') + '\n');
    const columns = CHECKPOINT_COLUMNS.map(([name, type]) => `${name}: ${quoteLiteral(type)}`).join(', ');
    const select = CHECKPOINT_COLUMNS.map(([name]) => `"${name}"`).join(', ');
    await table.session.exec(
      `COPY (SELECT ${select} FROM read_json(${quoteLiteral(ndjson)}, format = 'newline_delimited', ` +
        `columns = {${columns}}, maximum_object_size = 1073741824)) ` +
        `TO ${quoteLiteral(parquet)} (FORMAT parquet, COMPRESSION snappy)`,
    );
    const bytes = await readFile(parquet);
    await table.store.put(table.log.checkpointKey(snapshot.version), bytes);
    const result: CheckpointResult = {
      version: snapshot.version,
      size: lines.length,
      sizeInBytes: bytes.length,
      numOfAddFiles: snapshot.files.length,
    };
    await table.log.writeLastCheckpoint(result);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
