import { Diagnostics } from '../core/diagnostics.js';
import { isWeirError, type SourceLocation } from '../core/errors.js';
import { Graph, type GraphNode, type ResourceType } from '../core/graph.js';
import { suggest } from '../core/suggest.js';
import type { ColumnDef, GenericTestDef, NodeConfig, Project } from '../project/types.js';
import { createRelation, type Relation, type RenderContext, type TemplateEngine } from '../sql/index.js';

/**
 * The manifest is the parsed project: every node with its merged config, its relation (where
 * its data lives, `schema.identifier`) and its dependencies, found by rendering each template
 * once with capturing `ref`/`source`/`config`. Compiling SQL with real relations happens later,
 * per run, because `is_incremental()` depends on the lake.
 */
export interface RelationName {
  readonly schema: string;
  readonly identifier: string;
}

export interface TestInfo {
  readonly kind: 'generic' | 'singular';
  readonly testName: string;
  readonly kwargs: Readonly<Record<string, unknown>>;
  readonly columnName?: string;
  /** The node a generic test is attached to. */
  readonly attachedNodeId?: string;
}

export interface ManifestNode extends GraphNode {
  readonly config: NodeConfig;
  readonly relation: RelationName | null;
  readonly rawCode: string;
  readonly at: SourceLocation;
  /** Added to template line numbers (snapshot bodies inside a file). */
  readonly lineOffset: number;
  readonly description: string;
  readonly columns: Readonly<Record<string, ColumnDef>>;
  readonly test?: TestInfo;
  readonly csvPath?: string;
  readonly absPath?: string;
}

export interface Manifest {
  readonly projectName: string;
  readonly nodes: ReadonlyMap<string, ManifestNode>;
  readonly graph: Graph;
  /** Resolves a model/seed/snapshot name (optionally package-qualified) to its id. */
  readonly byName: ReadonlyMap<string, string>;
  /** `source.table` -> id. */
  readonly sourcesByName: ReadonlyMap<string, string>;
}

export const ASSET_TYPES: readonly ResourceType[] = ['model', 'seed', 'snapshot', 'source'];

export function assetName(node: Pick<ManifestNode, 'relation'>): string | null {
  return node.relation ? `${node.relation.schema}.${node.relation.identifier}` : null;
}

/** A relation object as dbt templates see it: prints quoted, exposes schema/identifier/name. */
export function makeRelation(schema: string, identifier: string): Relation {
  return createRelation({ schema, identifier });
}

interface ParseResult {
  deps: Set<string>;
  config: Record<string, unknown>;
}

