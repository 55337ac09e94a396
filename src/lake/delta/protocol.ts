import { lakeError } from '../errors.js';
import type { Metadata, Protocol } from './actions.js';

/*
 * What this implementation can read and write (PROTOCOL.md "Table Features"). A reader that ignores
 * a feature it does not implement returns wrong rows (deleted rows reappear, columns come back
 * empty), so anything not listed here is refused with WEIR-L001 / WEIR-L011.
 */

export const MAX_READER_VERSION = 3;
export const MAX_WRITER_VERSION = 7;

/** Reader features whose semantics this reader implements. */
export const SUPPORTED_READER_FEATURES = [
  'columnMapping',
  'timestampNtz',
  'typeWidening',
  'typeWidening-preview',
  'vacuumProtocolCheck',
] as const;
export type SupportedReaderFeature = (typeof SUPPORTED_READER_FEATURES)[number];

/** Writer features whose rules this writer honours. */
export const SUPPORTED_WRITER_FEATURES = [
  'appendOnly',
  'invariants',
  'timestampNtz',
  'vacuumProtocolCheck',
] as const;
export type SupportedWriterFeature = (typeof SUPPORTED_WRITER_FEATURES)[number];

/** The protocol Weir writes for new tables: no table features needed. */
export const DEFAULT_PROTOCOL: Protocol = { minReaderVersion: 1, minWriterVersion: 2 };

export const COLUMN_MAPPING_MODES = ['none', 'name', 'id'] as const;
export type ColumnMappingMode = (typeof COLUMN_MAPPING_MODES)[number];

export function columnMappingMode(metadata: Metadata | undefined): ColumnMappingMode {
  const mode = metadata?.configuration['delta.columnMapping.mode'] ?? 'none';
  return (COLUMN_MAPPING_MODES as readonly string[]).includes(mode) ? (mode as ColumnMappingMode) : 'none';
}

/** Throws WEIR-L001 when this reader cannot read the table correctly. */
export function assertReadable(protocol: Protocol, metadata: Metadata | undefined, tablePath: string): void {
  if (protocol.minReaderVersion > MAX_READER_VERSION) {
    throw lakeError(
      'unsupportedReaderFeature',
      `Table ${tablePath} needs Delta reader version ${protocol.minReaderVersion}; Weir reads up to version ${MAX_READER_VERSION}`,
      {
        hint: 'The table was written by a newer Delta writer. Read it with an engine that supports this protocol version.',
      },
    );
  }
  if (protocol.minReaderVersion === 3) {
    const unsupported = (protocol.readerFeatures ?? []).filter(
      (f) => !(SUPPORTED_READER_FEATURES as readonly string[]).includes(f),
    );
    if (unsupported.length > 0) {
      throw lakeError(
        'unsupportedReaderFeature',
        `Table ${tablePath} uses the Delta reader feature${unsupported.length > 1 ? 's' : ''} ${unsupported.map((f) => `"${f}"`).join(', ')}, which Weir cannot read`,
        { hint: featureHint(unsupported) },
      );
    }
  }
  const mode = metadata?.configuration['delta.columnMapping.mode'];
  if (mode !== undefined && !(COLUMN_MAPPING_MODES as readonly string[]).includes(mode)) {
    throw lakeError(
      'unsupportedReaderFeature',
      `Table ${tablePath} uses the unknown column mapping mode "${mode}"`,
      {
        hint: 'Read the table with an engine that supports this column mapping mode.',
      },
    );
  }
}

/** Throws WEIR-L011 when this writer cannot write the table without breaking a rule it does not know. */
export function assertWritable(protocol: Protocol, metadata: Metadata | undefined, tablePath: string): void {
  assertReadable(protocol, metadata, tablePath);
  const refuse = (what: string) =>
    lakeError('unsupportedWriterFeature', `Weir cannot write to table ${tablePath}: ${what}`, {
      hint: 'Write to this table with an engine that supports its protocol, or recreate it with Weir (overwrite into a new path).',
    });
  if (protocol.minWriterVersion > MAX_WRITER_VERSION) {
    throw refuse(`it needs Delta writer version ${protocol.minWriterVersion}`);
  }
  if (protocol.minWriterVersion >= 3 && protocol.minWriterVersion < 7) {
    // Writer versions 3-6 bundle checkConstraints, changeDataFeed, generatedColumns, columnMapping, ...
    throw refuse(
      `it needs Delta writer version ${protocol.minWriterVersion} (constraints, generated columns or column mapping)`,
    );
  }
  if (protocol.minWriterVersion === 7) {
    const unsupported = (protocol.writerFeatures ?? []).filter(
      (f) => !(SUPPORTED_WRITER_FEATURES as readonly string[]).includes(f),
    );
    if (unsupported.length > 0)
      throw refuse(`it uses the writer feature(s) ${unsupported.map((f) => `"${f}"`).join(', ')}`);
  }
  if (columnMappingMode(metadata) !== 'none') throw refuse('it uses column mapping');
  // Invariants are SQL expressions in the schema that every writer must check; Weir does not evaluate them.
  if (metadata?.schemaString.includes('delta.invariants'))
    throw refuse('its schema declares column invariants');
}

export function isAppendOnly(protocol: Protocol, metadata: Metadata | undefined): boolean {
  const featureOn =
    protocol.minWriterVersion >= 2 &&
    (protocol.minWriterVersion < 7 || (protocol.writerFeatures ?? []).includes('appendOnly'));
  return featureOn && metadata?.configuration['delta.appendOnly'] === 'true';
}

function featureHint(features: readonly string[]): string {
  if (features.includes('deletionVectors')) {
    return 'Deletion vectors are not supported yet. Run `REORG TABLE ... APPLY (PURGE)` and disable them with `ALTER TABLE ... SET TBLPROPERTIES (delta.enableDeletionVectors = false)` in Spark/Databricks, then drop the feature, or read the table with Spark.';
  }
  if (features.includes('v2Checkpoint')) {
    return 'V2 checkpoints are not supported yet. Drop the feature with `ALTER TABLE ... DROP FEATURE v2Checkpoint` in Spark/Databricks, or read the table with Spark.';
  }
  return 'Read the table with an engine that supports these features, or drop them from the table with `ALTER TABLE ... DROP FEATURE` where Delta allows it.';
}
