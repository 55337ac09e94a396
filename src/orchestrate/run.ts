import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteLiteral, type Engine, type EngineSession } from '../core/engine.js';
import { WeirError, errorMessage, formatError, isWeirError } from '../core/errors.js';
import { Graph, type ResourceType } from '../core/graph.js';
import type { Logger } from '../core/logger.js';
import type { OrchestrationStore } from '../core/orchestration-store.js';
import { select } from '../core/selection.js';
import type { CatalogEntry, NodeResultRecord, NodeStatus, StateStore } from '../core/state-store.js';
import type { ObjectStore } from '../lake/object-store.js';
import type { Project } from '../project/types.js';
import { sourceLineFor, type TemplateEngine } from '../sql/index.js';
import { Compiler } from './compile.js';
import { EventBuffer } from './event-buffer.js';
import { RunCatalog } from './run-catalog.js';
import { newRunId, tablePathOf } from './run-ids.js';
import { assetName, targetContext, type Manifest, type ManifestNode } from './manifest.js';
import {
  executePlan,
  STEP_DESCRIPTOR_VERSION,
  type AttemptContext,
  type PartitionWindowJson,
  type PlanStep,
} from './pipeline/executor.js';
import type { StepPolicy } from './pipeline/policy.js';
import {
  materializeIncremental,
  materializeSnapshot,
  materializeTable,
  type MaterializeResult,
} from './materializations.js';
import { loadSeed } from './seed.js';
import { TableHandle, type BeforeCommit } from './table-handle.js';
import { TestRunner, type QualityGate } from './audit.js';

export { newRunId, tablePathOf };

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
  /**
   * For a built asset, what the query catalog's view of it selects: the view model's SQL, or a
   * scan of the snapshot just committed.
   */
  readonly catalogSql?: string;
}

export interface RunSummary {
  readonly runId: string;
  readonly command: RunCommand;
  readonly status: 'success' | 'failed' | 'cancelled';
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
  /** Use this run id; when the run exists already it is resumed: its succeeded steps are kept. */
  readonly runId?: string;
  /** Recorded as the run's command instead of `command` (a pipeline name). */
  readonly label?: string;
  /** Retry, timeout, trigger rule and pool of each node's step. */
  readonly policy?: (node: ManifestNode) => StepPolicy;
  /** Named pools and their sizes. */
  readonly pools?: Readonly<Record<string, number>>;
  /** TypeScript steps run after (or between) the selected nodes. */
  readonly customSteps?: readonly CustomStep[];
  /** Only these step ids (node ids or custom step ids) run: `weir runs retry`. */
  readonly only?: readonly string[];
  /** The partition this run builds: partitioned models replace exactly this window. */
  readonly partition?: PartitionWindowJson;
  readonly params?: Readonly<Record<string, unknown>>;
  /** Aborting it cancels the run (running queries are interrupted). */
  readonly signal?: AbortSignal;
}

/** What a TypeScript step receives. */
export interface CustomStepContext {
  /** A DuckDB session with every asset of the project readable as `schema.name`. */
  readonly session: EngineSession;
  readonly logger: Logger;
  readonly runId: string;
  readonly attempt: number;
  /** Aborted when the step times out or the run is cancelled. */
  readonly signal: AbortSignal;
  readonly params: Readonly<Record<string, unknown>>;
  readonly partition: PartitionWindowJson | null;
}

export interface CustomStep {
  /** Step id in the plan (unique among node ids): `step.<pipeline>.<name>`. */
  readonly id: string;
  readonly name: string;
  /** Plan steps (node ids or custom step ids) this step waits for. */
  readonly after: readonly string[];
  readonly policy?: StepPolicy;
  /** When set and the step returns an array of rows, they become this Delta table. */
  readonly output?: { readonly schema: string; readonly identifier: string };
  run(ctx: CustomStepContext): Promise<unknown>;
}

