import { randomBytes } from 'node:crypto';
import { type Engine, type EngineSession } from '../core/engine.js';
import { WeirError, errorMessage, formatError, isWeirError } from '../core/errors.js';
import { Graph, type ResourceType } from '../core/graph.js';
import type { Logger } from '../core/logger.js';
import { select } from '../core/selection.js';
import type { NodeResultRecord, NodeStatus, StateStore } from '../core/state-store.js';
import type { ObjectStore } from '../lake/object-store.js';
import type { Project } from '../project/types.js';
import { thresholdHit } from '../quality/generic-tests.js';
import { sourceLineFor, type TemplateEngine } from '../sql/index.js';
import { Compiler } from './compile.js';
import { runDag, type NodeOutcome } from './dag-runner.js';
import { Mutex } from './lock.js';
import { assetName, targetContext, type Manifest, type ManifestNode } from './manifest.js';
import {
  materializeIncremental,
  materializeSnapshot,
  materializeTable,
  type MaterializeResult,
} from './materializations.js';
import { loadSeed } from './seed.js';
import { TableHandle, type BeforeCommit } from './table-handle.js';

export const RUN_COMMANDS = ['build', 'run', 'seed', 'snapshot', 'test'] as const;
export type RunCommand = (typeof RUN_COMMANDS)[number];

const COMMAND_TYPES: Record<RunCommand, readonly ResourceType[]> = {
  build: ['model', 'seed', 'snapshot', 'test'],
  run: ['model'],
  seed: ['seed'],
  snapshot: ['snapshot'],
  test: ['test'],
};

export interface RunEvent {
  readonly type: 'run_started' | 'node_started' | 'node_finished' | 'run_finished';
  readonly runId: string;
  readonly node?: ManifestNode;
  readonly result?: NodeResult;
  readonly total?: number;
  readonly summary?: RunSummary;
}

export interface NodeResult {
  readonly nodeId: string;
  readonly name: string;
  readonly resourceType: ResourceType;
  readonly asset: string | null;
  readonly status: NodeStatus;
  readonly durationMs: number;
  readonly rows: number | null;
  readonly bytes: number | null;
  readonly version: number | null;
  readonly message: string;
  readonly error?: WeirError;
  /** Failing row count, for tests. */
  readonly failures?: number;
  readonly compiledSql?: string;
}

export interface RunSummary {
  readonly runId: string;
  readonly command: RunCommand;
  readonly status: 'success' | 'failed';
  readonly results: readonly NodeResult[];
  readonly startedAt: Date;
  readonly elapsedMs: number;
  readonly warnings: readonly string[];
}

