/**
 * Stable error codes of the SQL templating layer (WEIR-T001..T099). Each is documented in
 * src/sql/README.md; a code never changes meaning once released.
 */
export const TEMPLATE_CODES = {
  syntax: 'WEIR-T001',
  unknownFunction: 'WEIR-T002',
  missingVar: 'WEIR-T003',
  missingEnvVar: 'WEIR-T004',
  compilerError: 'WEIR-T005',
  returnOutsideMacro: 'WEIR-T006',
  renderError: 'WEIR-T007',
  notCallable: 'WEIR-T008',
  duplicateMacro: 'WEIR-T009',
  unsupportedBlock: 'WEIR-T010',
  unbalancedBlock: 'WEIR-T011',
  badArguments: 'WEIR-T012',
  unknownFilter: 'WEIR-T013',
  unsupportedTag: 'WEIR-T014',
} as const;

export type TemplateCode = (typeof TEMPLATE_CODES)[keyof typeof TEMPLATE_CODES];