export interface RunDeps {
  readonly project: Project;
  readonly manifest: Manifest;
  readonly templates: TemplateEngine;
  readonly engine: Engine;
  /** Object store rooted at the lake. */
  readonly lake: ObjectStore;
  readonly state: StateStore;
  /** Attempts, cancel requests and heartbeats; without it attempts are not recorded. */
  readonly orchestration?: OrchestrationStore;
  readonly logger: Logger;
  readonly onEvent?: (event: RunEvent) => void;
  /** Write-audit-publish: checks run on a table's new files before its commit (quality layer). */
  readonly audit?: (node: ManifestNode, session: EngineSession) => BeforeCommit | undefined;
  /** Quality gate of the invocation: test nodes reuse its audit results (orchestrate/audit.ts). */
  readonly quality?: QualityGate;
  /** Ingestion of a source stream into the raw zone (ingest layer); sources it accepts join `build`. */
  readonly ingest?: SourceIngestor;
}

export interface SourceIngestor {
  /** Whether Weir loads this source itself (otherwise it is an external table that must exist). */
  handles(node: ManifestNode): boolean;
  run(
    node: ManifestNode,
    session: EngineSession,
    context: { runId: string; startedAt: Date },
  ): Promise<ExecOutcome>;
}

/**
 * Executes a selection of the manifest: nodes run in parallel as soon as their parents finish;
 * a failure skips the failed node's descendants while independent branches go on.
 */
