/**
 * Synthetic dbt projects for the benchmarks (compile of 1,000 models, build of 200 small tables).
 *
 * The project is a layered DAG: a few seeds, staging views over them, then intermediate and
 * marts models that each ref 1-3 earlier models picked by a PRNG seeded from `options.seed`, so
 * a given set of options always writes byte-identical files. Every model keeps the same four
 * base columns (`id`, `category`, `amount`, `created_at`) with `id` unique, so refs can be joined
 * on `id` without multiplying rows, and any model can feed any later one.
 *
 * `withMacros: false` and `withLoops: false` write the same SQL with the macro calls and loops
 * expanded by hand: the compiled projects are identical, only the Jinja work differs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface GenerateProjectOptions {
  /** Number of models (staging + intermediate + marts); seeds come on top. */
  readonly models: number;
  /** Rows in each seed (default 100). */
  readonly seedRows?: number;
  /** Write `macros/bench_helpers.sql` and call its macros from models (default true). */
  readonly withMacros?: boolean;
  /** Generate repetitive columns with `{% for %}` loops instead of writing them out (default true). */
  readonly withLoops?: boolean;
  /** PRNG seed; the same options always give the same project (default 1). */
  readonly seed?: number;
}

export const BENCH_LAYERS = ['staging', 'intermediate', 'marts'] as const;
export type BenchLayer = (typeof BENCH_LAYERS)[number];

export const BENCH_MATERIALIZATIONS = ['view', 'table', 'ephemeral'] as const;
export type BenchMaterialization = (typeof BENCH_MATERIALIZATIONS)[number];

export interface PlannedModel {
  readonly name: string;
  readonly layer: BenchLayer;
  readonly materialized: BenchMaterialization;
  /** Names this model refs (a seed for staging models, earlier models otherwise), in join order. */
  readonly refs: readonly string[];
  /** Whether schema.yml declares tests on it. */
  readonly tested: boolean;
}

export interface ProjectPlan {
  readonly seeds: readonly string[];
  readonly models: readonly PlannedModel[];
}

export const BENCH_CATEGORIES = ['north', 'south', 'east', 'west', 'online'] as const;

const SEED_COUNT = 3;
const PROJECT_NAME = 'bench';

/** mulberry32: tiny, fast, and good enough to make shapes look random while staying reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function validate(options: GenerateProjectOptions): Required<GenerateProjectOptions> {
  const { models, seedRows = 100, withMacros = true, withLoops = true, seed = 1 } = options;
  if (!Number.isInteger(models) || models < 1) {
    throw new RangeError(`generateProject: models must be a positive integer, got ${String(models)}`);
  }
  if (!Number.isInteger(seedRows) || seedRows < 1) {
    throw new RangeError(`generateProject: seedRows must be a positive integer, got ${String(seedRows)}`);
  }
  return { models, seedRows, withMacros, withLoops, seed };
}

/** The DAG a set of options produces, without writing anything. */
export function planProject(options: GenerateProjectOptions): ProjectPlan {
  const { models: count, seed } = validate(options);
  const random = prng(seed);
  const width = Math.max(4, String(count).length);
  const seeds = Array.from({ length: SEED_COUNT }, (_, i) => `raw_${i}`);

  const stagingCount = Math.min(count, Math.max(SEED_COUNT, Math.round(count * 0.1)));
  const intermediateCount = Math.round((count - stagingCount) * 0.6);
  const layerOf = (i: number): BenchLayer =>
    i < stagingCount ? 'staging' : i < stagingCount + intermediateCount ? 'intermediate' : 'marts';
  const prefix: Record<BenchLayer, string> = { staging: 'stg', intermediate: 'int', marts: 'mart' };
  const nameOf = (i: number): string => `${prefix[layerOf(i)]}_${String(i + 1).padStart(width, '0')}`;

  // Materializations first, so that parents can be picked knowing which models are ephemeral.
  const materialized: BenchMaterialization[] = [];
  for (let i = 0; i < count; i++) {
    const layer = layerOf(i);
    const roll = random();
    materialized.push(
      layer === 'staging'
        ? 'view'
        : layer === 'intermediate' && roll < 0.06
          ? 'ephemeral'
          : roll < 0.2
            ? 'view'
            : 'table',
    );
  }
  // Small projects still get one of each kind, so every code path is exercised.
  const firstIntermediate = stagingCount;
  if (intermediateCount >= 2 && !materialized.includes('ephemeral'))
    materialized[firstIntermediate + 1] = 'ephemeral';
  const nonStaging = count - stagingCount;
  if (nonStaging >= 3 && !materialized.slice(stagingCount).includes('view')) materialized[count - 1] = 'view';

  const models: PlannedModel[] = [];
  for (let i = 0; i < count; i++) {
    const layer = layerOf(i);
    const mat = materialized[i] ?? 'table';
    let refs: string[];
    if (layer === 'staging') {
      refs = [seeds[i % SEED_COUNT] ?? 'raw_0'];
    } else {
      // Ephemeral models are inlined as CTEs; keeping them off other ephemerals bounds the nesting.
      const candidates = models.filter((m) => mat !== 'ephemeral' || m.materialized !== 'ephemeral');
      const roll = random();
      const wanted = Math.min(candidates.length, roll < 0.5 ? 1 : roll < 0.85 ? 2 : 3);
      const picked = new Set<string>();
      while (picked.size < wanted) {
        const candidate = candidates[Math.floor(random() * candidates.length)];
        if (candidate) picked.add(candidate.name);
      }
      refs = [...picked];
    }
    const tested = mat !== 'ephemeral' && (layer === 'staging' || i % 10 === 0);
    models.push({ name: nameOf(i), layer, materialized: mat, refs, tested });
  }
  return { seeds, models };
}

