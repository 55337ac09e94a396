import { compileCheck, DBT_TESTS } from './compile-checks.js';
import type { CheckSpec, CompiledCheck } from './types.js';

export { thresholdHit, isValidThreshold } from './thresholds.js';

/** dbt's built-in generic tests; every other known name is a Great Expectations expectation. */
export const GENERIC_TEST_NAMES = DBT_TESTS;
export type GenericTestName = (typeof GENERIC_TEST_NAMES)[number];

export function isGenericTestName(name: string): name is GenericTestName {
  return (GENERIC_TEST_NAMES as readonly string[]).includes(name);
}

export interface GenericTestInput {
  readonly testName: string;
  /** The tested relation, already rendered (e.g. `"main"."orders"`). */
  readonly model: string;
  readonly columnName?: string;
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** `where` config: filters the tested relation first. */
  readonly where?: string;
  /** Renders a kwarg such as `to: ref('customers')` into a relation. */
  readonly resolveRelation: (expr: string) => string;
  readonly at: { file: string; line: number };
}

/**
 * The SQL `weir compile` shows for a schema.yml test: the failing rows for row-level checks and
 * dbt tests, else the check's metric query. Runs execute checks batched (src/quality/run-checks.ts);
 * this text is for reading and for ad-hoc debugging. Unknown names throw WEIR-Q001.
 */
export function compileGenericTest(input: GenericTestInput): string {
  const spec: CheckSpec = {
    id: input.testName,
    name: input.testName,
    type: input.testName,
    ...(input.columnName ? { column: input.columnName } : {}),
    kwargs: input.kwargs,
    severity: 'error',
    ...(input.where ? { where: input.where } : {}),
    at: input.at,
  };
  const check = compileCheck(spec, { relation: input.model, resolveRelation: input.resolveRelation });
  return displaySql(check, input.model);
}

function displaySql(check: CompiledCheck, relation: string): string {
  const where = check.spec.where ? ` WHERE ${check.spec.where}` : '';
  if (check.unexpectedRow) {
    return `select * from (select *, ${check.unexpectedRow} as __weir_unexpected from (select * from ${relation}${where}) as dbt_subquery) as t where __weir_unexpected`;
  }
  if (check.failingRowsSql) return check.failingRowsSql;
  const scan = Object.entries(check.scan).map(([k, m]) => `${m.expr} as ${k}`);
  if (scan.length) return `select ${scan.join(', ')} from ${relation}${where}`;
  const query = Object.values(check.queries)[0];
  return query ? query.sql : `describe select * from ${relation}`;
}
