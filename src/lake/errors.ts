import { WeirError, type WeirErrorOptions } from '../core/errors.js';

/**
 * Stable error codes of the lake layer (WEIR-L001..L099). The table in src/lake/README.md says what
 * each means and what to do; keep the two in step.
 */
export const LAKE_ERRORS = {
  unsupportedReaderFeature: 'WEIR-L001',
  notADeltaTable: 'WEIR-L002',
  corruptCommit: 'WEIR-L003',
  incompleteState: 'WEIR-L004',
  logGap: 'WEIR-L005',
  versionNotFound: 'WEIR-L006',
  timestampOutOfRange: 'WEIR-L007',
  corruptCheckpoint: 'WEIR-L008',
  invalidSchema: 'WEIR-L009',
  commitConflict: 'WEIR-L010',
  unsupportedWriterFeature: 'WEIR-L011',
  tableExists: 'WEIR-L012',
  schemaMismatch: 'WEIR-L013',
  invalidPartitionColumns: 'WEIR-L014',
  fileNotInTable: 'WEIR-L015',
  invalidFilePath: 'WEIR-L016',
  commitRetriesExhausted: 'WEIR-L017',
  objectNotFound: 'WEIR-L018',
  invalidObjectPath: 'WEIR-L019',
  unsupportedType: 'WEIR-L020',
  invalidArgument: 'WEIR-L021',
} as const;

export type LakeErrorName = keyof typeof LAKE_ERRORS;
export type LakeErrorCode = (typeof LAKE_ERRORS)[LakeErrorName];

export function lakeError(name: LakeErrorName, message: string, options: WeirErrorOptions = {}): WeirError {
  return new WeirError(LAKE_ERRORS[name], message, options);
}

export function isLakeError(value: unknown, name: LakeErrorName): value is WeirError {
  return value instanceof WeirError && value.code === LAKE_ERRORS[name];
}
