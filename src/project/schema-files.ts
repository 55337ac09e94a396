import type { Diagnostics } from '../core/diagnostics.js';
import { didYouMean } from './close-names.js';
import { PROJECT_CODES } from './codes.js';
import { readConfigMap, readConfigValue, reportInvalid, type ConfigLayer } from './config.js';
import { resolveDocs } from './docs-blocks.js';
import { lazySchema } from './lazy-schema.js';
import type { ColumnDef, DocBlock, FileLocation, SourceFreshness } from './types.js';
import { bestIssue } from './zod-issues.js';
import {
  get,
  getPair,
  isNullish,
  nodeAt,
  setOwn,
  toJs,
  type Loc,
  type YMap,
  type YNode,
} from './yaml-tree.js';

/** What a schema yml file says about one model, seed, snapshot, analysis or singular test. */
export const PATCH_TYPES = ['model', 'seed', 'snapshot', 'analysis', 'test'] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

export interface RawTest {
  readonly testName: string;
  readonly kwargs: Record<string, unknown>;
  readonly config: ConfigLayer;
  readonly customName?: string;
  readonly description: string;
  readonly columnName?: string;
  /** Column (and source/table) tags, which dbt applies to the tests defined under them. */
  readonly inheritedTags: readonly string[];
  readonly at: FileLocation;
}

export interface NodePatch {
  readonly resourceType: PatchType;
  readonly name: string;
  readonly at: FileLocation;
  readonly nameLoc: Loc;
  readonly description: string;
  readonly config: ConfigLayer;
  readonly columns: Record<string, ColumnDef>;
  readonly meta: Record<string, unknown>;
  readonly tags: string[];
  readonly docsShow?: boolean;
  readonly tests: RawTest[];
  /** Folders of the yml file under its resource path (for test fqns). */
  readonly dirParts: readonly string[];
  /** dbt 1.9 YAML snapshot: `relation: ref('x')` / `source('a', 'b')`. */
  readonly relation?: { readonly text: string; readonly loc: Loc };
}

export interface RawSourceTable {
  readonly sourceName: string;
  readonly name: string;
  readonly schema: string;
  readonly identifier: string;
  readonly database?: string;
  readonly description: string;
  readonly sourceDescription: string;
  readonly columns: Record<string, ColumnDef>;
  readonly loader?: string;
  readonly freshness?: SourceFreshness;
  readonly loadedAtField?: string;
  readonly meta: Record<string, unknown>;
  readonly tags: string[];
  /** Source-level `config:`, then table-level. */
  readonly configLayers: readonly ConfigLayer[];
  readonly at: FileLocation;
  readonly path: string;
  readonly dirParts: readonly string[];
  readonly tests: RawTest[];
  readonly external?: unknown;
  /** Ingestion settings when the source has a `type` (Weir loads it). */
  readonly ingest?: { readonly source: Record<string, unknown>; readonly table: Record<string, unknown> };
}

export interface SchemaFileContent {
  readonly patches: NodePatch[];
  readonly sources: RawSourceTable[];
}

interface Ctx {
  readonly file: string;
  readonly dirParts: readonly string[];
  readonly docs: Readonly<Record<string, DocBlock>>;
  readonly diags: Diagnostics;
}

const TOP_KEYS = [
  'version',
  'models',
  'seeds',
  'snapshots',
  'sources',
  'analyses',
  'data_tests',
  'macros',
  'exposures',
  'metrics',
  'semantic_models',
  'saved_queries',
  'groups',
  'unit_tests',
  'functions',
];

const SECTION_TYPES: Readonly<Record<string, PatchType>> = {
  models: 'model',
  seeds: 'seed',
  snapshots: 'snapshot',
  analyses: 'analysis',
  data_tests: 'test',
};

/** Ingestion keys of a source (interpreted by the ingest layer, see docs/ingestion.md). */
export const SOURCE_INGEST_KEYS = [
  'type',
  'connection',
  'write_disposition',
  'schema_contract',
  'nested',
  'primary_key',
];
/** Ingestion keys of a source table (a stream). */
export const TABLE_INGEST_KEYS = [
  'incremental',
  'primary_key',
  'write_disposition',
  'schema_contract',
  'nested',
  'hard_delete',
  'table',
  'query',
  'endpoint',
  'path',
  'format',
  'csv',
  'json',
];

