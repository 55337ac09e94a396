/**
 * Stable diagnostic codes of the project layer (WEIR-P001..P099). Each is documented in
 * src/project/README.md; a code never changes meaning once released.
 */
export const PROJECT_CODES = {
  missingProjectFile: 'WEIR-P001',
  yamlSyntax: 'WEIR-P002',
  invalidValue: 'WEIR-P003',
  missingKey: 'WEIR-P004',
  unreadableFile: 'WEIR-P005',
  twoProjectFiles: 'WEIR-P006',
  unknownProjectKey: 'WEIR-P010',
  unusedConfigPath: 'WEIR-P011',
  unknownPropertyKey: 'WEIR-P012',
  docsBlock: 'WEIR-P019',
  unknownDoc: 'WEIR-P020',
  patchTargetMissing: 'WEIR-P021',
  duplicateNode: 'WEIR-P022',
  duplicateSource: 'WEIR-P023',
  duplicateDoc: 'WEIR-P024',
  duplicateTest: 'WEIR-P025',
  duplicatePatch: 'WEIR-P026',
  snapshotBlock: 'WEIR-P027',
  snapshotFileEmpty: 'WEIR-P028',
  invalidTest: 'WEIR-P029',
  unsupportedAdapter: 'WEIR-P030',
  missingEnvVar: 'WEIR-P031',
  profilesNotFound: 'WEIR-P032',
  profileNotFound: 'WEIR-P033',
  targetNotFound: 'WEIR-P034',
  invalidWeirConfig: 'WEIR-P040',
  weirConfigLoad: 'WEIR-P041',
  unsupportedFile: 'WEIR-P050',
  duplicateColumn: 'WEIR-P051',
} as const;

export type ProjectCode = (typeof PROJECT_CODES)[keyof typeof PROJECT_CODES];
