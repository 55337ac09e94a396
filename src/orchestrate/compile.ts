import { WeirError } from '../core/errors.js';
import { compileGenericTest } from '../quality/generic-tests.js';
import { injectCtes, type Relation, type RenderContext, type TemplateEngine } from '../sql/index.js';
import { makeRelation, parseRelationExpr, type Manifest, type ManifestNode } from './manifest.js';

/**
 * Turns a node into the SQL the engine runs: templates rendered with real relations, ephemeral
 * models inlined as CTEs (dbt's `__dbt__cte__` convention, named `__weir_cte__`), generic tests
 * expanded. Pure: it needs no database (`weir compile` runs without one).
 */
export interface CompileOptions {
  readonly manifest: Manifest;
  readonly templates: TemplateEngine;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly target: Readonly<Record<string, unknown>>;
  readonly runStartedAt: Date;
  readonly invocationId: string;
  /** Whether an incremental model already has a table to add to (and no full refresh). */
  readonly isIncremental: (node: ManifestNode) => boolean;
  readonly globals?: Readonly<Record<string, unknown>>;
}

export const CTE_PREFIX = '__weir_cte__';

export class Compiler {
  private readonly ephemeralCache = new Map<string, { sql: string; ctes: string[] }>();

  constructor(private readonly options: CompileOptions) {}

  /** Compiled SQL of a model, snapshot or test. */
  compile(node: ManifestNode): string {
    if (node.resourceType === 'test' && node.test?.kind === 'generic') return this.compileGeneric(node);
    const { sql, ctes } = this.render(node);
    return this.withCtes(sql, ctes);
  }

  private withCtes(sql: string, cteIds: readonly string[]): string {
    if (cteIds.length === 0) return sql;
    const ordered = this.orderCtes(cteIds);
    return injectCtes(
      sql,
      ordered.map((id) => ({
        name: `${CTE_PREFIX}${this.node(id).name}`,
        sql: this.renderEphemeral(id).sql,
      })),
    );
  }

  /** Every ephemeral a node needs, dependencies first, each once. */
  private orderCtes(direct: readonly string[]): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const visit = (id: string): void => {
      if (seen.has(id)) return;
      seen.add(id);
      for (const dep of this.renderEphemeral(id).ctes) visit(dep);
      out.push(id);
    };
    for (const id of direct) visit(id);
    return out;
  }

  private renderEphemeral(id: string): { sql: string; ctes: string[] } {
    let cached = this.ephemeralCache.get(id);
    if (!cached) {
      cached = this.render(this.node(id));
      this.ephemeralCache.set(id, cached);
    }
    return cached;
  }

  private node(id: string): ManifestNode {
    const n = this.options.manifest.nodes.get(id);
    if (!n) throw new WeirError('WEIR-C003', `unknown node ${id}`);
    return n;
  }

  relationOf(id: string): Relation {
    const n = this.node(id);
    if (n.resourceType === 'model' && n.config.materialized === 'ephemeral') {
      return makeRelation('', `${CTE_PREFIX}${n.name}`);
    }
    if (!n.relation) throw new WeirError('WEIR-C003', `${id} has no relation`);
    return makeRelation(n.relation.schema, n.relation.identifier);
  }

  private render(node: ManifestNode): { sql: string; ctes: string[] } {
    const { manifest } = this.options;
    const ctes: string[] = [];
    const config: Record<string, unknown> = { ...node.config };
    const isIncremental = this.options.isIncremental;
    let incremental: boolean | undefined;
    const ctx: RenderContext = {
      file: node.path,
      lineOffset: node.lineOffset,
      nodeId: node.id,
      ref: (args) => {
        const name = args.length > 1 ? `${args[0]}.${args[1]}` : (args[0] ?? '');
        const id = manifest.byName.get(name) ?? manifest.byName.get(args[args.length - 1] ?? '');
        if (!id) throw new WeirError('WEIR-C001', `ref('${args.join("', '")}') not found`, { at: node.at });
        const rel = this.relationOf(id);
        if (!rel.schema) {
          ctes.push(id);
          return ephemeralRelation(rel.identifier);
        }
        return rel;
      },
      source: (sourceName, tableName) => {
        const id = manifest.sourcesByName.get(`${sourceName}.${tableName}`);
        if (!id)
          throw new WeirError('WEIR-C002', `source('${sourceName}', '${tableName}') not found`, {
            at: node.at,
          });
        return this.relationOf(id);
      },
      config: {
        set: () => undefined,
        get: (key, fallback) => config[key] ?? fallback,
      },
      vars: this.options.vars,
      env: this.options.env,
      target: this.options.target,
      // Asked only when the template calls is_incremental(): the answer may cost a file system look-up.
      get isIncremental(): boolean {
        incremental ??= node.resourceType === 'model' && isIncremental(node);
        return incremental;
      },
      ...(node.relation
        ? { thisRelation: makeRelation(node.relation.schema, node.relation.identifier) }
        : {}),
      runStartedAt: this.options.runStartedAt,
      invocationId: this.options.invocationId,
      ...(this.options.globals ? { globals: this.options.globals } : {}),
    };
    const sql = this.options.templates.render(node.rawCode, ctx);
    return { sql, ctes };
  }

  private compileGeneric(node: ManifestNode): string {
    const test = node.test;
    if (!test?.attachedNodeId) throw new WeirError('WEIR-C003', `test ${node.id} has no parent`);
    return compileGenericTest({
      testName: test.testName,
      model: this.relationOf(test.attachedNodeId).toString(),
      ...(test.columnName ? { columnName: test.columnName } : {}),
      kwargs: test.kwargs,
      ...(typeof node.config['where'] === 'string' ? { where: node.config['where'] } : {}),
      resolveRelation: (expr) => {
        const parsed = parseRelationExpr(expr);
        const id = !parsed
          ? undefined
          : parsed.kind === 'ref'
            ? this.options.manifest.byName.get(parsed.name)
            : this.options.manifest.sourcesByName.get(`${parsed.source}.${parsed.name}`);
        if (!id) throw new WeirError('WEIR-C001', `cannot resolve '${expr}'`, { at: node.at });
        return this.relationOf(id).toString();
      },
      at: { file: node.at.file, line: node.at.line ?? 1 },
    });
  }
}

/** An ephemeral model is a CTE: it prints as its bare quoted name. */
class EphemeralRelation implements Relation {
  readonly schema = '';
  constructor(readonly identifier: string) {}
  get name(): string {
    return this.identifier;
  }
  toString(): string {
    return `"${this.identifier}"`;
  }
}

function ephemeralRelation(identifier: string): Relation {
  return new EphemeralRelation(identifier);
}
