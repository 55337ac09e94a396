import { WeirError, type WeirErrorOptions } from '../core/errors.js';

/** The ingest layer's stable error codes (WEIR-I001..I099); docs in src/ingest/README.md. */
export const INGEST_CODES = {
  invalidConfig: 'WEIR-I001',
  unreachable: 'WEIR-I002',
  authFailed: 'WEIR-I003',
  contractFrozen: 'WEIR-I004',
  incompatibleType: 'WEIR-I005',
  countMismatch: 'WEIR-I006',
  sourceQuery: 'WEIR-I007',
  badResponse: 'WEIR-I008',
  httpFailed: 'WEIR-I009',
  fileRead: 'WEIR-I010',
  unknownType: 'WEIR-I011',
  missingEnv: 'WEIR-I012',
  primaryKeyRequired: 'WEIR-I013',
  cursorMissing: 'WEIR-I014',
  unknownSource: 'WEIR-I015',
  landingFailed: 'WEIR-I016',
  sourceModule: 'WEIR-I017',
} as const;
export type IngestCode = keyof typeof INGEST_CODES;

export function ingestError(code: IngestCode, message: string, options: WeirErrorOptions = {}): WeirError {
  return new WeirError(INGEST_CODES[code], message, options);
}
