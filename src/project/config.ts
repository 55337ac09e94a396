import type { Diagnostics } from '../core/diagnostics.js';
import { PROJECT_CODES } from './codes.js';
import {
  isBoolean,
  isPlainRecord,
  isString,
  isStringArray,
  isStringOrStrings,
  isStringRecord,
  lazySchema,
  oneOf,
  type LazySchema,
  type ZodApi,
} from './lazy-schema.js';
import { MATERIALIZATIONS, TEST_SEVERITIES, type NodeConfig } from './types.js';
import { bestIssue } from './zod-issues.js';
import { describeKind, nodeAt, setOwn, toJs, type Loc, type YMap, type YNode } from './yaml-tree.js';

/** A partial node config from one place (a dbt_project.yml folder level, a yml `config:`). */
export type ConfigLayer = Record<string, unknown>;

const stringList = (z: ZodApi) => z.union([z.string(), z.array(z.string())]);
const hookItem = (z: ZodApi) =>
  z.union([z.string(), z.object({ sql: z.string(), transaction: z.boolean().optional() })]);
const hooks = (z: ZodApi) => z.union([hookItem(z), z.array(hookItem(z))]);
const stringRecord = (z: ZodApi) => z.record(z.string(), z.string());
const anyRecord = (z: ZodApi) => z.record(z.string(), z.unknown());

const ON_SCHEMA_CHANGE = ['ignore', 'fail', 'append_new_columns', 'sync_all_columns'] as const;
const SNAPSHOT_STRATEGIES = ['timestamp', 'check'] as const;
const HARD_DELETES = ['ignore', 'invalidate', 'new_record'] as const;
const STORE_FAILURES_AS = ['table', 'view', 'ephemeral'] as const;

const string = lazySchema((z) => z.string(), isString);
const boolean = lazySchema((z) => z.boolean(), isBoolean);
const record = lazySchema(anyRecord, isPlainRecord);

/**
 * Types of the configs Weir reads, each with a plain check where one is easy (see lazy-schema.ts).
 * Anything else (adapter-specific configs, custom keys) is kept as written, as dbt does.
 */
export const CONFIG_SCHEMAS: Readonly<Record<string, LazySchema>> = {
  materialized: lazySchema((z) => z.enum(MATERIALIZATIONS), oneOf(MATERIALIZATIONS)),
  enabled: boolean,
  tags: lazySchema(stringList, isStringOrStrings),
  schema: string,
  alias: string,
  database: string,
  meta: record,
  persist_docs: record,
  docs: lazySchema((z) => z.object({ show: z.boolean().optional(), node_color: z.string().optional() })),
  full_refresh: boolean,
  unique_key: lazySchema(stringList, isStringOrStrings),
  incremental_strategy: string,
  on_schema_change: lazySchema((z) => z.enum(ON_SCHEMA_CHANGE), oneOf(ON_SCHEMA_CHANGE)),
  merge_update_columns: lazySchema((z) => z.array(z.string()), isStringArray),
  merge_exclude_columns: lazySchema((z) => z.array(z.string()), isStringArray),
  column_types: lazySchema(stringRecord, isStringRecord),
  delimiter: lazySchema(
    (z) => z.string().length(1),
    (v) => isString(v) && (v as string).length === 1,
  ),
  quote_columns: boolean,
  strategy: lazySchema((z) => z.enum(SNAPSHOT_STRATEGIES), oneOf(SNAPSHOT_STRATEGIES)),
  updated_at: string,
  check_cols: lazySchema(
    (z) => z.union([z.literal('all'), z.array(z.string())]),
    (v) => v === 'all' || isStringArray(v),
  ),
  hard_deletes: lazySchema((z) => z.enum(HARD_DELETES), oneOf(HARD_DELETES)),
  invalidate_hard_deletes: boolean,
  target_schema: string,
  target_database: string,
  snapshot_meta_column_names: lazySchema(stringRecord, isStringRecord),
  severity: lazySchema(
    (z) =>
      z.string().refine((s) => isSeverity(s), {
        message: `Invalid option: expected one of ${TEST_SEVERITIES.join('|')}`,
      }),
    (v) => isString(v) && isSeverity(v as string),
  ),
  warn_if: string,
  error_if: string,
  fail_calc: string,
  where: string,
  limit: lazySchema(
    (z) => z.number().int().nonnegative(),
    (v) => Number.isSafeInteger(v) && (v as number) >= 0,
  ),
  store_failures: boolean,
  store_failures_as: lazySchema((z) => z.enum(STORE_FAILURES_AS), oneOf(STORE_FAILURES_AS)),
  pre_hook: lazySchema(hooks, isStringOrStrings),
  post_hook: lazySchema(hooks, isStringOrStrings),
  contract: lazySchema((z) => z.object({ enforced: z.boolean() }).loose()),
  grants: record,
  quoting: record,
};

