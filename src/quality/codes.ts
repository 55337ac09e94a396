/**
 * Stable error codes of the quality layer (WEIR-Q001..Q099), documented in src/quality/README.md.
 */
export const QUALITY_CODES = {
  unknownCheck: 'WEIR-Q001',
  badArgument: 'WEIR-Q002',
  needsColumn: 'WEIR-Q003',
  checkSqlError: 'WEIR-Q004',
  blockingCheckFailed: 'WEIR-Q010',
  contractYaml: 'WEIR-Q020',
  contractInvalid: 'WEIR-Q021',
  contractOfficialSchema: 'WEIR-Q022',
  contractServerType: 'WEIR-Q023',
  contractNoAsset: 'WEIR-Q024',
  contractAmbiguous: 'WEIR-Q025',
  contractMismatch: 'WEIR-Q026',
  qualityStoreNotInitialised: 'WEIR-Q030',
  badClock: 'WEIR-Q042',
  badResultFormat: 'WEIR-Q043',
  noQualityHistory: 'WEIR-Q044',
  profileNotBuilt: 'WEIR-Q045',
  contractFileExists: 'WEIR-Q046',
} as const;