const COMMON_KEYS = [
  'name',
  'description',
  'config',
  'columns',
  'tests',
  'data_tests',
  'docs',
  'meta',
  'tags',
];
const ENTRY_KEYS: Readonly<Record<PatchType, readonly string[]>> = {
  model: [
    ...COMMON_KEYS,
    'access',
    'group',
    'latest_version',
    'versions',
    'constraints',
    'deprecation_date',
    'time_spine',
    'freshness',
  ],
  seed: COMMON_KEYS,
  snapshot: [...COMMON_KEYS, 'relation'],
  analysis: COMMON_KEYS,
  test: ['name', 'description', 'config', 'meta', 'tags', 'docs'],
};
const COLUMN_KEYS = [
  'name',
  'description',
  'data_type',
  'tests',
  'data_tests',
  'tags',
  'meta',
  'quote',
  'constraints',
  'config',
  'policy_tags',
  'granularity',
];
const SOURCE_KEYS = [
  'name',
  'description',
  'database',
  'schema',
  'loader',
  'loaded_at_field',
  'loaded_at_query',
  'freshness',
  'meta',
  'tags',
  'config',
  'quoting',
  'tables',
  'overrides',
  // Weir ingestion (sources/*.yml): the source is loaded by Weir when it has a `type`.
  ...SOURCE_INGEST_KEYS,
];
const TABLE_KEYS = [
  'name',
  'identifier',
  'description',
  'columns',
  'tests',
  'data_tests',
  'freshness',
  'loaded_at_field',
  'loaded_at_query',
  'meta',
  'tags',
  'config',
  'quoting',
  'external',
  'loader',
  ...TABLE_INGEST_KEYS,
];

/** dbt moves these from a test's arguments into its config (and keeps them out of its name). */
const TEST_CONFIG_ARGS = new Set([
  'severity',
  'tags',
  'enabled',
  'where',
  'limit',
  'warn_if',
  'error_if',
  'fail_calc',
  'store_failures',
  'store_failures_as',
  'meta',
  'database',
  'schema',
  'alias',
]);

export function readSchemaFile(root: YNode | undefined, ctx: Ctx): SchemaFileContent {
  const out: SchemaFileContent = { patches: [], sources: [] };
  if (isNullish(root) || !root) return out;
  if (root.kind !== 'map') {
    invalid(
      ctx,
      root,
      'schema file',
      'expected a mapping with models:, sources:, ...',
      'start the file with `version: 2` and a `models:` list',
    );
    return out;
  }
  for (const pair of root.pairs) {
    const type = SECTION_TYPES[pair.key];
    if (type) {
      for (const entry of listOf(pair.value, pair.key, ctx)) {
        const patch = readPatch(entry, type, ctx);
        if (patch) out.patches.push(patch);
      }
    } else if (pair.key === 'sources') {
      for (const entry of listOf(pair.value, 'sources', ctx)) out.sources.push(...readSource(entry, ctx));
    } else if (!TOP_KEYS.includes(pair.key)) {
      unknownKey(ctx, pair.key, pair.keyLoc, 'in a schema file', TOP_KEYS);
    }
  }
  return out;
}

function readPatch(node: YNode, type: PatchType, ctx: Ctx): NodePatch | undefined {
  const named = entryName(node, `${type} entry`, ctx);
  if (!named) return undefined;
  const { map, name, nameLoc } = named;
  checkKeys(map, ENTRY_KEYS[type], `${type} '${name}'`, ctx);
  const configNode = get(map, 'config');
  const config = configNode ? readConfigMap(configNode, ctx.file, ctx.diags) : {};
  const tags = tagsOf(get(map, 'tags'), ctx);
  const meta = metaOf(get(map, 'meta'), ctx);
  const docsShow = docsShowOf(get(map, 'docs'), ctx);
  const tests: RawTest[] = [];
  for (const t of testsOf(map, ctx)) {
    const test = readTest(t, ctx, undefined, []);
    if (test) tests.push(test);
  }
  const { columns, tests: columnTests } = readColumns(get(map, 'columns'), ctx, []);
  tests.push(...columnTests);
  const relationNode = get(map, 'relation');
  let relation: NodePatch['relation'];
  if (relationNode) {
    const text = stringOf(relationNode, `'relation' of snapshot '${name}'`, ctx);
    if (text !== undefined) relation = { text, loc: relationNode.loc };
  }
  return {
    resourceType: type,
    name,
    at: { file: ctx.file, line: map.loc.line },
    nameLoc,
    description: descriptionOf(map, ctx),
    config,
    columns,
    meta,
    tags,
    ...(docsShow !== undefined ? { docsShow } : {}),
    tests,
    dirParts: ctx.dirParts,
    ...(relation ? { relation } : {}),
  };
}