export async function executeRun(deps: RunDeps, request: RunRequest): Promise<RunSummary> {
  const { project, manifest, engine, lake, state, logger } = deps;
  const resuming = request.runId !== undefined ? await state.getRun(request.runId) : undefined;
  const startedAt = resuming ? new Date(resuming.startedAt) : new Date();
  const runId = request.runId ?? newRunId(startedAt);
  const log = logger.child({ run_id: runId });
  const selection = select(manifest.graph, {
    ...(request.select ? { select: request.select } : {}),
    ...(request.exclude ? { exclude: request.exclude } : {}),
    resourceTypes:
      deps.ingest && request.command === 'build'
        ? [...COMMAND_TYPES.build, 'source']
        : COMMAND_TYPES[request.command],
  });
  const ingest = deps.ingest;
  const only = request.only ? new Set(request.only) : undefined;
  // Resuming a run (after its process died): what already succeeded in it is not run again.
  const done = new Set<string>();
  if (resuming) {
    for (const r of await state.listNodeResults(runId))
      if (r.status === 'success' || r.status === 'pass' || r.status === 'warn') done.add(r.nodeId);
  }
  const ids = selection.ids.filter((id) => {
    const n = manifest.nodes.get(id);
    if (only && !only.has(id)) return false;
    if (done.has(id)) return false;
    return n?.resourceType !== 'source' || (ingest !== undefined && ingest.handles(n));
  });
  const customSteps = (request.customSteps ?? []).filter((s) => (!only || only.has(s.id)) && !done.has(s.id));
  for (const w of selection.warnings) log.warn(w);

  const command = request.label ?? request.command;
  const events = new EventBuffer(state);
  if (resuming) {
    await state.updateRun(runId, { status: 'running', finishedAt: null, error: null });
    await events.appendEvent({
      runId,
      nodeId: null,
      ts: new Date().toISOString(),
      type: 'run_resumed',
      data: { done: [...done] },
    });
  } else {
    await state.createRun({
      runId,
      command,
      status: 'running',
      args: request.args ?? {},
      startedAt: startedAt.toISOString(),
      finishedAt: null,
      error: null,
    });
  }
  await events.appendEvent({
    runId,
    nodeId: null,
    ts: new Date().toISOString(),
    type: 'run_started',
    data: {
      command,
      steps: ids.length + customSteps.length,
      ...(request.partition ? { partition: request.partition.key } : {}),
    },
  });
  deps.onEvent?.({ type: 'run_started', runId, total: ids.length + customSteps.length });
  log.info('run started', { command, nodes: ids.length + customSteps.length });

  const catalog = RunCatalog.of(engine);
  const setup = await engine.session();
  const results = new Map<string, NodeResult>();
  let planStatus: 'success' | 'failed' | 'cancelled' = 'success';
  try {
    const tableOf = (node: ManifestNode, session: EngineSession, audited = false): TableHandle => {
      const rel = node.relation;
      if (!rel) throw new WeirError('WEIR-C003', `${node.id} has no relation`);
      const beforeCommit = audited ? deps.audit?.(node, session) : undefined;
      return new TableHandle(lake, tablePathOf(rel), project.weir.checkpointInterval, session, beforeCommit);
    };
    const schemas = new Set<string>();
    for (const n of manifest.nodes.values()) if (n.relation) schemas.add(n.relation.schema);
    for (const s of customSteps) if (s.output) schemas.add(s.output.schema);
    for (const s of [...schemas].sort())
      await catalog.run(() => setup.exec(`CREATE SCHEMA IF NOT EXISTS "${s.replaceAll('"', '""')}"`));

    // Make upstream assets that this run does not rebuild readable: views over their current
    // Delta snapshots, or the view SQL the catalog recorded when they were last built.
    const selected = new Set(ids);
    const upstream = new Set<string>();
    for (const id of ids) for (const a of manifest.graph.ancestors(id)) if (!selected.has(a)) upstream.add(a);
    for (const s of customSteps)
      for (const p of s.after)
        if (manifest.nodes.has(p) && !selected.has(p)) {
          upstream.add(p);
          for (const a of manifest.graph.ancestors(p)) if (!selected.has(a)) upstream.add(a);
        }
    for (const id of manifest.graph.topoOrder(upstream)) {
      const node = manifest.nodes.get(id);
      if (!node?.relation) continue;
      await registerExisting(setup, node, tableOf(node, setup), catalog, state, log);
    }

    const existsCache = new Map<string, boolean>();
    for (const id of ids) {
      const n = manifest.nodes.get(id);
      if (n?.resourceType === 'model' && n.config.materialized === 'incremental' && n.relation) {
        const exists = await tableOf(n, setup).exists();
        existsCache.set(id, exists);
        // `{{ this }}` reads the model's own current table.
        if (exists) await registerExisting(setup, n, tableOf(n, setup), catalog, state, log);
      }
    }
    const partition = request.partition;
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
      ...(partition
        ? {
            globals: {
              partition_key: partition.key,
              partition_start: partition.start ?? null,
              partition_end: partition.end ?? null,
            },
          }
        : {}),
    });

    const tests = new TestRunner(
      { manifest, ids, relationOf: (id) => compiler.relationOf(id).toString() },
      deps.quality,
    );
    const runGraph = request.command === 'build' ? withTestGates(manifest, ids) : manifest.graph;
    // Catalog entries of built assets, each written in one transaction with its node's result.
    const catalogEntries = new Map<string, CatalogEntry>();
    const finish = async (result: NodeResult): Promise<void> => {
      const node = manifest.nodes.get(result.nodeId);
      results.set(result.nodeId, result);
      const entry = catalogEntries.get(result.nodeId);
      catalogEntries.delete(result.nodeId);
      await recordResult(
        state,
        events,
        runId,
        result,
        new Date(Date.now() - result.durationMs),
        result.status === 'success' ? entry : undefined,
      );
      deps.onEvent?.({ type: 'node_finished', runId, ...(node ? { node } : {}), result });
    };
    const sessions: EngineSession[] = [];
    const takeSession = async (): Promise<EngineSession> => sessions.pop() ?? (await engine.session());
    const customById = new Map(customSteps.map((s) => [s.id, s]));

    const runNode = async (id: string, signal: AbortSignal): Promise<NodeResult> => {
      const node = manifest.nodes.get(id);
      if (!node) throw new WeirError('WEIR-C003', `unknown node ${id}`);
      const session = await takeSession();
      const onAbort = (): void => session.interrupt();
      signal.addEventListener('abort', onAbort, { once: true });
      const t0 = performance.now();
      let compiled: string | undefined;
      try {
        if (node.resourceType === 'source' && ingest) {
          const outcome = await ingest.run(node, session, { runId, startedAt });
          return {
            ...outcome,
            nodeId: id,
            name: node.name,
            resourceType: node.resourceType,
            asset: assetName(node),
            durationMs: performance.now() - t0,
          };
        }
        compiled = node.resourceType === 'seed' ? undefined : compiler.compile(node);
        const outcome = await executeNode(node, compiled, session, {
          table: node.relation ? tableOf(node, session, true) : undefined,
          catalog,
          runId,
          startedAt,
          fullRefresh: request.fullRefresh === true,
          project,
          ...(partition ? { partition } : {}),
          tests,
          catalogEntries,
        });
        return {
          ...outcome,
          nodeId: id,
          name: node.name,
          resourceType: node.resourceType,
          asset: assetName(node),
          durationMs: performance.now() - t0,
          ...(compiled ? { compiledSql: compiled } : {}),
        };
      } catch (err) {
        const error =
          signal.aborted && isWeirError(signal.reason) ? signal.reason : nodeError(err, node, compiled);
        return {
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
        signal.removeEventListener('abort', onAbort);
        sessions.push(session);
      }
    };

    const runCustom = async (step: CustomStep, ctx: AttemptContext): Promise<NodeResult> => {
      const session = await takeSession();
      const onAbort = (): void => session.interrupt();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const t0 = performance.now();
      const base = {
        nodeId: step.id,
        name: step.name,
        resourceType: 'step' as const,
        asset: step.output ? `${step.output.schema}.${step.output.identifier}` : null,
      };
      try {
        const returned = await step.run({
          session,
          logger: log.child({ step: step.id, attempt: ctx.attempt }),
          runId,
          attempt: ctx.attempt,
          signal: ctx.signal,
          params: request.params ?? {},
          partition: partition ?? null,
        });
        if (ctx.signal.aborted) throw ctx.signal.reason;
        if (step.output && Array.isArray(returned)) {
          const written = await writeRowsAsTable(
            step,
            returned as readonly Record<string, unknown>[],
            session,
            {
              lake,
              project,
              catalog,
              catalogEntries,
              runId,
              startedAt,
            },
          );
          return { ...base, ...written, durationMs: performance.now() - t0 };
        }
        return {
          ...base,
          status: 'success',
          rows: null,
          bytes: null,
          version: null,
          message: 'done',
          durationMs: performance.now() - t0,
        };
      } catch (err) {
        const error = isWeirError(err)
          ? err
          : new WeirError('WEIR-O020', `step ${step.name} failed: ${errorMessage(err)}`, {
              node: step.id,
              cause: err,
              hint: `fix the step function of '${step.name}' in its pipeline file, then \`weir runs retry ${runId}\``,
            });
        return {
          ...base,
          status: 'error',
          rows: null,
          bytes: null,
          version: null,
          message: formatError(error),
          error,
          durationMs: performance.now() - t0,
        };
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        sessions.push(session);
      }
    };

    const nodeParents = selectedParents(runGraph, ids);
    // A node reading a TypeScript step's output (declared as a source at the same schema.name)
    // waits for the step, so it sees what this run wrote.
    const producedBy = new Map<string, string>();
    for (const s of customSteps)
      if (s.output) producedBy.set(`${s.output.schema}.${s.output.identifier}`, s.id);
    for (const id of producedBy.size ? ids : []) {
      for (const p of manifest.graph.parents(id)) {
        const pn = manifest.nodes.get(p);
        const producer = pn && !selected.has(p) ? producedBy.get(assetName(pn) ?? '') : undefined;
        if (producer) nodeParents.set(id, [...(nodeParents.get(id) ?? []), producer]);
      }
    }
    const stepIds = new Set([...ids, ...customSteps.map((s) => s.id)]);
    const steps: PlanStep[] = [
      ...ids.map((id): PlanStep => {
        const node = manifest.nodes.get(id) as ManifestNode;
        return {
          id,
          parents: nodeParents.get(id) ?? [],
          descriptor: {
            v: STEP_DESCRIPTOR_VERSION,
            runId,
            stepId: id,
            kind: 'node',
            target: id,
            ...(request.label ? { pipeline: request.label } : {}),
            ...(partition ? { partition } : {}),
            policy: request.policy?.(node) ?? {},
          },
        };
      }),
      ...customSteps.map((s): PlanStep => ({
        id: s.id,
        parents: s.after.filter((p) => stepIds.has(p)),
        descriptor: {
          v: STEP_DESCRIPTOR_VERSION,
          runId,
          stepId: s.id,
          kind: 'custom',
          target: s.name,
          ...(request.label ? { pipeline: request.label } : {}),
          ...(partition ? { partition } : {}),
          ...(request.params ? { params: request.params } : {}),
          policy: s.policy ?? {},
        },
      })),
    ];

    const plan = await executePlan<NodeResult>({
      runId,
      steps,
      concurrency: Math.max(1, request.threads),
      ...(request.pools ? { pools: request.pools } : {}),
      events,
      ...(deps.orchestration ? { orchestration: deps.orchestration } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      launch: async (ctx) => {
        const custom = customById.get(ctx.descriptor.stepId);
        const result = custom
          ? await runCustom(custom, ctx)
          : await runNode(ctx.descriptor.target, ctx.signal);
        return {
          status: result.status === 'pending' || result.status === 'running' ? 'error' : result.status,
          value: result,
          ...(result.error ? { error: result.error } : {}),
        };
      },
      onStepStarted: async (step) => {
        const node = manifest.nodes.get(step.id);
        if (node) deps.onEvent?.({ type: 'node_started', runId, node });
        await events.appendEvent({
          runId,
          nodeId: step.id,
          ts: new Date().toISOString(),
          type: 'node_started',
          data: { step_id: step.id },
        });
      },
      onStepFinished: async (step, fin) => {
        if (fin.value && fin.status !== 'skipped') {
          await finish({
            ...fin.value,
            ...(fin.attempts > 1 ? { message: `${fin.value.message} (attempt ${fin.attempts})` } : {}),
          });
          return;
        }
        const node = manifest.nodes.get(step.id);
        const custom = customById.get(step.id);
        const result: NodeResult = {
          nodeId: step.id,
          name: node?.name ?? custom?.name ?? step.id,
          resourceType: node?.resourceType ?? 'step',
          asset: node ? assetName(node) : null,
          status: fin.status === 'skipped' ? 'skipped' : 'error',
          durationMs: 0,
          rows: null,
          bytes: null,
          version: null,
          message: fin.skipReason ? `skipped: ${fin.skipReason}` : errorMessage(fin.error ?? 'failed'),
          ...(isWeirError(fin.error) ? { error: fin.error } : {}),
        };
        if (fin.status !== 'skipped') {
          // finish() records it and tells onEvent, once.
          await finish(result);
          return;
        }
        results.set(step.id, result);
        deps.onEvent?.({ type: 'node_finished', runId, ...(node ? { node } : {}), result });
      },
    });
    planStatus = plan.status;
    for (const s of sessions) s.close();
  } catch (err) {
    await events.flush().catch(() => undefined);
    throw err;
  } finally {
    setup.close();
  }

  for (const r of results.values())
    if (r.status === 'skipped') await recordResult(state, events, runId, r, startedAt);
  const order = [...ids, ...customSteps.map((s) => s.id)];
  const ordered = order.map((id) => results.get(id)).filter((r): r is NodeResult => r !== undefined);
  const failedCount = ordered.filter((r) => r.status === 'error' || r.status === 'fail').length;
  const status: RunSummary['status'] =
    planStatus === 'cancelled' ? 'cancelled' : planStatus === 'failed' ? 'failed' : 'success';
  const summary: RunSummary = {
    runId,
    command: request.command,
    status,
    results: ordered,
    startedAt,
    elapsedMs: Date.now() - startedAt.getTime(),
    warnings: selection.warnings,
  };
  // The node events are in the store before the run's status says it is over.
  await events.flush();
  await state.updateRun(runId, {
    status,
    finishedAt: new Date().toISOString(),
    error:
      status === 'cancelled' ? 'cancelled' : status === 'failed' ? `${failedCount} node(s) failed` : null,
  });
  await events.appendEvent({
    runId,
    nodeId: null,
    ts: new Date().toISOString(),
    type: 'run_finished',
    data: { status },
  });
  await events.flush();
  log.info('run finished', { status: summary.status, elapsed_ms: summary.elapsedMs });
  deps.onEvent?.({ type: 'run_finished', runId, summary });
  return summary;
}