const MACROS = `{#- Helpers the generated models call: keeps macro expansion on the compile path. -#}

{% macro cents_to_dollars(column_name, scale=2) -%}
    round({{ column_name }} / 100.0, {{ scale }})
{%- endmacro %}

{% macro safe_ratio(numerator, denominator) -%}
    case when {{ denominator }} is null or {{ denominator }} = 0 then null else round({{ numerator }} / {{ denominator }}, 4) end
{%- endmacro %}

{% macro amount_band(column_name, width=25) -%}
    cast(floor({{ column_name }} / {{ width }}) * {{ width }} as integer)
{%- endmacro %}
`;

// Hand expansions of the macros above, for withMacros: false (must stay textually equivalent).
const centsToDollars = (column: string): string => `round(${column} / 100.0, 2)`;
const safeRatio = (numerator: string, denominator: string): string =>
  `case when ${denominator} is null or ${denominator} = 0 then null else round(${numerator} / ${denominator}, 4) end`;
const amountBand = (column: string): string => `cast(floor(${column} / 25) * 25 as integer)`;

const categoriesLiteral = `[${BENCH_CATEGORIES.map((c) => `'${c}'`).join(', ')}]`;

function stagingSql(model: PlannedModel, withMacros: boolean, withLoops: boolean): string {
  const source = model.refs[0] ?? 'raw_0';
  const amount = withMacros ? `{{ cents_to_dollars('amount_cents') }}` : centsToDollars('amount_cents');
  const flags = withLoops
    ? [
        `    {%- for category in categories %}`,
        `    , category = '{{ category }}' as is_{{ category }}`,
        `    {%- endfor %}`,
      ]
    : BENCH_CATEGORIES.map((c) => `    , category = '${c}' as is_${c}`);
  return [
    ...(withLoops ? [`{% set categories = ${categoriesLiteral} %}`, ''] : []),
    `with source as (`,
    ``,
    `    select * from {{ ref('${source}') }}`,
    ``,
    `)`,
    ``,
    `select`,
    `    id`,
    `    , category`,
    `    , ${amount} as amount`,
    `    , cast(created_at as timestamp) as created_at`,
    `    , is_active`,
    ...flags,
    `from source`,
    ``,
  ].join('\n');
}

function downstreamSql(model: PlannedModel, withMacros: boolean, withLoops: boolean): string {
  const aliases = model.refs.map((_, k) => `p${k}`);
  const ctes = model.refs
    .map((ref, k) => `p${k} as (\n\n    select * from {{ ref('${ref}') }}\n\n)`)
    .join(',\n\n');
  const amountTerms = aliases.map((a, k) => (k === 0 ? `${a}.amount` : `coalesce(${a}.amount, 0)`));
  const columns = [
    `p0.id`,
    `p0.category`,
    aliases.length === 1
      ? `p0.amount`
      : `round((${amountTerms.join(' + ')}) / ${aliases.length}, 2) as amount`,
    `p0.created_at`,
    `${withMacros ? `{{ amount_band('p0.amount') }}` : amountBand('p0.amount')} as amount_band`,
  ];
  if (aliases.length >= 2) {
    columns.push(
      `${withMacros ? `{{ safe_ratio('p0.amount', 'p1.amount') }}` : safeRatio('p0.amount', 'p1.amount')} as amount_ratio`,
    );
  }
  const body = columns.map((c) => `    ${c},`);
  if (withLoops) {
    body.push(
      `    {% for category in categories -%}`,
      `    case when p0.category = '{{ category }}' then p0.amount else 0 end as amount_{{ category }},`,
      `    {% endfor -%}`,
      `    {% for factor in range(1, 4) -%}`,
      `    round(p0.amount * {{ factor }}, 2) as amount_x{{ factor }}{% if not loop.last %},{% endif %}`,
      `    {% endfor %}`,
    );
  } else {
    body.push(
      ...BENCH_CATEGORIES.map(
        (c) => `    case when p0.category = '${c}' then p0.amount else 0 end as amount_${c},`,
      ),
      ...[1, 2, 3].map((f) => `    round(p0.amount * ${f}, 2) as amount_x${f}${f < 3 ? ',' : ''}`),
    );
  }
  const joins = aliases.slice(1).map((a) => `left join ${a}\n    on p0.id = ${a}.id`);
  return [
    ...(model.materialized === 'table' ? [] : [`{{ config(materialized='${model.materialized}') }}`, '']),
    ...(withLoops ? [`{% set categories = ${categoriesLiteral} %}`, ''] : []),
    `with ${ctes}`,
    ``,
    `select`,
    ...body,
    `from p0`,
    ...joins,
    ``,
  ].join('\n');
}