function readColumns(
  node: YNode | undefined,
  ctx: Ctx,
  inheritedTags: readonly string[],
): { columns: Record<string, ColumnDef>; tests: RawTest[] } {
  const columns: Record<string, ColumnDef> = {};
  const tests: RawTest[] = [];
  for (const entry of listOf(node, 'columns', ctx)) {
    const named = entryName(entry, 'column', ctx);
    if (!named) continue;
    const { map, name } = named;
    checkKeys(map, COLUMN_KEYS, `column '${name}'`, ctx);
    if (Object.hasOwn(columns, name)) {
      ctx.diags.warning(
        PROJECT_CODES.duplicateColumn,
        `column '${name}' is described twice; the last one wins`,
        {
          at: { file: ctx.file, line: map.loc.line },
          hint: 'merge the two entries',
        },
      );
    }
    const configNode = get(map, 'config');
    const colConfig = configNode ? readConfigMap(configNode, ctx.file, ctx.diags) : {};
    const tags = [...tagsOf(get(map, 'tags'), ctx)];
    for (const t of (colConfig.tags as string[] | undefined) ?? []) if (!tags.includes(t)) tags.push(t);
    const meta = {
      ...metaOf(get(map, 'meta'), ctx),
      ...((colConfig.meta as Record<string, unknown> | undefined) ?? {}),
    };
    const column: ColumnDef = { name, description: descriptionOf(map, ctx), meta, tags };
    const dataType = get(map, 'data_type');
    if (dataType && !isNullish(dataType)) {
      const s = stringOf(dataType, `'data_type' of column '${name}'`, ctx);
      if (s !== undefined) column.dataType = s;
    }
    const quote = get(map, 'quote');
    if (quote && !isNullish(quote)) {
      if (quote.kind === 'scalar' && typeof quote.value === 'boolean') column.quote = quote.value;
      else
        invalid(
          ctx,
          quote,
          `'quote' of column '${name}'`,
          'expected true or false',
          'write quote: true or quote: false',
        );
    }
    const constraints = get(map, 'constraints');
    if (constraints && !isNullish(constraints)) {
      if (constraints.kind === 'seq') column.constraints = toJs(constraints) as unknown[];
      else
        invalid(
          ctx,
          constraints,
          `'constraints' of column '${name}'`,
          'expected a list',
          'write constraints: as a list, e.g. - type: not_null',
        );
    }
    setOwn(columns, name, column);
    const testTags = [...inheritedTags, ...tags.filter((t) => !inheritedTags.includes(t))];
    for (const t of testsOf(map, ctx)) {
      const test = readTest(t, ctx, name, testTags);
      if (test) tests.push(test);
    }
  }
  return { columns, tests };
}

/** `tests:` and its dbt 1.8 name `data_tests:`; both may be present. */
function testsOf(map: YMap, ctx: Ctx): YNode[] {
  return [
    ...listOf(get(map, 'data_tests'), 'data_tests', ctx),
    ...listOf(get(map, 'tests'), 'tests', ctx),
  ].sort((a, b) => a.loc.line - b.loc.line || a.loc.column - b.loc.column);
}