function isSeverity(s: string): boolean {
  return (TEST_SEVERITIES as readonly string[]).includes(s.toLowerCase());
}

/** Config keys whose value is a mapping: without a `+` they still are configs, not folder names. */
const MAPPING_CONFIGS = new Set([
  'meta',
  'persist_docs',
  'docs',
  'column_types',
  'snapshot_meta_column_names',
  'contract',
  'grants',
  'quoting',
  'partition_by',
]);

/** dbt merge behaviour: these accumulate, these merge as mappings, the rest are replaced. */
const APPEND_KEYS = new Set(['tags', 'pre_hook', 'post_hook']);
const MERGE_KEYS = new Set([
  'meta',
  'column_types',
  'persist_docs',
  'docs',
  'grants',
  'snapshot_meta_column_names',
  'quoting',
]);

export function normalizeConfigKey(key: string): string {
  const k = key.startsWith('+') ? key.slice(1).trim() : key;
  if (k === 'pre-hook') return 'pre_hook';
  if (k === 'post-hook') return 'post_hook';
  return k;
}

/**
 * Validates one config value at its YAML location. Returns the normalized value, or undefined
 * (and reports WEIR-P003) when its type is wrong.
 */
export function readConfigValue(
  key: string,
  node: YNode,
  file: string,
  diags: Diagnostics,
): { ok: true; value: unknown } | { ok: false } {
  const raw = toJs(node);
  if (raw === null || raw === undefined) return { ok: true, value: null };
  const schema = CONFIG_SCHEMAS[key];
  if (schema) {
    const result = schema.safeParse(raw);
    if (!result.success) {
      const issue = bestIssue(result.error);
      const culprit = issue ? nodeAt(node, issue.path) : node;
      reportInvalid(
        diags,
        file,
        culprit.loc,
        `config '${key}'`,
        issue?.message ?? 'invalid value',
        culprit,
        configHint(key),
      );
      return { ok: false };
    }
  }
  return { ok: true, value: normalizeValue(key, raw) };
}

function configHint(key: string): string {
  switch (key) {
    case 'materialized':
      return `use one of ${MATERIALIZATIONS.join(', ')}`;
    case 'tags':
      return 'write a tag as a string or a list of strings, e.g. tags: [nightly, finance]';
    case 'severity':
      return 'use severity: error or severity: warn';
    default:
      return `fix the value of '${key}' (see the dbt docs for its type)`;
  }
}

export function reportInvalid(
  diags: Diagnostics,
  file: string,
  at: Loc,
  what: string,
  message: string,
  node: YNode,
  hint: string,
): void {
  diags.error(PROJECT_CODES.invalidValue, `invalid ${what}: ${message} (got ${describeKind(node)})`, {
    at: { file, line: at.line, column: at.column },
    hint,
  });
}

function normalizeValue(key: string, raw: unknown): unknown {
  switch (key) {
    case 'tags':
      return typeof raw === 'string' ? [raw] : raw;
    case 'pre_hook':
    case 'post_hook': {
      const items = Array.isArray(raw) ? raw : [raw];
      return items.map((h: unknown) => (typeof h === 'string' ? h : String((h as { sql: string }).sql)));
    }
    case 'severity':
      return String(raw).toLowerCase();
    default:
      return raw;
  }
}

/** Reads a yml `config:` mapping (every key is a config). */
export function readConfigMap(node: YNode, file: string, diags: Diagnostics): ConfigLayer {
  const out: ConfigLayer = {};
  if (node.kind !== 'map') {
    if (!(node.kind === 'scalar' && node.value === null)) {
      reportInvalid(
        diags,
        file,
        node.loc,
        "'config'",
        'expected a mapping',
        node,
        'write config: as key: value pairs',
      );
    }
    return out;
  }
  for (const pair of node.pairs) {
    const key = normalizeConfigKey(pair.key);
    const r = readConfigValue(key, pair.value, file, diags);
    if (r.ok) setOwn(out, key, r.value);
  }
  return out;
}

