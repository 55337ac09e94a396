import { WeirError } from '../core/errors.js';
import { quoteIdent, quoteLiteral } from '../core/engine.js';
import { suggest } from '../core/suggest.js';

/**
 * dbt's built-in generic tests, compiled to a query that returns the failing rows. A test fails
 * when the number of failing rows meets its `error_if` condition (default `!= 0`).
 */
export const GENERIC_TEST_NAMES = ['unique', 'not_null', 'accepted_values', 'relationships'] as const;
export type GenericTestName = (typeof GENERIC_TEST_NAMES)[number];

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

export function isGenericTestName(name: string): name is GenericTestName {
  return (GENERIC_TEST_NAMES as readonly string[]).includes(name);
}

/** The column expression a test applies to: quoted unless it already is an expression. */
function columnExpr(column: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(column) ? quoteIdent(column) : column;
}

function requireColumn(input: GenericTestInput): string {
  const column = input.columnName ?? (input.kwargs['column_name'] as string | undefined);
  if (!column) {
    throw new WeirError('WEIR-C011', `test '${input.testName}' needs a column`, {
      at: input.at,
      hint: 'declare it under a column in schema.yml, or pass column_name',
    });
  }
  return columnExpr(column);
}

export function compileGenericTest(input: GenericTestInput): string {
  const model = input.where
    ? `(select * from ${input.model} where ${input.where}) as dbt_subquery`
    : input.model;
  switch (input.testName) {
    case 'not_null': {
      const col = requireColumn(input);
      return `select ${col} from ${model} where ${col} is null`;
    }
    case 'unique': {
      const col = requireColumn(input);
      return `select ${col} as unique_field, count(*) as n_records from ${model} where ${col} is not null group by ${col} having count(*) > 1`;
    }
    case 'accepted_values': {
      const col = requireColumn(input);
      const values = input.kwargs['values'];
      if (!Array.isArray(values) || values.length === 0) {
        throw new WeirError('WEIR-C012', `accepted_values on ${col} needs a non-empty 'values' list`, {
          at: input.at,
          hint: 'write accepted_values: { values: [a, b] }',
        });
      }
      const quote = input.kwargs['quote'] !== false;
      const list = values.map((v) => (quote ? quoteLiteral(String(v)) : String(v))).join(', ');
      return `with all_values as (select ${col} as value_field, count(*) as n_records from ${model} group by ${col}) select * from all_values where value_field not in (${list})`;
    }
    case 'relationships': {
      const col = requireColumn(input);
      const to = input.kwargs['to'];
      const field = input.kwargs['field'];
      if (typeof to !== 'string' || typeof field !== 'string') {
        throw new WeirError('WEIR-C012', `relationships on ${col} needs 'to' and 'field'`, {
          at: input.at,
          hint: "write relationships: { to: ref('customers'), field: id }",
        });
      }
      const parent = input.resolveRelation(to);
      return `with child as (select ${col} as from_field from ${model} where ${col} is not null), parent as (select ${columnExpr(field)} as to_field from ${parent}) select from_field from child left join parent on child.from_field = parent.to_field where parent.to_field is null`;
    }
    default:
      throw new WeirError('WEIR-C010', `unknown test '${input.testName}'`, {
        at: input.at,
        hint: closeNamesHint(input.testName),
      });
  }
}

function closeNamesHint(name: string): string {
  const close = suggest(name, GENERIC_TEST_NAMES);
  return close.length > 0
    ? `did you mean ${close.map((c) => `'${c}'`).join(' or ')}? Known tests: ${GENERIC_TEST_NAMES.join(', ')}`
    : `known tests: ${GENERIC_TEST_NAMES.join(', ')}`;
}

/** dbt's `warn_if` / `error_if`: a comparison applied to the failure count, e.g. `!= 0`, `>10`. */
export function thresholdHit(condition: string, failures: number): boolean {
  const m = /^\s*(!=|<>|>=|<=|==|=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(condition);
  if (!m) return failures !== 0;
  const n = Number(m[2]);
  switch (m[1]) {
    case '!=':
    case '<>':
      return failures !== n;
    case '>=':
      return failures >= n;
    case '<=':
      return failures <= n;
    case '>':
      return failures > n;
    case '<':
      return failures < n;
    default:
      return failures === n;
  }
}

export function isValidThreshold(condition: string): boolean {
  return /^\s*(!=|<>|>=|<=|==|=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/.test(condition);
}
