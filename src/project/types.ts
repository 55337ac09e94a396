/**
 * The typed result of reading a project folder. Everything here is plain data: later layers
 * (sql, quality, orchestrate) receive it without ever touching YAML or the file system.
 */

export const PROJECT_FILES = ['dbt_project.yml', 'weir_project.yml'] as const;
export type ProjectFile = (typeof PROJECT_FILES)[number];

/** Materializations accepted in dbt_project.yml and schema yml configs. */
export const MATERIALIZATIONS = ['view', 'table', 'incremental', 'ephemeral', 'seed', 'snapshot'] as const;
export type Materialization = (typeof MATERIALIZATIONS)[number];

export const RESOURCE_TYPES = ['model', 'seed', 'snapshot', 'test', 'analysis'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const TEST_SEVERITIES = ['error', 'warn'] as const;
export type TestSeverity = (typeof TEST_SEVERITIES)[number];

export interface FileLocation {
  /** Project-relative posix path. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based; set where it helps tell two things on one line apart (flow-style lists). */
  readonly column?: number;
}

export interface NodeConfig {
  /** 'view' by default for models, 'seed' for seeds, 'snapshot', 'test'. */
  materialized: string;
  schema?: string;
  alias?: string;
  database?: string;
  tags: string[];
  enabled: boolean;
  persist_docs?: Record<string, unknown>;
  full_refresh?: boolean;
  unique_key?: string | string[];
  incremental_strategy?: string;
  on_schema_change?: string;
  merge_update_columns?: string[];
  merge_exclude_columns?: string[];
  /** Seeds: column -> SQL type. */
  column_types?: Record<string, string>;
  delimiter?: string;
  quote_columns?: boolean;
  strategy?: string;
  updated_at?: string;
  check_cols?: string[] | 'all';
  hard_deletes?: string;
  invalidate_hard_deletes?: boolean;
  target_schema?: string;
  snapshot_meta_column_names?: Record<string, string>;
  severity?: string;
  warn_if?: string;
  error_if?: string;
  where?: string;
  limit?: number;
  store_failures?: boolean;
  pre_hook?: string[];
  post_hook?: string[];
  meta: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ColumnDef {
  name: string;
  description: string;
  dataType?: string;
  meta: Record<string, unknown>;
  tags: string[];
  constraints?: unknown[];
  quote?: boolean;
}

export interface NodeBase {
  /** `${resourceType}.${projectName}.${name}` */
  uniqueId: string;
  name: string;
  resourceType: ResourceType;
  /** Project-relative posix path of the file. */
  path: string;
  absPath: string;
  /** [project, ...folders under the resource path, name], as dbt builds it. */
  fqn: string[];
  packageName: string;
  rawCode: string;
  config: NodeConfig;
  /** With `{{ doc('...') }}` resolved. */
  description: string;
  columns: Record<string, ColumnDef>;
  /** Where the node's schema yml entry is. */
  patchPath?: FileLocation;
  meta: Record<string, unknown>;
  /**
   * Project-level `+tags` accumulated down the folder tree, plus yml tags. Tags from `config()` in
   * the SQL are added later by the compiler.
   */
  tags: string[];
  docsShow?: boolean;
}

export interface ModelNode extends NodeBase {
  resourceType: 'model';
  language: 'sql';
}

export interface SeedNode extends NodeBase {
  resourceType: 'seed';
  rawCode: '';
  /** Absolute path of the CSV file (read by the executor, not here). */
  csvPath: string;
}

export interface SnapshotNode extends NodeBase {
  resourceType: 'snapshot';
  /**
   * 1-based line of the file where `rawCode` starts: line N of rawCode is line bodyLine + N - 1 of
   * the file. For a block, the body starts right after the `{% snapshot %}` tag's `%}`; for a YAML
   * snapshot, it is the line of its `relation:`.
   */
  bodyLine: number;
}

/** One entry per snapshot: a `{% snapshot %}` block of a .sql file, or a dbt 1.9 YAML snapshot. */
export type SnapshotFile = SnapshotNode;

export interface SingularTestNode extends NodeBase {
  resourceType: 'test';
}

export interface AnalysisNode extends NodeBase {
  resourceType: 'analysis';
}

export type ProjectNode = ModelNode | SeedNode | SnapshotNode | SingularTestNode | AnalysisNode;

export interface FreshnessThreshold {
  count: number;
  period: 'minute' | 'hour' | 'day';
}

export interface SourceFreshness {
  warn_after?: FreshnessThreshold;
  error_after?: FreshnessThreshold;
  filter?: string;
}

export interface SourceTable {
  /** `source.<project>.<source>.<table>` */
  uniqueId: string;
  sourceName: string;
  name: string;
  /** Defaults to the source name. */
  schema: string;
  /** Defaults to the table name. */
  identifier: string;
  database?: string;
  description: string;
  /** The description of the source the table belongs to. */
  sourceDescription: string;
  columns: Record<string, ColumnDef>;
  loader?: string;
  /** Table freshness, or the source's when the table has none; absent when disabled with `null`. */
  freshness?: SourceFreshness;
  loadedAtField?: string;
  meta: Record<string, unknown>;
  tags: string[];
  config: { enabled: boolean };
  at: FileLocation;
  fqn: string[];
  /** Project-relative path of the yml file. */
  path: string;
  /** `external:` as written (file globs, formats); the ingest layer interprets it. */
  external?: unknown;
  /**
   * Set when the source has a `type` (postgres, rest, files): Weir loads the table itself. The keys
   * as written (connection templates unrendered); the ingest layer validates them. `schema` and
   * `identifier` are then `raw`/`staging` and `<source>__<table>`.
   */
  ingest?: { source: Record<string, unknown>; table: Record<string, unknown> };
}

export interface GenericTestDef {
  /** `test.<project>.<name>` */
  uniqueId: string;
  /** dbt's full test name, e.g. `not_null_orders_order_id`, or the custom `name:` given in yml. */
  name: string;
  /**
   * dbt's short name for relations and file names: equal to `name` when that is shorter than 64
   * characters, else its first 30 identifying characters plus an md5 of the full name.
   */
  alias: string;
  /** As written: 'unique', 'not_null', 'accepted_values', 'relationships', 'dbt_utils.x', GE names... */
  testName: string;
  /** Everything under the test's mapping except config: column_name, values, to, field, quote, ... */
  kwargs: Record<string, unknown>;
  columnName?: string;
  attachedTo: { kind: 'model' | 'seed' | 'snapshot' | 'source'; name: string; sourceName?: string };
  config: NodeConfig;
  tags: string[];
  description: string;
  fqn: string[];
  at: FileLocation;
}

export interface Target {
  /** Profile target name, e.g. 'dev'. */
  name: string;
  type: 'duckdb';
  /** Defaults to 'main'. */
  schema: string;
  database?: string;
  /**
   * Absolute path of the DuckDB file that holds one view per asset: the profile's `path` resolved
   * against the project root, default <root>/.weir/weir.duckdb. `:memory:` and `md:` style paths
   * are kept as written.
   */
  catalogPath: string;
  threads?: number;
  extensions?: string[];
  settings?: Record<string, unknown>;
}

/** What weir.config.ts may export (through `defineConfig`). */
export interface WeirConfigInput {
  /** Lake root folder, relative to the project root (or a URI such as s3://bucket/prefix). */
  lake?: string;
  state?: { type?: 'sqlite'; path?: string };
  threads?: number;
  checkpointInterval?: number;
}

export interface WeirConfig {
  /** Absolute, default <root>/.weir/lake. */
  lakeRoot: string;
  state: { type: 'sqlite'; path: string };
  threads?: number;
  /** Delta checkpoint every N commits; default 10. */
  checkpointInterval: number;
  /** Absolute path of weir.config.ts when one was loaded. */
  configFile?: string;
}

export interface ProjectPaths {
  models: string[];
  seeds: string[];
  macros: string[];
  snapshots: string[];
  tests: string[];
  analyses: string[];
  docs: string[];
  /** Default 'target'. */
  target: string;
}

export interface DocBlock {
  body: string;
  /** Project-relative path of the .md file. */
  file: string;
  /** Line of the `{% docs %}` tag. */
  line: number;
}

export interface DisabledNode {
  uniqueId: string;
  name: string;
  resourceType: ResourceType | 'source';
  path: string;
}

export interface Project {
  /** Absolute. */
  root: string;
  name: string;
  version?: string;
  profileName?: string;
  configFile: ProjectFile;
  paths: ProjectPaths;
  /** Project vars merged with the caller's vars (the caller's win). */
  vars: Record<string, unknown>;
  target: Target;
  weir: WeirConfig;
  models: ModelNode[];
  seeds: SeedNode[];
  snapshots: SnapshotFile[];
  singularTests: SingularTestNode[];
  analyses: AnalysisNode[];
  sources: SourceTable[];
  genericTests: GenericTestDef[];
  macroFiles: { path: string; content: string }[];
  docs: Record<string, DocBlock>;
  onRunStart: string[];
  onRunEnd: string[];
  /** Nodes dropped by `enabled: false`, so that a ref to one can be explained. */
  disabled: DisabledNode[];
  /** `clean-targets` as written (for `weir clean`). */
  cleanTargets: string[];
  /**
   * ODCS data contracts (`*.odcs.yaml` or `.yml` anywhere under contracts/), as text: the quality layer parses
   * and validates them and matches each schema object to an asset (see docs/quality.md).
   */
  contracts: { path: string; content: string }[];
}

export interface LoadProjectOptions {
  /** Profile target override (`--target`). */
  target?: string;
  profilesDir?: string;
  /** `--vars`, parsed by the caller. */
  vars?: Record<string, unknown>;
  /** Environment for env_var() and profile lookup; defaults to process.env. */
  env?: Record<string, string | undefined>;
}