/** Applies `layer` over `target` in place with dbt's merge rules. */
export function mergeConfig(target: Record<string, unknown>, layer: ConfigLayer): void {
  for (const [key, value] of Object.entries(layer)) {
    if (value === null || value === undefined) {
      if (!APPEND_KEYS.has(key)) delete target[key];
      continue;
    }
    if (APPEND_KEYS.has(key)) {
      const prev = Array.isArray(target[key]) ? (target[key] as unknown[]) : [];
      const next = [...prev];
      for (const v of value as unknown[]) if (key !== 'tags' || !next.includes(v)) next.push(v);
      target[key] = next;
    } else if (MERGE_KEYS.has(key) && isRecord(value)) {
      target[key] = { ...(isRecord(target[key]) ? target[key] : {}), ...value };
    } else {
      target[key] = value;
    }
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The finished config of a node: defaults, then each layer in order of precedence. */
export function buildConfig(materialized: string, layers: readonly ConfigLayer[]): NodeConfig {
  const merged: Record<string, unknown> = { tags: [], meta: {} };
  for (const layer of layers) mergeConfig(merged, layer);
  if (typeof merged.materialized !== 'string') merged.materialized = materialized;
  if (typeof merged.enabled !== 'boolean') merged.enabled = true;
  if (!Array.isArray(merged.tags)) merged.tags = [];
  if (!isRecord(merged.meta)) merged.meta = {};
  return merged as NodeConfig;
}

/** One level of a dbt_project.yml `models:` / `seeds:` / ... tree. */
export interface ConfigLevel {
  readonly configs: ConfigLayer;
  readonly children: Map<string, ConfigLevel>;
  readonly keyLoc: Loc;
  /** Dotted path for messages: `models.shop.staging`. */
  readonly path: string;
  used: boolean;
}

/**
 * Reads a resource section of dbt_project.yml. A key with `+` is a config; without it, a key is a
 * config when its value is not a mapping or it is a known mapping config (dbt allows both), and a
 * folder (or node) name otherwise.
 */
export function readConfigTree(
  node: YNode | undefined,
  section: string,
  file: string,
  diags: Diagnostics,
): ConfigLevel {
  const root: ConfigLevel = {
    configs: {},
    children: new Map(),
    keyLoc: node?.loc ?? { line: 1, column: 1 },
    path: section,
    used: true,
  };
  if (!node || (node.kind === 'scalar' && node.value === null)) return root;
  if (node.kind !== 'map') {
    reportInvalid(
      diags,
      file,
      node.loc,
      `'${section}'`,
      'expected a mapping',
      node,
      `write ${section}: as a mapping of folders and +configs`,
    );
    return root;
  }
  fillLevel(root, node, file, diags);
  return root;
}

function fillLevel(level: ConfigLevel, node: YMap, file: string, diags: Diagnostics): void {
  for (const pair of node.pairs) {
    const isPlus = pair.key.startsWith('+');
    const key = normalizeConfigKey(pair.key);
    const isConfig = isPlus || pair.value.kind !== 'map' || MAPPING_CONFIGS.has(key);
    if (isConfig) {
      const r = readConfigValue(key, pair.value, file, diags);
      if (r.ok) level.configs[key] = r.value;
      continue;
    }
    const child: ConfigLevel = {
      configs: {},
      children: new Map(),
      keyLoc: pair.keyLoc,
      path: `${level.path}.${pair.key}`,
      used: false,
    };
    level.children.set(pair.key, child);
    fillLevel(child, pair.value as YMap, file, diags);
  }
}

/** The config layers that apply to a node with this fqn, outermost first (dbt's fqn_search). */
export function configsFor(tree: ConfigLevel, fqn: readonly string[]): ConfigLayer[] {
  const out: ConfigLayer[] = [tree.configs];
  let level = tree;
  for (const part of fqn) {
    const next = level.children.get(part);
    if (!next) break;
    next.used = true;
    out.push(next.configs);
    level = next;
  }
  return out;
}

/** Topmost levels under the project's own key that matched no node (dbt warns about these). */
export function unusedLevels(tree: ConfigLevel, projectName: string): ConfigLevel[] {
  const own = tree.children.get(projectName);
  if (!own) return [];
  const out: ConfigLevel[] = [];
  const walk = (level: ConfigLevel): void => {
    for (const child of level.children.values()) {
      if (!child.used) out.push(child);
      else walk(child);
    }
  };
  if (!own.used) return [];
  walk(own);
  return out;
}
