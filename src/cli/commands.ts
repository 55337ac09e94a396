import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rename } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { packageRoot } from '../core/package-root.js';
import pc from 'picocolors';
import type { EngineSession, QueryResult } from '../core/engine.js';
import type { Logger } from '../core/logger.js';
import { WeirError } from '../core/errors.js';
import { createLogger } from '../observe/logger.js';
import { writeManifestJson, writeRunResultsJson } from '../orchestrate/artifacts.js';
import { assetName } from '../orchestrate/manifest.js';
import { CatalogPublisher, viewStatements } from '../orchestrate/query-catalog.js';
import { executeRun, type NodeResult, type RunCommand, type RunEvent } from '../orchestrate/run.js';
import { TableHandle } from '../orchestrate/table-handle.js';
import { QualityGate, validateChecks } from '../orchestrate/audit.js';
import type { HistoryEntry } from '../lake/delta/operations/history.js';
import { formatDuration, formatValue, jsonReplacer, out, renderTable, warnLine } from './format.js';
import { Progress, summaryLines } from './progress.js';
import type * as RuntimeModuleNs from './runtime.js';
import type { Runtime } from './runtime.js';
import { lowerWorkerThreadPriority } from './thread-priority.js';
import { threadsFor } from './threads.js';
import { openWorkspace, type CommonOptions, type Workspace } from './workspace.js';
import { makeSourceIngestor } from './commands-ingest.js';
import {
  collectCheckResults,
  openQualityStore,
  printCheckResults,
  projectContracts,
  qualityClock,
  resultFormat,
  resultRows,
} from './commands-quality.js';

type RuntimeModule = typeof RuntimeModuleNs;

/** DuckDB and SQLite load only for commands that need them. */
const runtime = (): Promise<RuntimeModule> => import('./runtime.js');

function makeLogger(opts: CommonOptions): Logger {
  const format = opts.logFormat ?? 'text';
  return createLogger({
    format,
    level: opts.debug ? 'debug' : format === 'json' ? 'info' : 'warn',
    write: (line) => (format === 'json' ? process.stdout.write(line) : process.stderr.write(line)),
  });
}

export async function commandInit(dir: string, opts: { force?: boolean }): Promise<void> {
  const target = resolve(dir);
  if (existsSync(target) && (await readdir(target)).length > 0 && !opts.force) {
    throw new WeirError('WEIR-U002', `${dir} exists and is not empty`, {
      hint: 'choose a new folder name, or pass --force to write into it',
    });
  }
  const template = join(packageRoot(), 'templates', 'ecommerce');
  await mkdir(target, { recursive: true });
  await cp(template, target, { recursive: true, force: true });
  if (existsSync(join(target, '_gitignore')))
    await rename(join(target, '_gitignore'), join(target, '.gitignore'));
  out(`Created an example e-commerce project in ${relative(process.cwd(), target) || '.'}`);
  out(`Next: cd ${dir} && weir build`);
}