export interface BuildManifestOptions {
  readonly vars: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function buildManifest(
  project: Project,
  templates: TemplateEngine,
  options: BuildManifestOptions,
): { manifest: Manifest; diagnostics: Diagnostics } {
  const diagnostics = new Diagnostics();
  const byName = new Map<string, string>();
  const sourcesByName = new Map<string, string>();
  const target = targetContext(project);

  for (const n of [...project.models, ...project.seeds, ...project.snapshots]) {
    byName.set(n.name, n.uniqueId);
    byName.set(`${n.packageName}.${n.name}`, n.uniqueId);
  }
  for (const s of project.sources) sourcesByName.set(`${s.sourceName}.${s.name}`, s.uniqueId);
  const refCandidates = [...project.models, ...project.seeds, ...project.snapshots].map((n) => n.name);

  const parse = (file: string, nodeId: string, rawCode: string, lineOffset: number): ParseResult => {
    const deps = new Set<string>();
    const config: Record<string, unknown> = {};
    const at = (line?: number): SourceLocation => ({ file, ...(line ? { line } : {}) });
    const ctx: RenderContext = {
      file,
      lineOffset,
      nodeId,
      ref: (args) => {
        const name = args.length > 1 ? `${args[0]}.${args[1]}` : (args[0] ?? '');
        const id = byName.get(name) ?? byName.get(args[args.length - 1] ?? '');
        if (!id) {
          const close = suggest(args[args.length - 1] ?? '', refCandidates);
          diagnostics.error(
            'WEIR-C001',
            `${file}: ref('${args.join("', '")}') does not name a model, seed or snapshot`,
            {
              at: at(),
              node: nodeId,
              hint: close.length
                ? `did you mean ${close.map((c) => `'${c}'`).join(' or ')}?`
                : 'check the name',
            },
          );
          return makeRelation('__missing__', name);
        }
        deps.add(id);
        return makeRelation('__parse__', args[args.length - 1] ?? '');
      },
      source: (sourceName, tableName) => {
        const id = sourcesByName.get(`${sourceName}.${tableName}`);
        if (!id) {
          const close = suggest(`${sourceName}.${tableName}`, sourcesByName.keys());
          diagnostics.error('WEIR-C002', `${file}: source('${sourceName}', '${tableName}') is not declared`, {
            at: at(),
            node: nodeId,
            hint: close.length
              ? `did you mean ${close.map((c) => `'${c}'`).join(' or ')}?`
              : 'declare it under `sources:` in a .yml file',
          });
          return makeRelation(sourceName, tableName);
        }
        deps.add(id);
        return makeRelation(sourceName, tableName);
      },
      config: {
        set: (values) => Object.assign(config, values),
        get: (key, fallback) => config[key] ?? fallback,
      },
      vars: options.vars,
      env: options.env,
      target,
      isIncremental: false,
      thisRelation: makeRelation('__parse__', nodeId),
    };
    try {
      templates.render(rawCode, ctx);
    } catch (err) {
      if (isWeirError(err)) diagnostics.fromError(err);
      else diagnostics.error('WEIR-T001', `${file}: ${String(err)}`, { at: at(), node: nodeId });
    }
    return { deps, config };
  };

  const nodes = new Map<string, ManifestNode>();
  const add = (n: ManifestNode): void => {
    nodes.set(n.id, n);
  };

  const mergeConfig = (base: NodeConfig, fromSql: Record<string, unknown>): NodeConfig => {
    const merged = { ...base, ...fromSql } as NodeConfig;
    const tags = new Set<string>([...(base.tags ?? []), ...toList(fromSql['tags'])]);
    return {
      ...merged,
      tags: [...tags],
      meta: { ...(base.meta ?? {}), ...((fromSql['meta'] as object) ?? {}) },
    };
  };

  for (const m of project.models) {
    const parsed = parse(m.path, m.uniqueId, m.rawCode, 0);
    const config = mergeConfig(m.config, parsed.config);
    if (config.enabled === false) continue;
    add({
      id: m.uniqueId,
      name: m.name,
      resourceType: 'model',
      packageName: m.packageName,
      path: m.path,
      absPath: m.absPath,
      fqn: m.fqn,
      tags: config.tags,
      config,
      dependsOn: [...parsed.deps],
      relation:
        config.materialized === 'ephemeral'
          ? null
          : { schema: config.schema ?? project.target.schema, identifier: config.alias ?? m.name },
      rawCode: m.rawCode,
      at: { file: m.path, line: 1 },
      lineOffset: 0,
      description: m.description,
      columns: m.columns,
    });
  }
  for (const s of project.seeds) {
    if (s.config.enabled === false) continue;
    add({
      id: s.uniqueId,
      name: s.name,
      resourceType: 'seed',
      packageName: s.packageName,
      path: s.path,
      absPath: s.absPath,
      fqn: s.fqn,
      tags: s.config.tags,
      config: s.config,
      dependsOn: [],
      relation: { schema: s.config.schema ?? project.target.schema, identifier: s.config.alias ?? s.name },
      rawCode: '',
      at: { file: s.path },
      lineOffset: 0,
      description: s.description,
      columns: s.columns,
      csvPath: s.csvPath,
    });
  }
  for (const s of project.snapshots) {
    const lineOffset = Math.max(0, s.bodyLine - 1);
    const parsed = parse(s.path, s.uniqueId, s.rawCode, lineOffset);
    const config = mergeConfig(s.config, parsed.config);
    if (config.enabled === false) continue;
    add({
      id: s.uniqueId,
      name: s.name,
      resourceType: 'snapshot',
      packageName: s.packageName,
      path: s.path,
      absPath: s.absPath,
      fqn: s.fqn,
      tags: config.tags,
      config: { ...config, materialized: 'snapshot' },
      dependsOn: [...parsed.deps],
      relation: {
        schema: config.target_schema ?? config.schema ?? project.target.schema,
        identifier: config.alias ?? s.name,
      },
      rawCode: s.rawCode,
      at: { file: s.path, line: s.bodyLine },
      lineOffset,
      description: s.description,
      columns: s.columns,
    });
  }
  for (const src of project.sources) {
    if (src.config.enabled === false) continue;
    add({
      id: src.uniqueId,
      name: src.name,
      resourceType: 'source',
      packageName: project.name,
      path: src.path,
      fqn: src.fqn,
      tags: src.tags,
      config: { materialized: 'source', tags: src.tags, enabled: true, meta: src.meta },
      dependsOn: [],
      sourceName: src.sourceName,
      relation: { schema: src.schema, identifier: src.identifier },
      rawCode: '',
      at: src.at,
      lineOffset: 0,
      description: src.description,
      columns: src.columns,
    });
  }
  for (const t of project.singularTests) {
    const parsed = parse(t.path, t.uniqueId, t.rawCode, 0);
    const config = mergeConfig(t.config, parsed.config);
    if (config.enabled === false) continue;
    add({
      id: t.uniqueId,
      name: t.name,
      resourceType: 'test',
      packageName: t.packageName,
      path: t.path,
      absPath: t.absPath,
      fqn: t.fqn,
      tags: config.tags,
      config,
      dependsOn: [...parsed.deps],
      testName: 'singular',
      relation: null,
      rawCode: t.rawCode,
      at: { file: t.path, line: 1 },
      lineOffset: 0,
      description: t.description,
      columns: {},
      test: { kind: 'singular', testName: 'singular', kwargs: {} },
    });
  }
  for (const t of project.genericTests) {
    const node = genericTestNode(project, t, nodes, byName, sourcesByName, diagnostics);
    if (node) add(node);
  }

  let graph: Graph;
  try {
    graph = Graph.build([...nodes.values()]);
  } catch (err) {
    if (isWeirError(err)) diagnostics.fromError(err);
    else throw err;
    graph = Graph.build([...nodes.values()].map((n) => ({ ...n, dependsOn: [] })));
  }
  return { manifest: { projectName: project.name, nodes, graph, byName, sourcesByName }, diagnostics };
}

function genericTestNode(
  project: Project,
  t: GenericTestDef,
  nodes: Map<string, ManifestNode>,
  byName: Map<string, string>,
  sourcesByName: Map<string, string>,
  diagnostics: Diagnostics,
): ManifestNode | null {
  if (t.config.enabled === false) return null;
  const attachedId =
    t.attachedTo.kind === 'source'
      ? sourcesByName.get(`${t.attachedTo.sourceName}.${t.attachedTo.name}`)
      : byName.get(t.attachedTo.name);
  if (!attachedId || !nodes.has(attachedId)) return null; // disabled or missing parent: dbt drops the test
  const deps = [attachedId];
  if (t.testName === 'relationships') {
    const to = t.kwargs['to'];
    const parsed = typeof to === 'string' ? parseRelationExpr(to) : null;
    const id = parsed
      ? parsed.kind === 'ref'
        ? byName.get(parsed.name)
        : sourcesByName.get(`${parsed.source}.${parsed.name}`)
      : undefined;
    if (!id) {
      diagnostics.error(
        'WEIR-C001',
        `relationships test 'to: ${String(to)}' does not name a model, seed or source`,
        {
          at: t.at,
          hint: "write to: ref('model_name') or to: source('source', 'table')",
        },
      );
      return null;
    }
    deps.push(id);
  }
  return {
    id: t.uniqueId,
    name: t.name,
    resourceType: 'test',
    packageName: project.name,
    path: t.at.file,
    fqn: [project.name, t.name],
    tags: t.tags,
    config: t.config,
    dependsOn: deps,
    testName: t.testName,
    relation: null,
    rawCode: '',
    at: t.at,
    lineOffset: 0,
    description: '',
    columns: {},
    test: {
      kind: 'generic',
      testName: t.testName,
      kwargs: t.kwargs,
      ...(t.columnName ? { columnName: t.columnName } : {}),
      attachedNodeId: attachedId,
    },
  };
}

/** Parses `ref('x')`, `ref("pkg", "x")`, `source('a', 'b')` as written in schema.yml kwargs. */
export function parseRelationExpr(
  expr: string,
): { kind: 'ref'; name: string } | { kind: 'source'; source: string; name: string } | null {
  const ref =
    /^\s*(?:\{\{\s*)?ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)\s*(?:\}\})?\s*$/.exec(expr);
  if (ref) return { kind: 'ref', name: ref[2] ?? ref[1] ?? '' };
  const src = /^\s*(?:\{\{\s*)?source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*(?:\}\})?\s*$/.exec(
    expr,
  );
  if (src) return { kind: 'source', source: src[1] ?? '', name: src[2] ?? '' };
  return null;
}

export function targetContext(project: Project): Record<string, unknown> {
  return {
    name: project.target.name,
    type: project.target.type,
    schema: project.target.schema,
    database: project.target.database ?? 'weir',
    threads: project.target.threads ?? project.weir.threads ?? 1,
    profile_name: project.profileName ?? project.name,
  };
}

function toList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}
