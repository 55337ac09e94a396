/**
 * Stable error codes of the quality layer (WEIR-Q001..Q099), documented in src/quality/README.md.
 */
export const QUALITY_CODES = {
  unknownCheck: 'WEIR-Q001',
  badArgument: 'WEIR-Q002',
  needsColumn: 'WEIR-Q003',
  checkSqlError: 'WEIR-Q004',
  blockingCheckFailed: 'WEIR-Q010',
  quarantineNotRowLevel: 'WEIR-Q011',
  contractInvalid: 'WEIR-Q020',
  contractYaml: 'WEIR-Q021',
  contractUnsupportedServer: 'WEIR-Q022',
  contractMismatch: 'WEIR-Q023',
  contractUnknownAsset: 'WEIR-Q024',
  contractRule: 'WEIR-Q025',
} as const;