export async function commandRun(
  command: RunCommand,
  opts: CommonOptions & { threads?: number; fullRefresh?: boolean },
): Promise<void> {
  const logger = makeLogger(opts);
  // DuckDB loads and opens while the project is parsed.
  const engine = runtime().then((m) => m.openEngine(logger));
  engine.catch(() => undefined);
  let ws: Workspace;
  try {
    ws = await openWorkspace(opts, warnLine);
  } catch (err) {
    await (await runtime()).closeStarted(engine);
    throw err;
  }
  const { project, manifest } = ws;
  const threads = threadsFor(project, opts.threads);
  const rt = await (await runtime()).openRuntime(project, logger, undefined, engine);
  let closeQualityStore = async (): Promise<void> => {};
  let catalog: RunCatalogWriter | undefined;
  try {
    const json = opts.logFormat === 'json';
    // With --output json|junit stdout carries only the results document; progress goes to stderr.
    const results = command === 'test' || command === 'build' ? resultFormat(opts.output) : undefined;
    const progressOut = results === 'json' || results === 'junit' ? process.stderr : process.stdout;
    const progress = json ? undefined : new Progress(progressOut, progressOut.isTTY === true);
    // The next query catalog is written while the run goes on (not after it).
    catalog = command === 'test' ? undefined : await openCatalog(ws, rt, logger);
    // The engines' threads and libuv's pool exist now: they yield to the main thread.
    lowerWorkerThreadPriority();
    const publishing = catalog;
    const onEvent = (e: RunEvent): void => {
      if (e.type === 'run_started') quality.runId = e.runId;
      if (publishing && e.type === 'node_finished' && e.result?.status === 'success')
        publishing.add(e.result);
      progress?.handle(e);
      if (json && e.type === 'node_finished' && e.result) {
        const r = e.result;
        const log = logger.child({ run_id: e.runId });
        const fields = {
          node: r.nodeId,
          asset: r.asset,
          status: r.status,
          duration_ms: Math.round(r.durationMs),
          rows: r.rows,
          version: r.version,
          ...(r.error ? { error_code: r.error.code, error: r.message } : {}),
        };
        if (r.status === 'error' || r.status === 'fail') log.error('node finished', fields);
        else log.info('node finished', fields);
      }
    };
    const args = {
      command,
      select: opts.select ?? [],
      exclude: opts.exclude ?? [],
      full_refresh: opts.fullRefresh === true,
      threads,
    };
    validateChecks(manifest);
    const contracts = await projectContracts(project, manifest, warnLine);
    const qualityStore = await openQualityStore(project);
    closeQualityStore = () => qualityStore.close();
    const quality = new QualityGate({
      manifest,
      lake: rt.lake,
      state: rt.state,
      logger,
      checkpointInterval: project.weir.checkpointInterval,
      extraChecks: contracts.checksFor,
      store: qualityStore,
      now: qualityClock(),
    });
    const collected = collectCheckResults(quality);
    const summary = await executeRun(
      {
        ...ws,
        engine: rt.engine,
        lake: rt.lake,
        state: rt.state,
        logger,
        onEvent,
        audit: quality.audit,
        quality,
        ingest: await makeSourceIngestor(ws.project, ws.env, rt, logger),
      },
      {
        command,
        ...(opts.select ? { select: opts.select } : {}),
        ...(opts.exclude ? { exclude: opts.exclude } : {}),
        fullRefresh: opts.fullRefresh === true,
        threads,
        vars: ws.vars,
        env: ws.env,
        args,
      },
    );
    const targetDir = join(project.root, project.paths.target);
    const compiled = new Map(
      summary.results.filter((r) => r.compiledSql !== undefined).map((r) => [r.nodeId, r.compiledSql ?? '']),
    );
    // Independent of each other: the catalog's last views go in while the artifacts are written.
    await Promise.all([
      writeManifestJson(targetDir, manifest, summary.runId, compiled),
      writeRunResultsJson(targetDir, summary, args),
      catalog?.finish(),
    ]);
    if (results)
      printCheckResults({
        command,
        format: results,
        runId: summary.runId,
        rows: await resultRows(manifest, summary.results, collected),
        write: out,
      });
    const summaryOut =
      progressOut === process.stdout ? out : (text: string) => process.stderr.write(`${text}\n`);
    if (!json)
      for (const line of summaryLines(summary.results, summary.elapsedMs, opts.debug === true))
        summaryOut(line);
    process.exitCode = summary.status === 'success' ? 0 : 1;
  } finally {
    await catalog?.abandon();
    await closeQualityStore();
    await rt.close();
  }
}

interface RunCatalogWriter {
  add(result: NodeResult): void;
  finish(): Promise<void>;
  abandon(): Promise<void>;
}

/**
 * The query catalog a run publishes: started from the current one (or from every asset the
 * state store knows), fed each asset as its node succeeds, renamed into place by `finish`.
 */
async function openCatalog(ws: Workspace, rt: Runtime, logger: Logger): Promise<RunCatalogWriter> {
  await mkdir(dirname(ws.project.target.catalogPath), { recursive: true });
  const publisher = await CatalogPublisher.open({
    catalogPath: ws.project.target.catalogPath,
    // One thread: it only binds views, and the run's engine needs the cores.
    openFileEngine: async (path) => (await runtime()).createDuckDbEngine({ path, threads: 1 }),
    logger,
  });
  // Reads Delta logs for assets whose result does not carry their view's SQL.
  const session = await rt.engine.session();
  const statementsOf = (assets?: ReadonlySet<string>) => async (): Promise<readonly string[]> => {
    const entries = await rt.state.listCatalog();
    return viewStatements({
      entries: assets ? entries.filter((e) => assets.has(e.asset)) : entries,
      order: assetOrder(ws),
      lake: rt.lake,
      checkpointInterval: ws.project.weir.checkpointInterval,
      session,
    });
  };
  if (!publisher.copied) publisher.addStatements(statementsOf());
  let open = true;
  const close = async (how: 'finish' | 'abandon'): Promise<void> => {
    if (!open) return;
    open = false;
    try {
      await (how === 'finish' ? publisher.finish() : publisher.abandon());
    } finally {
      session.close();
    }
  };
  return {
    add: (r) => {
      if (r.asset === null) return;
      if (r.catalogSql !== undefined) publisher.addView(r.asset, r.catalogSql);
      else publisher.addStatements(statementsOf(new Set([r.asset])));
    },
    finish: () => close('finish'),
    abandon: () => close('abandon'),
  };
}

