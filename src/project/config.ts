import { z } from 'zod';
import type { Diagnostics } from '../core/diagnostics.js';
import { PROJECT_CODES } from './codes.js';
import { MATERIALIZATIONS, TEST_SEVERITIES, type NodeConfig } from './types.js';
import { bestIssue } from './zod-issues.js';
import { describeKind, nodeAt, setOwn, toJs, type Loc, type YMap, type YNode } from './yaml-tree.js';

/** A partial node config from one place (a dbt_project.yml folder level, a yml `config:`). */
export type ConfigLayer = Record<string, unknown>;

const stringList = z.union([z.string(), z.array(z.string())]);
const hookItem = z.union([z.string(), z.object({ sql: z.string(), transaction: z.boolean().optional() })]);
const stringRecord = z.record(z.string(), z.string());
const anyRecord = z.record(z.string(), z.unknown());

/**
 * Types of the configs Weir reads. Anything else (adapter-specific configs, custom keys) is kept as
 * written, as dbt does.
 */
const CONFIG_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  materialized: z.enum(MATERIALIZATIONS),
  enabled: z.boolean(),
  tags: stringList,
  schema: z.string(),
  alias: z.string(),
  database: z.string(),
  meta: anyRecord,
  persist_docs: anyRecord,
  docs: z.object({ show: z.boolean().optional(), node_color: z.string().optional() }),
  full_refresh: z.boolean(),
  unique_key: stringList,
  incremental_strategy: z.string(),
  on_schema_change: z.enum(['ignore', 'fail', 'append_new_columns', 'sync_all_columns']),
  merge_update_columns: z.array(z.string()),
  merge_exclude_columns: z.array(z.string()),
  column_types: stringRecord,
  delimiter: z.string().length(1),
  quote_columns: z.boolean(),
  strategy: z.enum(['timestamp', 'check']),
  updated_at: z.string(),
  check_cols: z.union([z.literal('all'), z.array(z.string())]),
  hard_deletes: z.enum(['ignore', 'invalidate', 'new_record']),
  invalidate_hard_deletes: z.boolean(),
  target_schema: z.string(),
  target_database: z.string(),
  snapshot_meta_column_names: stringRecord,
  severity: z.string().refine((s) => (TEST_SEVERITIES as readonly string[]).includes(s.toLowerCase()), {
    message: `Invalid option: expected one of ${TEST_SEVERITIES.join('|')}`,
  }),
  warn_if: z.string(),
  error_if: z.string(),
  fail_calc: z.string(),
  where: z.string(),
  limit: z.number().int().nonnegative(),
  store_failures: z.boolean(),
  store_failures_as: z.enum(['table', 'view', 'ephemeral']),
  pre_hook: z.union([hookItem, z.array(hookItem)]),
  post_hook: z.union([hookItem, z.array(hookItem)]),
  contract: z.object({ enforced: z.boolean() }).loose(),
  grants: anyRecord,
  quoting: anyRecord,
};

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