function readTest(
  node: YNode,
  ctx: Ctx,
  columnName: string | undefined,
  inheritedTags: readonly string[],
): RawTest | undefined {
  const at = { file: ctx.file, line: node.loc.line, column: node.loc.column };
  let testName: string | undefined;
  let args: YNode | undefined;
  let argPairs: { key: string; value: YNode; keyLoc: Loc }[] = [];
  if (node.kind === 'scalar' && typeof node.value === 'string' && node.value.trim() !== '') {
    testName = node.value.trim();
  } else if (node.kind === 'map') {
    const longForm = get(node, 'test_name');
    if (longForm) {
      if (longForm.kind === 'scalar' && typeof longForm.value === 'string') testName = longForm.value;
      argPairs = node.pairs.filter((p) => p.key !== 'test_name');
    } else if (node.pairs.length === 1 && node.pairs[0]) {
      testName = node.pairs[0].key;
      args = node.pairs[0].value;
      if (args.kind === 'map') argPairs = [...args.pairs];
      else if (!isNullish(args)) {
        badTest(
          ctx,
          args.loc,
          `the arguments of test '${testName}' must be a mapping`,
          `write ${testName}: {arg: value, ...}`,
        );
        return undefined;
      }
    }
  }
  if (testName === undefined) {
    badTest(
      ctx,
      node.loc,
      'a test must be a test name (e.g. `- unique`) or a mapping with one test name as its key',
      'write `- not_null`, `- accepted_values: {values: [a, b]}` or `- {test_name: unique, name: my_test}`',
    );
    return undefined;
  }

  const kwargs: Record<string, unknown> = {};
  const config: ConfigLayer = {};
  const nested: ConfigLayer = {};
  let customName: string | undefined;
  let description = '';
  for (const pair of argPairs) {
    if (pair.key === 'config') {
      Object.assign(nested, readConfigMap(pair.value, ctx.file, ctx.diags));
    } else if (pair.key === 'arguments') {
      if (pair.value.kind === 'map') for (const a of pair.value.pairs) setOwn(kwargs, a.key, toJs(a.value));
      else if (!isNullish(pair.value))
        badTest(
          ctx,
          pair.value.loc,
          `'arguments' of test '${testName}' must be a mapping`,
          'write arguments: {arg: value}',
        );
    } else if (pair.key === 'name') {
      customName = stringOf(pair.value, `'name' of test '${testName}'`, ctx);
    } else if (pair.key === 'description') {
      description = resolveDocs(toJs(pair.value), ctx.docs, locOf(ctx, pair.value.loc), ctx.diags);
    } else if (TEST_CONFIG_ARGS.has(pair.key)) {
      const r = readConfigValue(pair.key, pair.value, ctx.file, ctx.diags);
      if (r.ok) config[pair.key] = r.value;
    } else {
      setOwn(kwargs, pair.key, toJs(pair.value));
    }
  }
  Object.assign(config, nested);
  if (columnName !== undefined) kwargs.column_name = columnName;
  const kwColumn = kwargs.column_name;
  return {
    testName,
    kwargs,
    config,
    ...(customName !== undefined ? { customName } : {}),
    description,
    ...(typeof kwColumn === 'string' ? { columnName: kwColumn } : {}),
    inheritedTags,
    at,
  };
}

const freshnessSchema = lazySchema((z) => {
  const threshold = z.object({
    count: z.number().int().positive(),
    period: z.enum(['minute', 'hour', 'day']),
  });
  return z
    .object({
      warn_after: threshold.nullable().optional(),
      error_after: threshold.nullable().optional(),
      filter: z.string().nullable().optional(),
    })
    .nullable();
});

/** undefined: not set here; null: explicitly turned off. */
function freshnessOf(map: YMap, ctx: Ctx): SourceFreshness | null | undefined {
  const pair = getPair(map, 'freshness');
  if (!pair) return undefined;
  const result = freshnessSchema.safeParse(toJs(pair.value));
  if (!result.success) {
    const issue = bestIssue(result.error);
    invalid(
      ctx,
      issue ? nodeAt(pair.value, issue.path) : pair.value,
      "'freshness'",
      issue?.message ?? 'invalid value',
      'write freshness: {warn_after: {count: 12, period: hour}, error_after: {count: 24, period: hour}}',
    );
    return undefined;
  }
  const f = result.data;
  if (f === null) return null;
  const out: SourceFreshness = {};
  if (f.warn_after) out.warn_after = f.warn_after;
  if (f.error_after) out.error_after = f.error_after;
  if (typeof f.filter === 'string') out.filter = f.filter;
  return out;
}