function assetOrder(ws: Workspace): string[] {
  return ws.manifest.graph
    .topoOrder()
    .map((id) => ws.manifest.nodes.get(id))
    .map((n) => (n ? assetName(n) : null))
    .filter((a): a is string => a !== null);
}

/** Resolves `schema.name`, a model/seed/snapshot name, or `source.table`. */
export function resolveAsset(ws: Workspace, text: string): string {
  for (const n of ws.manifest.nodes.values()) if (assetName(n) === text) return text;
  const id = ws.manifest.byName.get(text) ?? ws.manifest.sourcesByName.get(text);
  const node = id ? ws.manifest.nodes.get(id) : undefined;
  const name = node ? assetName(node) : null;
  if (name) return name;
  if (text.includes('.')) return text;
  const candidates = [...ws.manifest.nodes.values()]
    .map((n) => assetName(n))
    .filter((a): a is string => a !== null);
  throw new WeirError('WEIR-U004', `no asset named '${text}'`, {
    hint: `assets look like schema.name; for example: ${candidates.slice(0, 5).join(', ')}`,
  });
}

export async function withQuerySession<T>(
  ws: Workspace,
  opts: CommonOptions,
  fn: (q: (sql: string) => Promise<QueryResult>, rt: Runtime, session: EngineSession) => Promise<T>,
): Promise<T> {
  const logger = makeLogger(opts);
  const rt = await (await runtime()).openRuntime(ws.project, logger);
  const session = await rt.engine.session();
  try {
    const statements = await viewStatements({
      entries: await rt.state.listCatalog(),
      order: assetOrder(ws),
      lake: rt.lake,
      checkpointInterval: ws.project.weir.checkpointInterval,
      session,
    });
    for (const sql of statements) {
      try {
        await session.exec(sql);
      } catch (err) {
        logger.warn('asset not queryable', { error: (err as Error).message });
      }
    }
    return await fn((sql) => session.query(sql), rt, session);
  } finally {
    session.close();
    await rt.close();
  }
}

/** `probed`: the query asked for one row more than the limit only to learn whether there are more. */
function printRows(result: QueryResult, output: string | undefined, limit: number, probed = false): void {
  const rows = result.rows.slice(0, limit);
  if (output === 'json') {
    for (const r of rows) out(JSON.stringify(r, jsonReplacer));
    return;
  }
  out(
    renderTable(
      result.columns.map((c) => c.name),
      rows,
    ),
  );
  out(
    pc.dim(
      result.rows.length > limit
        ? probed
          ? `first ${limit} rows (there are more)`
          : `first ${limit} of ${result.rows.length} rows`
        : `${result.rows.length} row${result.rows.length === 1 ? '' : 's'}`,
    ),
  );
}

export async function commandShow(
  text: string,
  opts: CommonOptions & { limit: number; version?: number },
): Promise<void> {
  const ws = await openWorkspace(opts, warnLine);
  const asset = resolveAsset(ws, text);
  await withQuerySession(ws, opts, async (query, rt, session) => {
    const [schema = '', name = ''] = [
      asset.slice(0, asset.indexOf('.')),
      asset.slice(asset.indexOf('.') + 1),
    ];
    let from = `"${schema}"."${name}"`;
    if (opts.version !== undefined) {
      const table = new TableHandle(
        rt.lake,
        `${schema}/${name}`,
        ws.project.weir.checkpointInterval,
        session,
      );
      from = `(${await table.scanSqlAt(opts.version)})`;
    } else if (!(await rt.state.getCatalogEntry(asset))) {
      throw new WeirError('WEIR-U005', `${asset} has not been built yet`, {
        hint: `run \`weir build -s ${name}\``,
      });
    }
    if (opts.output !== 'json') {
      const entry = await rt.state.getCatalogEntry(asset);
      const node = [...ws.manifest.nodes.values()].find((n) => assetName(n) === asset);
      const cols = await session.describe(`SELECT * FROM ${from}`);
      const table = new TableHandle(
        rt.lake,
        `${schema}/${name}`,
        ws.project.weir.checkpointInterval,
        session,
      );
      const versions = entry?.kind !== 'view' && (await table.exists()) ? await table.history(1) : [];
      const label = (id: string): string => {
        const n = ws.manifest.nodes.get(id);
        return n ? (assetName(n) ?? n.name) : id;
      };
      out(
        pc.bold(asset) +
          pc.dim(
            ` ${entry?.kind ?? 'asset'}${versions[0] ? `, Delta version ${versions[0].version}` : ''}${entry?.location ? ` at ${entry.location}` : ''}`,
          ),
      );
      if (node?.description) out(node.description);
      out(`columns: ${cols.map((c) => `${c.name} ${c.type.toLowerCase()}`).join(', ')}`);
      if (node) {
        const parents = ws.manifest.graph.parents(node.id).map(label);
        const children = ws.manifest.graph.children(node.id);
        const checks = children.filter((c) => ws.manifest.nodes.get(c)?.resourceType === 'test').map(label);
        const downstream = children
          .filter((c) => ws.manifest.nodes.get(c)?.resourceType !== 'test')
          .map(label);
        out(`upstream: ${parents.join(', ') || '-'}`);
        out(`downstream: ${downstream.join(', ') || '-'}`);
        out(`checks: ${checks.join(', ') || '-'}`);
      }
      out('');
    }
    printRows(
      await query(`SELECT * FROM ${from} LIMIT ${Math.max(0, opts.limit) + 1}`),
      opts.output,
      opts.limit,
      true,
    );
  });
}