/**
 * For each selected node, its nearest selected ancestors (looking through unselected ones), so a
 * plan step waits for what the DAG runner would have made it wait for.
 */
function selectedParents(graph: Graph, ids: readonly string[]): Map<string, string[]> {
  const selected = new Set(ids);
  const memo = new Map<string, readonly string[]>();
  const nearest = (id: string, seen: Set<string>): readonly string[] => {
    const cached = memo.get(id);
    if (cached) return cached;
    const found = new Set<string>();
    for (const p of graph.parents(id)) {
      if (selected.has(p)) found.add(p);
      else if (!seen.has(p)) {
        seen.add(p);
        for (const q of nearest(p, seen)) found.add(q);
      }
    }
    const list = [...found];
    memo.set(id, list);
    return list;
  };
  const out = new Map<string, string[]>();
  for (const id of ids) {
    const found = new Set<string>();
    for (const p of graph.parents(id)) {
      if (selected.has(p)) found.add(p);
      else for (const q of nearest(p, new Set([p]))) found.add(q);
    }
    out.set(id, [...found]);
  }
  return out;
}

async function writeRowsAsTable(
  step: CustomStep,
  rows: readonly Record<string, unknown>[],
  session: EngineSession,
  deps: {
    lake: ObjectStore;
    project: Project;
    catalog: RunCatalog;
    catalogEntries: Map<string, CatalogEntry>;
    runId: string;
    startedAt: Date;
  },
): Promise<ExecOutcome> {
  const out = step.output as { schema: string; identifier: string };
  const table = new TableHandle(deps.lake, tablePathOf(out), deps.project.weir.checkpointInterval, session);
  const dir = await mkdtemp(join(tmpdir(), 'weir-rows-'));
  try {
    const file = join(dir, 'rows.ndjson');
    await writeFile(
      file,
      rows
        .map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
        .join('\n'),
    );
    const sql = rows.length
      ? `SELECT * FROM read_json_auto(${quoteLiteral(file)}, format = 'newline_delimited')`
      : 'SELECT NULL AS empty WHERE false';
    const { files, columns } = await table.write(session, sql);
    const version = await table.overwrite(files, columns, {
      operation: 'CREATE OR REPLACE TABLE',
      operationParameters: { step: step.name },
    });
    const scan = await table.scanSql();
    await deps.catalog.defineView(session, out, scan);
    deps.catalogEntries.set(step.id, {
      asset: `${out.schema}.${out.identifier}`,
      nodeId: step.id,
      kind: 'table',
      location: table.location,
      sql: null,
      updatedAt: new Date().toISOString(),
      runId: deps.runId,
    });
    const written = files.reduce((a, f) => ({ rows: a.rows + f.rows, bytes: a.bytes + f.bytes }), {
      rows: 0,
      bytes: 0,
    });
    return {
      status: 'success',
      ...written,
      version,
      message: `step table: ${written.rows} rows`,
      catalogSql: scan,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface ExecDeps {
  readonly table: TableHandle | undefined;
  readonly catalog: RunCatalog;
  readonly runId: string;
  readonly startedAt: Date;
  readonly fullRefresh: boolean;
  readonly project: Project;
  readonly partition?: PartitionWindowJson;
  readonly tests: TestRunner;
  /** Where a node leaves its asset's catalog entry, written with its result (see recordResult). */
  readonly catalogEntries: Map<string, CatalogEntry>;
}

export type ExecOutcome = Pick<
  NodeResult,
  'status' | 'rows' | 'bytes' | 'version' | 'message' | 'failures' | 'catalogSql'
>;

async function executeNode(
  node: ManifestNode,
  sql: string | undefined,
  session: EngineSession,
  deps: ExecDeps,
): Promise<ExecOutcome> {
  if (node.resourceType === 'test') return deps.tests.run(node, sql ?? '', session);
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
  if (materialized === 'view') {
    await deps.catalog.defineView(session, rel, sql ?? '');
    deps.catalogEntries.set(node.id, {
      asset,
      nodeId: node.id,
      kind: 'view',
      location: null,
      sql: sql ?? null,
      updatedAt: new Date().toISOString(),
      runId: deps.runId,
    });
    return {
      status: 'success',
      rows: null,
      bytes: null,
      version: null,
      message: 'view created',
      ...(sql !== undefined ? { catalogSql: sql } : {}),
    };
  }
  if (!table) throw new WeirError('WEIR-C003', `${node.id} has no table`);
  const ctx = {
    node,
    sql: sql ?? '',
    session,
    table,
    runStartedAt: deps.startedAt,
    fullRefresh: deps.fullRefresh,
    ...(deps.partition ? { partition: deps.partition } : {}),
  };
  let result: MaterializeResult;
  switch (materialized) {
    case 'table':
      result = await materializeTable({ ...ctx, inMemory: { catalog: deps.catalog, relation: rel } });
      break;
    case 'incremental':
      result = await materializeIncremental(ctx);
      break;
    case 'snapshot':
      result = await materializeSnapshot(ctx);
      break;
    case 'seed':
      result = await loadSeed({ ...ctx, inMemory: { catalog: deps.catalog, relation: rel } });
      break;
    default:
      throw new WeirError('WEIR-M001', `unknown materialization '${materialized}'`, {
        node: node.id,
        at: node.at,
        hint: 'use view, table, incremental or ephemeral',
      });
  }
  const scan = await table.scanSql();
  if (!result.inMemory) await deps.catalog.defineView(session, rel, scan);
  deps.catalogEntries.set(node.id, {
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
    catalogSql: scan,
  };
}

async function registerExisting(
  session: EngineSession,
  node: ManifestNode,
  table: TableHandle,
  catalog: RunCatalog,
  state: StateStore,
  log: Logger,
): Promise<void> {
  const rel = node.relation;
  if (!rel) return;
  try {
    const entry = await state.getCatalogEntry(`${rel.schema}.${rel.identifier}`);
    if (entry?.kind === 'view' && entry.sql) {
      await catalog.defineView(session, rel, entry.sql);
      return;
    }
    if (await table.exists()) await catalog.defineView(session, rel, await table.scanSql());
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

async function recordResult(
  state: StateStore,
  events: EventBuffer,
  runId: string,
  r: NodeResult,
  startedAt: Date,
  catalogEntry?: CatalogEntry,
): Promise<void> {
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
  await state.putNodeResult(record, catalogEntry);
  await events.appendEvent({
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