function seedCsv(seedIndex: number, rows: number, random: () => number): string {
  const lines = ['id,category,amount_cents,created_at,is_active'];
  const start = Date.UTC(2024, 0, 1);
  for (let id = 1; id <= rows; id++) {
    const category = BENCH_CATEGORIES[Math.floor(random() * BENCH_CATEGORIES.length)] ?? 'north';
    const cents = 100 + Math.floor(random() * 99_900);
    const at = new Date(start + Math.floor(random() * 366 * 86_400) * 1000 + seedIndex * 1000);
    const stamp = at.toISOString().slice(0, 19).replace('T', ' ');
    lines.push(`${id},${category},${cents},${stamp},${random() < 0.9 ? 'true' : 'false'}`);
  }
  return lines.join('\n') + '\n';
}

function schemaYml(models: readonly PlannedModel[]): string {
  const values = BENCH_CATEGORIES.map((c) => `'${c}'`).join(', ');
  const entries = models
    .filter((m) => m.tested)
    .map((m) =>
      [
        `  - name: ${m.name}`,
        `    description: Synthetic ${m.layer} model over ${m.refs.join(', ')}.`,
        `    columns:`,
        `      - name: id`,
        `        data_tests:`,
        `          - unique`,
        `          - not_null`,
        `      - name: category`,
        `        data_tests:`,
        `          - accepted_values:`,
        `              values: [${values}]`,
      ].join('\n'),
    );
  return `version: 2\n\nmodels:\n${entries.length ? entries.join('\n\n') + '\n' : '  []\n'}`;
}

const DBT_PROJECT = `name: ${PROJECT_NAME}
version: '1.0.0'
config-version: 2

profile: ${PROJECT_NAME}

model-paths: ['models']
seed-paths: ['seeds']
macro-paths: ['macros']
test-paths: ['tests']

models:
  ${PROJECT_NAME}:
    +materialized: table
    staging:
      +materialized: view
      +schema: staging
    intermediate:
      +schema: intermediate
    marts:
      +schema: marts

seeds:
  ${PROJECT_NAME}:
    +schema: raw
    +column_types:
      amount_cents: bigint
      created_at: timestamp
`;

const PROFILES = `${PROJECT_NAME}:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: .weir/weir.duckdb
      threads: 4
`;

/** Writes a dbt project with `options.models` models into `dir` (created if absent). */
export async function generateProject(dir: string, options: GenerateProjectOptions): Promise<void> {
  const resolved = validate(options);
  const plan = planProject(resolved);
  const random = prng(resolved.seed ^ 0x5eed);

  for (const layer of BENCH_LAYERS) await mkdir(path.join(dir, 'models', layer), { recursive: true });
  await mkdir(path.join(dir, 'seeds'), { recursive: true });
  await mkdir(path.join(dir, 'tests'), { recursive: true });

  await writeFile(path.join(dir, 'dbt_project.yml'), DBT_PROJECT);
  await writeFile(path.join(dir, 'profiles.yml'), PROFILES);
  if (resolved.withMacros) {
    await mkdir(path.join(dir, 'macros'), { recursive: true });
    await writeFile(path.join(dir, 'macros', 'bench_helpers.sql'), MACROS);
  }
  for (const [i, seed] of plan.seeds.entries()) {
    await writeFile(path.join(dir, 'seeds', `${seed}.csv`), seedCsv(i, resolved.seedRows, random));
  }
  for (const model of plan.models) {
    const sql =
      model.layer === 'staging'
        ? stagingSql(model, resolved.withMacros, resolved.withLoops)
        : downstreamSql(model, resolved.withMacros, resolved.withLoops);
    await writeFile(path.join(dir, 'models', model.layer, `${model.name}.sql`), sql);
  }
  for (const layer of BENCH_LAYERS) {
    await writeFile(
      path.join(dir, 'models', layer, 'schema.yml'),
      schemaYml(plan.models.filter((m) => m.layer === layer)),
    );
  }
  const lastStored = plan.models.findLast((m) => m.materialized !== 'ephemeral');
  if (lastStored) {
    await writeFile(
      path.join(dir, 'tests', 'assert_amounts_not_negative.sql'),
      `-- Amounts are averages of non-negative amounts: a negative one means a broken join or cast.\n` +
        `select id, amount\nfrom {{ ref('${lastStored.name}') }}\nwhere amount < 0\n`,
    );
  }
}