export async function commandQuery(sql: string, opts: CommonOptions & { limit: number }): Promise<void> {
  const ws = await openWorkspace(opts, warnLine);
  await withQuerySession(ws, opts, async (query) => {
    printRows(await query(sql), opts.output, opts.limit);
  });
}

export async function commandRuns(
  runId: string | undefined,
  opts: CommonOptions & { limit?: number },
): Promise<void> {
  const ws = await openWorkspace(opts, warnLine);
  const state = await (await runtime()).openStateOnly(ws.project, makeLogger(opts));
  try {
    if (!runId) {
      const runs = await state.listRuns({ limit: opts.limit ?? 20 });
      if (opts.output === 'json') {
        for (const r of runs) out(JSON.stringify(r));
        return;
      }
      out(
        renderTable(
          ['run_id', 'command', 'status', 'started_at', 'duration', 'error'],
          runs.map((r) => ({
            ...r,
            duration: r.finishedAt ? formatDuration(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : '',
          })),
          { maxWidth: 60 },
        ),
      );
      return;
    }
    const run = await state.getRun(runId);
    if (!run) {
      const recent = (await state.listRuns({ limit: 3 })).map((r) => r.runId);
      throw new WeirError('WEIR-U006', `no run '${runId}'`, {
        hint: recent.length ? `recent runs: ${recent.join(', ')}` : 'no runs yet',
      });
    }
    const nodes = await state.listNodeResults(runId);
    if (opts.output === 'json') {
      out(JSON.stringify({ run, nodes, events: await state.listEvents(runId) }, jsonReplacer));
      return;
    }
    out(
      `${pc.bold(run.runId)} ${run.command} ${run.status} started ${run.startedAt}${run.error ? ` (${run.error})` : ''}`,
    );
    out(
      renderTable(['nodeId', 'status', 'durationMs', 'rows', 'version', 'message'], nodes, { maxWidth: 70 }),
    );
  } finally {
    await state.close();
  }
}

export async function commandHistory(text: string, opts: CommonOptions & { limit: number }): Promise<void> {
  const ws = await openWorkspace(opts, warnLine);
  const asset = resolveAsset(ws, text);
  const logger = makeLogger(opts);
  const rt = await (await runtime()).openRuntime(ws.project, logger);
  const session = await rt.engine.session();
  try {
    const runs = await rt.state.nodeHistory(asset, opts.limit);
    const table = new TableHandle(
      rt.lake,
      asset.replace('.', '/'),
      ws.project.weir.checkpointInterval,
      session,
    );
    const versions = (await table.exists()) ? await table.history(opts.limit) : [];
    if (opts.output === 'json') {
      out(JSON.stringify({ asset, runs, versions }, jsonReplacer));
      return;
    }
    out(pc.bold(`${asset}: builds`));
    out(renderTable(['runId', 'status', 'durationMs', 'rows', 'version', 'message'], runs, { maxWidth: 60 }));
    if (versions.length) {
      out('');
      out(pc.bold(`${asset}: Delta versions`));
      out(
        renderTable(
          ['version', 'timestamp', 'operation', 'parameters'],
          versions.map((v: HistoryEntry) => ({
            ...v,
            timestamp: v.timestamp ? new Date(v.timestamp).toISOString() : null,
            parameters: formatValue(v.operationParameters ?? {}),
          })),
          { maxWidth: 60 },
        ),
      );
    }
  } finally {
    session.close();
    await rt.close();
  }
}