export interface RunRequest {
  readonly command: RunCommand;
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly fullRefresh?: boolean;
  readonly threads: number;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** CLI arguments recorded with the run (never secrets). */
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface RunDeps {
  readonly project: Project;
  readonly manifest: Manifest;
  readonly templates: TemplateEngine;
  readonly engine: Engine;
  /** Object store rooted at the lake. */
  readonly lake: ObjectStore;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly onEvent?: (event: RunEvent) => void;
  /** Write-audit-publish: checks run on a table's new files before its commit (quality layer). */
  readonly audit?: (node: ManifestNode, session: EngineSession) => BeforeCommit | undefined;
  /** Ingestion of a source stream into the raw zone (ingest layer); sources it accepts join `build`. */
  readonly ingest?: SourceIngestor;
}

export interface SourceIngestor {
  /** Whether Weir loads this source itself (otherwise it is an external table that must exist). */
  handles(node: ManifestNode): boolean;
  run(node: ManifestNode, session: EngineSession, context: { runId: string; startedAt: Date }): Promise<ExecOutcome>;
}

/** Sortable, unique run ids: `20261122T021500Z-a1b2c3`. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function tablePathOf(relation: { schema: string; identifier: string }): string {
  return `${relation.schema}/${relation.identifier}`;
}

/**
 * Executes a selection of the manifest: nodes run in parallel as soon as their parents finish;
 * a failure skips the failed node's descendants while independent branches go on.
 */
export async function executeRun(deps: RunDeps, request: RunRequest): Promise<RunSummary> {
  const { project, manifest, engine, lake, state, logger } = deps;
  const startedAt = new Date();
  const runId = newRunId(startedAt);
  const log = logger.child({ run_id: runId });
  const selection = select(manifest.graph, {
    ...(request.select ? { select: request.select } : {}),
    ...(request.exclude ? { exclude: request.exclude } : {}),
    resourceTypes: deps.ingest && request.command === 'build' ? [...COMMAND_TYPES.build, 'source'] : COMMAND_TYPES[request.command],
  });
  const ingest = deps.ingest;
  const ids = selection.ids.filter((id) => {
    const n = manifest.nodes.get(id);
    return n?.resourceType !== 'source' || (ingest !== undefined && ingest.handles(n));
  });
  for (const w of selection.warnings) log.warn(w);

  await state.createRun({
    runId,
    command: request.command,
    status: 'running',
    args: request.args ?? {},
    startedAt: startedAt.toISOString(),
    finishedAt: null,
    error: null,
  });
  deps.onEvent?.({ type: 'run_started', runId, total: ids.length });
  log.info('run started', { command: request.command, nodes: ids.length });

  const ddl = new Mutex();
  const setup = await engine.session();
  const results = new Map<string, NodeResult>();
  try {
    const tableOf = (node: ManifestNode, session: EngineSession, audited = false): TableHandle => {
      const rel = node.relation;
      if (!rel) throw new WeirError('WEIR-C003', `${node.id} has no relation`);
      const beforeCommit = audited ? deps.audit?.(node, session) : undefined;
      return new TableHandle(lake, tablePathOf(rel), project.weir.checkpointInterval, session, beforeCommit);
    };
    const schemas = new Set<string>();
    for (const n of manifest.nodes.values()) if (n.relation) schemas.add(n.relation.schema);
    for (const s of [...schemas].sort())
      await setup.exec(`CREATE SCHEMA IF NOT EXISTS "${s.replaceAll('"', '""')}"`);

    // Make upstream assets that this run does not rebuild readable: views over their current
    // Delta snapshots, or the view SQL the catalog recorded when they were last built.
    const selected = new Set(ids);
    const upstream = new Set<string>();
    for (const id of ids) for (const a of manifest.graph.ancestors(id)) if (!selected.has(a)) upstream.add(a);
    for (const id of manifest.graph.topoOrder(upstream)) {
      const node = manifest.nodes.get(id);
      if (!node?.relation) continue;
      await registerExisting(setup, node, tableOf(node, setup), state, log);
    }

    const existsCache = new Map<string, boolean>();
    for (const id of ids) {
      const n = manifest.nodes.get(id);
      if (n?.resourceType === 'model' && n.config.materialized === 'incremental' && n.relation) {
        const exists = await tableOf(n, setup).exists();
        existsCache.set(id, exists);
        // `{{ this }}` reads the model's own current table.
        if (exists) await registerExisting(setup, n, tableOf(n, setup), state, log);
      }
    }
    const compiler = new Compiler({
      manifest,
      templates: deps.templates,
      vars: request.vars,
      env: request.env,
      target: targetContext(project),
      runStartedAt: startedAt,
      invocationId: runId,
      isIncremental: (n) =>
        n.config.materialized === 'incremental' &&
        existsCache.get(n.id) === true &&
        !request.fullRefresh &&
        n.config.full_refresh !== true,
    });

    const runGraph = request.command === 'build' ? withTestGates(manifest, ids) : manifest.graph;
    const finish = async (result: NodeResult): Promise<{ outcome: NodeOutcome; value: NodeResult }> => {
      const node = manifest.nodes.get(result.nodeId);
      results.set(result.nodeId, result);
      await recordResult(state, runId, result, new Date(Date.now() - result.durationMs));
      if (node) deps.onEvent?.({ type: 'node_finished', runId, node, result });
      const blocking = result.status === 'error' || result.status === 'fail';
      return { outcome: blocking ? 'error' : 'success', value: result };
    };
    const sessions: EngineSession[] = [];
    const takeSession = async (): Promise<EngineSession> => sessions.pop() ?? (await engine.session());

    const outcomes = await runDag<NodeResult>({
      graph: runGraph,
      ids,
      concurrency: Math.max(1, request.threads),
      onSkip: (id, because) => {
        const node = manifest.nodes.get(id);
        if (!node) return;
        const failed = manifest.nodes.get(because);
        const result: NodeResult = {
          nodeId: id,
          name: node.name,
          resourceType: node.resourceType,
          asset: assetName(node),
          status: 'skipped',
          durationMs: 0,
          rows: null,
          bytes: null,
          version: null,
          message: `skipped: upstream ${failed?.name ?? because} failed`,
        };
        results.set(id, result);
        deps.onEvent?.({ type: 'node_finished', runId, node, result });
      },
      run: async (id) => {
        const node = manifest.nodes.get(id);
        if (!node) return 'skipped';
        deps.onEvent?.({ type: 'node_started', runId, node });
        await state.appendEvent({
          runId,
          nodeId: id,
          ts: new Date().toISOString(),
          type: 'node_started',
          data: {},
        });
        const session = await takeSession();
        const t0 = performance.now();
        let result: NodeResult;
        let compiled: string | undefined;
        try {
          if (node.resourceType === 'source' && ingest) {
            const outcome = await ingest.run(node, session, { runId, startedAt });
            result = { ...outcome, nodeId: id, name: node.name, resourceType: node.resourceType, asset: assetName(node), durationMs: performance.now() - t0 };
            return finish(result);
          }
          compiled = node.resourceType === 'seed' ? undefined : compiler.compile(node);
          const outcome = await executeNode(node, compiled, session, {
            table: node.relation ? tableOf(node, session, true) : undefined,
            ddl,
            state,
            runId,
            startedAt,
            fullRefresh: request.fullRefresh === true,
            project,
          });
          result = {
            ...outcome,
            nodeId: id,
            name: node.name,
            resourceType: node.resourceType,
            asset: assetName(node),
            durationMs: performance.now() - t0,
            ...(compiled ? { compiledSql: compiled } : {}),
          };
        } catch (err) {
          const error = nodeError(err, node, compiled);
          result = {
            nodeId: id,
            name: node.name,
            resourceType: node.resourceType,
            asset: assetName(node),
            status: 'error',
            durationMs: performance.now() - t0,
            rows: null,
            bytes: null,
            version: null,
            message: formatError(error),
            error,
            ...(compiled ? { compiledSql: compiled } : {}),
          };
        } finally {
          sessions.push(session);
        }
        return finish(result);
      },
    });
    for (const s of sessions) s.close();
    void outcomes;
  } finally {
    setup.close();
  }

  for (const r of results.values())
    if (r.status === 'skipped') await recordResult(state, runId, r, startedAt);
  const ordered = ids.map((id) => results.get(id)).filter((r): r is NodeResult => r !== undefined);
  const failed = ordered.some((r) => r.status === 'error' || r.status === 'fail' || r.status === 'skipped');
  const summary: RunSummary = {
    runId,
    command: request.command,
    status: failed ? 'failed' : 'success',
    results: ordered,
    startedAt,
    elapsedMs: Date.now() - startedAt.getTime(),
    warnings: selection.warnings,
  };
  await state.updateRun(runId, {
    status: summary.status,
    finishedAt: new Date().toISOString(),
    error: failed
      ? `${ordered.filter((r) => r.status === 'error' || r.status === 'fail').length} node(s) failed`
      : null,
  });
  log.info('run finished', { status: summary.status, elapsed_ms: summary.elapsedMs });
  deps.onEvent?.({ type: 'run_finished', runId, summary });
  return summary;
}

interface ExecDeps {
  readonly table: TableHandle | undefined;
  readonly ddl: Mutex;
  readonly state: StateStore;
  readonly runId: string;
  readonly startedAt: Date;
  readonly fullRefresh: boolean;
  readonly project: Project;
}

export type ExecOutcome = Pick<NodeResult, 'status' | 'rows' | 'bytes' | 'version' | 'message' | 'failures'>;

async function executeNode(
  node: ManifestNode,
  sql: string | undefined,
  session: EngineSession,
  deps: ExecDeps,
): Promise<ExecOutcome> {
  if (node.resourceType === 'test') return runTest(node, sql ?? '', session);
  const table = deps.table;
  const rel = node.relation;
  const materialized =
    node.resourceType === 'seed'
      ? 'seed'
      : node.resourceType === 'snapshot'
        ? 'snapshot'
        : String(node.config.materialized);
  if (materialized === 'ephemeral') {
    return {
      status: 'success',
      rows: null,
      bytes: null,
      version: null,
      message: 'ephemeral: inlined into its dependents',
    };
  }
  if (!rel || sql === undefined) {
    if (materialized !== 'seed' || !table || !rel)
      throw new WeirError('WEIR-C003', `${node.id} cannot be built`);
  }
  const asset = `${rel.schema}.${rel.identifier}`;
  const viewName = `"${rel.schema.replaceAll('"', '""')}"."${rel.identifier.replaceAll('"', '""')}"`;
  if (materialized === 'view') {
    await deps.ddl.run(() => session.exec(`CREATE OR REPLACE VIEW ${viewName} AS ${sql}`));
    await deps.state.putCatalogEntry({
      asset,
      nodeId: node.id,
      kind: 'view',
      location: null,
      sql: sql ?? null,
      updatedAt: new Date().toISOString(),
      runId: deps.runId,
    });
    return { status: 'success', rows: null, bytes: null, version: null, message: 'view created' };
  }
  if (!table) throw new WeirError('WEIR-C003', `${node.id} has no table`);
  const ctx = {
    node,
    sql: sql ?? '',
    session,
    table,
    runStartedAt: deps.startedAt,
    fullRefresh: deps.fullRefresh,
  };
  let result: MaterializeResult;
  switch (materialized) {
    case 'table':
      result = await materializeTable(ctx);
      break;
    case 'incremental':
      result = await materializeIncremental(ctx);
      break;
    case 'snapshot':
      result = await materializeSnapshot(ctx);
      break;
    case 'seed':
      result = await loadSeed(ctx);
      break;
    default:
      throw new WeirError('WEIR-M001', `unknown materialization '${materialized}'`, {
        node: node.id,
        at: node.at,
        hint: 'use view, table, incremental or ephemeral',
      });
  }
  const scan = await table.scanSql();
  await deps.ddl.run(() => session.exec(`CREATE OR REPLACE VIEW ${viewName} AS ${scan}`));
  await deps.state.putCatalogEntry({
    asset,
    nodeId: node.id,
    kind: materialized,
    location: table.location,
    sql: null,
    updatedAt: new Date().toISOString(),
    runId: deps.runId,
  });
  return {
    status: 'success',
    rows: result.rows,
    bytes: result.bytes,
    version: result.version,
    message: result.message,
  };
}

async function runTest(node: ManifestNode, sql: string, session: EngineSession): Promise<ExecOutcome> {
  const limit = typeof node.config.limit === 'number' ? ` LIMIT ${node.config.limit}` : '';
  const res = await session.query(`SELECT count(*) AS failures FROM (${sql}${limit}) AS weir_test`);
  const failures = Number(res.rows[0]?.['failures'] ?? 0);
  const severity = String(node.config.severity ?? 'error').toLowerCase();
  const errorIf = String(node.config.error_if ?? '!= 0');
  const warnIf = String(node.config.warn_if ?? '!= 0');
  let status: NodeStatus = 'pass';
  if (severity === 'error' && thresholdHit(errorIf, failures)) status = 'fail';
  else if (thresholdHit(warnIf, failures)) status = 'warn';
  const message =
    status === 'pass'
      ? 'pass'
      : `${status === 'fail' ? 'fail' : 'warn'}: ${failures} failing row${failures === 1 ? '' : 's'}`;
  return { status, rows: null, bytes: null, version: null, message, failures };
}

async function registerExisting(
  session: EngineSession,
  node: ManifestNode,
  table: TableHandle,
  state: StateStore,
  log: Logger,
): Promise<void> {
  const rel = node.relation;
  if (!rel) return;
  const name = `"${rel.schema.replaceAll('"', '""')}"."${rel.identifier.replaceAll('"', '""')}"`;
  try {
    const entry = await state.getCatalogEntry(`${rel.schema}.${rel.identifier}`);
    if (entry?.kind === 'view' && entry.sql) {
      await session.exec(`CREATE OR REPLACE VIEW ${name} AS ${entry.sql}`);
      return;
    }
    if (await table.exists()) {
      await session.exec(`CREATE OR REPLACE VIEW ${name} AS ${await table.scanSql()}`);
    }
  } catch (err) {
    log.warn('could not register upstream asset', {
      asset: `${rel.schema}.${rel.identifier}`,
      error: errorMessage(err),
    });
  }
}

/** In `build`, a model's children wait for its tests, so failing data never flows downstream. */
function withTestGates(manifest: Manifest, ids: readonly string[]): Graph {
  const selected = new Set(ids);
  const extra = new Map<string, string[]>();
  for (const id of ids) {
    const test = manifest.nodes.get(id);
    if (test?.resourceType !== 'test') continue;
    const severity = String(test.config.severity ?? 'error').toLowerCase();
    if (severity !== 'error') continue;
    const parents = test.dependsOn;
    const parentAncestors = new Set<string>();
    for (const p of parents) for (const a of manifest.graph.ancestors(p)) parentAncestors.add(a);
    for (const p of parents) {
      for (const child of manifest.graph.children(p)) {
        if (!selected.has(child) || child === id) continue;
        const c = manifest.nodes.get(child);
        if (!c || c.resourceType === 'test' || parentAncestors.has(child) || parents.includes(child))
          continue;
        const list = extra.get(child) ?? [];
        list.push(id);
        extra.set(child, list);
      }
    }
  }
  if (extra.size === 0) return manifest.graph;
  const nodes = [...manifest.nodes.values()].map((n) => {
    const more = extra.get(n.id);
    return more ? { ...n, dependsOn: [...n.dependsOn, ...more] } : n;
  });
  try {
    return Graph.build(nodes);
  } catch {
    return manifest.graph; // a gate that would close a cycle is dropped, as dbt does
  }
}

function nodeError(err: unknown, node: ManifestNode, compiled: string | undefined): WeirError {
  if (isWeirError(err)) {
    const sqlLine = (err as { sqlLine?: number }).sqlLine;
    if (err.code.startsWith('WEIR-E') && compiled !== undefined) {
      const templateLine = sqlLine !== undefined ? sourceLineFor(node.rawCode, compiled, sqlLine) : undefined;
      const line = templateLine !== undefined ? templateLine + node.lineOffset : node.at.line;
      return new WeirError(err.code, `${node.resourceType} ${node.name}: ${err.message}`, {
        at: { file: node.path, ...(line !== undefined ? { line } : {}) },
        node: node.id,
        cause: err,
        hint: err.hint ?? `see the compiled SQL with \`weir compile -s ${node.name}\``,
        ...(err.data ? { data: err.data } : {}),
      });
    }
    if (err.at) return err;
    return new WeirError(err.code, err.message, {
      at: node.at,
      node: node.id,
      cause: err,
      ...(err.hint ? { hint: err.hint } : {}),
    });
  }
  return new WeirError('WEIR-X001', `${node.name}: ${errorMessage(err)}`, {
    at: node.at,
    node: node.id,
    cause: err,
    hint: 'this is unexpected; rerun with --debug and report it with the stack trace',
  });
}

async function recordResult(state: StateStore, runId: string, r: NodeResult, startedAt: Date): Promise<void> {
  // startedAt: when the node started (skipped nodes never did).
  const record: NodeResultRecord = {
    runId,
    nodeId: r.nodeId,
    asset: r.asset,
    status: r.status,
    startedAt: r.status === 'skipped' ? null : startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round(r.durationMs),
    rows: r.rows,
    bytes: r.bytes,
    version: r.version,
    message: r.message,
    errorCode: r.error?.code ?? null,
  };
  await state.putNodeResult(record);
  await state.appendEvent({
    runId,
    nodeId: r.nodeId,
    ts: record.finishedAt ?? new Date().toISOString(),
    type: 'node_finished',
    data: {
      status: r.status,
      rows: r.rows,
      version: r.version,
      message: r.message,
      error_code: r.error?.code ?? null,
    },
  });
}