function readSource(node: YNode, ctx: Ctx): RawSourceTable[] {
  const named = entryName(node, 'source', ctx);
  if (!named) return [];
  const { map, name: sourceName } = named;
  checkKeys(map, SOURCE_KEYS, `source '${sourceName}'`, ctx);
  const sourceConfigNode = get(map, 'config');
  const sourceConfig = sourceConfigNode ? readConfigMap(sourceConfigNode, ctx.file, ctx.diags) : {};
  const sourceTags = tagsOf(get(map, 'tags'), ctx);
  for (const t of (sourceConfig.tags as string[] | undefined) ?? [])
    if (!sourceTags.includes(t)) sourceTags.push(t);
  const sourceMeta = {
    ...metaOf(get(map, 'meta'), ctx),
    ...((sourceConfig.meta as Record<string, unknown>) ?? {}),
  };
  const schemaNode = get(map, 'schema');
  const schema =
    schemaNode && !isNullish(schemaNode)
      ? stringOf(schemaNode, `'schema' of source '${sourceName}'`, ctx)
      : undefined;
  const databaseNode = get(map, 'database');
  const database =
    databaseNode && !isNullish(databaseNode)
      ? stringOf(databaseNode, `'database' of source '${sourceName}'`, ctx)
      : undefined;
  const loaderNode = get(map, 'loader');
  const loader =
    loaderNode && !isNullish(loaderNode)
      ? stringOf(loaderNode, `'loader' of source '${sourceName}'`, ctx)
      : undefined;
  const laf = get(map, 'loaded_at_field');
  const sourceLoadedAt = laf && !isNullish(laf) ? stringOf(laf, "'loaded_at_field'", ctx) : undefined;
  const sourceFreshness = freshnessOf(map, ctx);
  const sourceDescription = descriptionOf(map, ctx);
  const typeNode = get(map, 'type');
  const ingestSource = typeNode && !isNullish(typeNode) ? pickJs(map, SOURCE_INGEST_KEYS) : undefined;

  const out: RawSourceTable[] = [];
  for (const entry of listOf(get(map, 'tables'), 'tables', ctx)) {
    const t = entryName(entry, `table of source '${sourceName}'`, ctx);
    if (!t) continue;
    const { map: tmap, name } = t;
    checkKeys(tmap, TABLE_KEYS, `table '${sourceName}.${name}'`, ctx);
    const tableConfigNode = get(tmap, 'config');
    const tableConfig = tableConfigNode ? readConfigMap(tableConfigNode, ctx.file, ctx.diags) : {};
    const tags = [...sourceTags];
    for (const tag of [
      ...tagsOf(get(tmap, 'tags'), ctx),
      ...((tableConfig.tags as string[] | undefined) ?? []),
    ]) {
      if (!tags.includes(tag)) tags.push(tag);
    }
    const meta = {
      ...sourceMeta,
      ...metaOf(get(tmap, 'meta'), ctx),
      ...((tableConfig.meta as Record<string, unknown>) ?? {}),
    };
    const idNode = get(tmap, 'identifier');
    const identifier =
      idNode && !isNullish(idNode) ? stringOf(idNode, `'identifier' of table '${name}'`, ctx) : undefined;
    const tLaf = get(tmap, 'loaded_at_field');
    const loadedAtField =
      tLaf && !isNullish(tLaf) ? stringOf(tLaf, "'loaded_at_field'", ctx) : sourceLoadedAt;
    const tableFreshness = freshnessOf(tmap, ctx);
    const freshness = tableFreshness === undefined ? sourceFreshness : tableFreshness;
    const tLoader = get(tmap, 'loader');
    const tableLoader = tLoader && !isNullish(tLoader) ? stringOf(tLoader, "'loader'", ctx) : loader;
    const { columns, tests } = readColumns(get(tmap, 'columns'), ctx, tags);
    const tableTests: RawTest[] = [];
    for (const tn of testsOf(tmap, ctx)) {
      const test = readTest(tn, ctx, undefined, tags);
      if (test) tableTests.push(test);
    }
    const external = get(tmap, 'external');
    const ingestTable = ingestSource ? pickJs(tmap, TABLE_INGEST_KEYS) : undefined;
    // An ingested stream lives where Weir lands it: raw (append) or staging (merge, replace).
    const disposition =
      ingestTable?.['write_disposition'] ??
      ingestSource?.['write_disposition'] ??
      ((ingestTable?.['primary_key'] ?? ingestSource?.['primary_key']) == null ? 'append' : 'merge');
    out.push({
      sourceName,
      name,
      schema: ingestSource ? (disposition === 'append' ? 'raw' : 'staging') : (schema ?? sourceName),
      identifier: ingestSource ? `${sourceName}__${name}` : (identifier ?? name),
      ...(database !== undefined ? { database } : {}),
      description: descriptionOf(tmap, ctx),
      sourceDescription,
      columns,
      ...(tableLoader !== undefined ? { loader: tableLoader } : {}),
      ...(freshness ? { freshness } : {}),
      ...(loadedAtField !== undefined ? { loadedAtField } : {}),
      meta,
      tags,
      configLayers: [sourceConfig, tableConfig],
      at: { file: ctx.file, line: tmap.loc.line },
      path: ctx.file,
      dirParts: ctx.dirParts,
      tests: [...tableTests, ...tests],
      ...(external && !isNullish(external) ? { external: toJs(external) } : {}),
      ...(ingestSource && ingestTable ? { ingest: { source: ingestSource, table: ingestTable } } : {}),
    });
  }
  return out;
}

function pickJs(map: YMap, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const node = get(map, k);
    if (node && !isNullish(node)) out[k] = toJs(node);
  }
  return out;
}

// ---- small readers, each reporting WEIR-P003 at the exact node ----

function locOf(ctx: Ctx, loc: Loc): { file: string; line: number; column: number } {
  return { file: ctx.file, line: loc.line, column: loc.column };
}

function invalid(ctx: Ctx, node: YNode, what: string, message: string, hint: string, at?: Loc): void {
  reportInvalid(ctx.diags, ctx.file, at ?? node.loc, what, message, node, hint);
}

function badTest(ctx: Ctx, loc: Loc, message: string, hint: string): void {
  ctx.diags.error(PROJECT_CODES.invalidTest, message, { at: locOf(ctx, loc), hint });
}

function unknownKey(ctx: Ctx, key: string, loc: Loc, where: string, known: readonly string[]): void {
  ctx.diags.warning(
    PROJECT_CODES.unknownPropertyKey,
    `unknown key '${key}' ${where}; it is ignored.${didYouMean(key, known)}`,
    {
      at: locOf(ctx, loc),
      hint: 'remove it or fix its spelling',
    },
  );
}

function checkKeys(map: YMap, known: readonly string[], what: string, ctx: Ctx): void {
  for (const pair of map.pairs)
    if (!known.includes(pair.key)) unknownKey(ctx, pair.key, pair.keyLoc, `in ${what}`, known);
}

function listOf(node: YNode | undefined, what: string, ctx: Ctx): YNode[] {
  if (!node || isNullish(node)) return [];
  if (node.kind === 'seq') return [...node.items];
  invalid(
    ctx,
    node,
    `'${what}'`,
    'expected a list',
    `write ${what}: as a list of entries, each starting with '- '`,
  );
  return [];
}

function entryName(
  node: YNode,
  what: string,
  ctx: Ctx,
): { map: YMap; name: string; nameLoc: Loc } | undefined {
  if (node.kind !== 'map') {
    invalid(ctx, node, what, 'expected a mapping with a name', `write - name: ... for each ${what}`);
    return undefined;
  }
  const pair = getPair(node, 'name');
  if (!pair || isNullish(pair.value)) {
    ctx.diags.error(PROJECT_CODES.missingKey, `${what} has no 'name'`, {
      at: locOf(ctx, node.loc),
      hint: `add name: to the ${what}`,
    });
    return undefined;
  }
  const v = pair.value;
  if (v.kind !== 'scalar' || (typeof v.value !== 'string' && typeof v.value !== 'number')) {
    invalid(ctx, v, `'name' of ${what}`, 'expected a string', 'write name: as a plain name');
    return undefined;
  }
  return { map: node, name: String(v.value), nameLoc: v.loc };
}

function stringOf(node: YNode, what: string, ctx: Ctx): string | undefined {
  if (node.kind === 'scalar' && (typeof node.value === 'string' || typeof node.value === 'number'))
    return String(node.value);
  invalid(ctx, node, what, 'expected a string', `write ${what} as a string`);
  return undefined;
}

function descriptionOf(map: YMap, ctx: Ctx): string {
  const node = get(map, 'description');
  if (!node || isNullish(node)) return '';
  if (node.kind !== 'scalar') {
    invalid(
      ctx,
      node,
      "'description'",
      'expected text',
      'write description: as a string (use > or | for long text)',
    );
    return '';
  }
  return resolveDocs(node.value, ctx.docs, locOf(ctx, node.loc), ctx.diags);
}

function tagsOf(node: YNode | undefined, ctx: Ctx): string[] {
  if (!node || isNullish(node)) return [];
  const r = readConfigValue('tags', node, ctx.file, ctx.diags);
  return r.ok && Array.isArray(r.value) ? [...(r.value as string[])] : [];
}

function metaOf(node: YNode | undefined, ctx: Ctx): Record<string, unknown> {
  if (!node || isNullish(node)) return {};
  const r = readConfigValue('meta', node, ctx.file, ctx.diags);
  return r.ok ? ((r.value as Record<string, unknown>) ?? {}) : {};
}

function docsShowOf(node: YNode | undefined, ctx: Ctx): boolean | undefined {
  if (!node || isNullish(node)) return undefined;
  const r = readConfigValue('docs', node, ctx.file, ctx.diags);
  if (!r.ok) return undefined;
  const show = (r.value as { show?: unknown } | null)?.show;
  return typeof show === 'boolean' ? show : undefined;
}
