import { threadsFor } from './threads.js';
import type { Command } from 'commander';
import pc from 'picocolors';
import { WeirError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { OrchestrationStore } from '../core/orchestration-store.js';
import type { StateStore } from '../core/state-store.js';
import { createLogger, type LogFormat } from '../observe/logger.js';
import type { PipelineSpec } from '../orchestrate/pipeline/load-pipelines.js';
import type { PipelineRunOptions, RunOutcomeNotice } from '../orchestrate/pipeline/run-pipeline.js';
import type { RunSummary } from '../orchestrate/run.js';
import { formatDuration, jsonReplacer, renderTable } from './format.js';
import type { Runtime } from './runtime.js';
import type { ProjectOptions, Workspace } from './workspace.js';

/** Modules loaded when a command runs, not when the program is declared (`weir --version` stays fast). */
async function mods() {
  const [workspace, pipelines, runPipelineMod, backfill, partitions, daemon, sqlite, progress, runtime] =
    await Promise.all([
      import('./workspace.js'),
      import('../orchestrate/pipeline/load-pipelines.js'),
      import('../orchestrate/pipeline/run-pipeline.js'),
      import('../orchestrate/partitions/backfill.js'),
      import('../orchestrate/partitions/partitions.js'),
      import('../orchestrate/scheduler/daemon.js'),
      import('../state/sqlite/sqlite-orchestration-store.js'),
      import('./progress.js'),
      import('./runtime.js'),
    ]);
  return {
    ...workspace,
    ...pipelines,
    ...runPipelineMod,
    ...backfill,
    ...partitions,
    ...daemon,
    ...sqlite,
    ...progress,
    ...runtime,
  };
}

/**
 * Orchestration commands: pipelines, backfills, partitions, run control, logs and the daemon.
 * Registered from main.ts; this module loads only when one of them runs.
 */
interface Opts extends ProjectOptions {
  readonly logFormat?: LogFormat;
  readonly debug?: boolean;
  readonly output?: string;
}

const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};
const warn = (text: string): void => {
  process.stderr.write(`${pc.yellow(text)}\n`);
};

function loggerOf(opts: Opts): Logger {
  const format = opts.logFormat ?? 'text';
  return createLogger({
    format,
    level: opts.debug ? 'debug' : format === 'json' ? 'info' : 'warn',
    write: (line) => (format === 'json' ? process.stdout.write(line) : process.stderr.write(line)),
  });
}

interface Ctx {
  readonly ws: Workspace;
  readonly rt: Runtime;
  readonly orch: OrchestrationStore;
  readonly logger: Logger;
  readonly pipelines: PipelineSpec[];
  close(): Promise<void>;
}

async function open(opts: Opts): Promise<Ctx> {
  const m = await mods();
  const logger = loggerOf(opts);
  const ws = await m.openWorkspace(opts, warn);
  const pipelines = await m.loadPipelines(ws.project.root);
  const rt = await (await import('./runtime.js')).openRuntime(ws.project, logger);
  const orch = await m.openSqliteOrchestrationStore(ws.project.weir.state.path);
  return {
    ws,
    rt,
    orch,
    logger,
    pipelines,
    async close() {
      await orch.close();
      await rt.close();
    },
  };
}

async function openState(
  opts: Opts,
): Promise<{ state: StateStore; orch: OrchestrationStore; ws: Workspace; close(): Promise<void> }> {
  const m = await mods();
  const ws = await m.openWorkspace(opts, warn);
  const state = await (await import('./runtime.js')).openStateOnly(ws.project, loggerOf(opts));
  const orch = await m.openSqliteOrchestrationStore(ws.project.weir.state.path);
  return {
    state,
    orch,
    ws,
    async close() {
      await orch.close();
      await state.close();
    },
  };
}

async function notifierFor(ctx: Ctx): Promise<((n: RunOutcomeNotice) => Promise<void>) | undefined> {
  if (!ctx.pipelines.some((p) => p.alerts.length > 0)) return undefined;
  const { alertsFor } = await import('../observe/alerts/notify.js');
  return (n) =>
    alertsFor(
      n.pipeline.alerts,
      ctx.ws.env,
      ctx.logger,
    )({
      pipeline: n.pipeline.name,
      runId: n.summary.runId,
      status: n.summary.status,
      partition: n.partition,
      exhausted: n.exhausted,
      failures: n.summary.results
        .filter((r) => r.status === 'error' || r.status === 'fail')
        .map((r) => ({
          step: r.nodeId,
          where: r.error?.at ? `${r.error.at.file}${r.error.at.line ? `:${r.error.at.line}` : ''}` : r.nodeId,
          error: r.message,
        })),
    });
}

async function runOne(
  ctx: Ctx,
  spec: PipelineSpec,
  options: Partial<PipelineRunOptions>,
): Promise<RunSummary> {
  const m = await mods();
  const notify = await notifierFor(ctx);
  return m.runPipeline(
    {
      ...ctx.ws,
      engine: ctx.rt.engine,
      lake: ctx.rt.lake,
      state: ctx.rt.state,
      orchestration: ctx.orch,
      logger: ctx.logger,
      ...(notify ? { notify } : {}),
    },
    spec,
    { threads: threadsFor(ctx.ws.project), vars: ctx.ws.vars, env: ctx.ws.env, ...options },
  );
}

function parseParams(list: readonly string[] | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0)
      throw new WeirError('WEIR-O008', `--param '${item}' is not key=value`, {
        hint: 'e.g. --param region=eu',
      });
    params[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return params;
}

export async function commandPipelineList(opts: Opts): Promise<void> {
  const m = await mods();
  const ws = await m.openWorkspace(opts, warn);
  const specs = await m.loadPipelines(ws.project.root);
  if (opts.output === 'json') {
    for (const s of specs)
      out(JSON.stringify({ ...s, steps: s.steps.map((x) => ({ ...x, run: undefined })) }));
    return;
  }
  out(
    renderTable(
      ['name', 'file', 'select', 'schedule', 'partitions', 'sensors', 'steps'],
      specs.map((s) => ({
        name: s.name,
        file: s.file,
        select: s.select.join(' '),
        schedule: s.schedule
          ? `${s.schedule.cron} ${s.schedule.timezone}${s.schedule.catchup ? ' catchup' : ''}`
          : '',
        partitions: s.partitions
          ? s.partitions.kind === 'static'
            ? `static(${s.partitions.keys.length})`
            : `${s.partitions.granularity} from ${s.partitions.start}`
          : '',
        sensors: s.sensors.map((x) => `${x.name} (${x.kind})`).join(', '),
        steps: s.steps.map((x) => x.name).join(', '),
      })),
    ),
  );
}

export async function commandPipelineRun(
  name: string,
  opts: Opts & { partition?: string; param?: string[]; fullRefresh?: boolean },
): Promise<void> {
  const m = await mods();
  const ctx = await open(opts);
  try {
    const spec = m.findPipeline(ctx.pipelines, name);
    const summary = await runOne(ctx, spec, {
      ...(opts.partition ? { partitionKey: opts.partition } : {}),
      params: parseParams(opts.param),
      fullRefresh: opts.fullRefresh === true,
    });
    if (opts.logFormat !== 'json')
      for (const line of m.summaryLines(summary.results, summary.elapsedMs, opts.debug === true)) out(line);
    out(`run ${summary.runId}: ${summary.status}`);
    process.exitCode = summary.status === 'success' ? 0 : 1;
  } finally {
    await ctx.close();
  }
}

export async function commandBackfill(
  name: string,
  opts: Opts & { from?: string; to?: string; parallel?: string; force?: boolean },
): Promise<void> {
  const m = await mods();
  const ctx = await open(opts);
  try {
    const spec = m.findPipeline(ctx.pipelines, name);
    const plan = await m.planBackfill(ctx.orch, spec, {
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.to ? { to: opts.to } : {}),
      force: opts.force === true,
    });
    out(
      `backfill ${spec.name}: ${plan.all.length} partitions, ${plan.pending.length} to run, ${plan.skipped.length} already done`,
    );
    await m.queueBackfill(ctx.orch, plan);
    const parallel = Math.max(1, Number(opts.parallel ?? 1) || 1);
    const result = await m.runBackfill(plan, parallel, async (p) => {
      const summary = await runOne(ctx, spec, {
        partitionKey: p.key,
        trigger: 'backfill',
        limitActiveRuns: false,
        threads: Math.max(1, Math.floor(threadsFor(ctx.ws.project) / parallel)),
      });
      out(`  ${p.key}: ${summary.status} (${summary.runId})`);
      return summary.status === 'success';
    });
    out(
      `done: ${result.succeeded.length} succeeded, ${result.failed.length} failed, ${result.skipped.length} skipped`,
    );
    if (result.failed.length)
      out(
        `failed: ${result.failed.join(', ')}\nrerun \`weir backfill ${spec.name} --from ${opts.from ?? ''} --to ${opts.to ?? ''}\` to retry them`,
      );
    process.exitCode = result.failed.length ? 1 : 0;
  } finally {
    await ctx.close();
  }
}

export async function commandPartitions(
  target: string,
  opts: Opts & { from?: string; to?: string },
): Promise<void> {
  const m = await mods();
  const { orch, ws, close } = await openState(opts);
  try {
    const specs = await m.loadPipelines(ws.project.root);
    const spec = specs.find((s) => s.name === target);
    const recorded = new Map((await orch.listPartitions(target)).map((p) => [p.key, p]));
    let keys: string[] = [...recorded.keys()];
    const partitionsDef =
      spec?.partitions ?? specs.find((s) => s.partitions && recorded.size > 0)?.partitions;
    if (partitionsDef) {
      const today = new Date().toISOString().slice(0, 10);
      keys = m
        .partitionsBetween(
          partitionsDef,
          opts.from,
          opts.to ?? (partitionsDef.kind === 'time' ? (partitionsDef.end ?? today) : undefined),
        )
        .map((p) => p.key);
      for (const k of recorded.keys()) if (!keys.includes(k)) keys.push(k);
      keys.sort();
    }
    const rows = keys.map((key) => {
      const r = recorded.get(key);
      return {
        partition: key,
        status: r ? (r.status === 'success' ? 'materialized' : r.status) : 'missing',
        run_id: r?.runId ?? '',
        updated_at: r?.updatedAt ?? '',
      };
    });
    if (opts.output === 'json') {
      for (const r of rows) out(JSON.stringify(r));
      return;
    }
    out(renderTable(['partition', 'status', 'run_id', 'updated_at'], rows));
    const count = (s: string): number => rows.filter((r) => r.status === s).length;
    out(
      pc.dim(
        `${count('materialized')} materialized, ${count('failed')} failed, ${count('running')} running, ${count('missing')} missing`,
      ),
    );
  } finally {
    await close();
  }
}

export async function commandRunsCancel(runId: string, opts: Opts): Promise<void> {
  const { state, orch, close } = await openState(opts);
  try {
    const run = await state.getRun(runId);
    if (!run) throw new WeirError('WEIR-O009', `no run '${runId}'`, { hint: 'list runs with `weir runs`' });
    if (run.status !== 'running' && run.status !== 'queued') {
      out(`run ${runId} is already ${run.status}`);
      return;
    }
    await orch.requestCancel(runId, new Date().toISOString(), 'cancelled from the CLI');
    out(`cancel requested for ${runId}: its process stops starting steps and interrupts the running ones`);
  } finally {
    await close();
  }
}

export async function commandRunsRetry(runId: string, opts: Opts): Promise<void> {
  const m = await mods();
  const ctx = await open(opts);
  try {
    const run = await ctx.rt.state.getRun(runId);
    if (!run) throw new WeirError('WEIR-O009', `no run '${runId}'`, { hint: 'list runs with `weir runs`' });
    const pipelineName = typeof run.args['pipeline'] === 'string' ? run.args['pipeline'] : undefined;
    if (!pipelineName) {
      throw new WeirError('WEIR-O013', `run ${runId} is not a pipeline run (${run.command})`, {
        hint: `rerun it with \`weir ${run.command}\` and the same selection`,
      });
    }
    const spec = m.findPipeline(ctx.pipelines, pipelineName);
    const results = await ctx.rt.state.listNodeResults(runId);
    const failed = results
      .filter((r) => r.status === 'error' || r.status === 'fail' || r.status === 'skipped')
      .map((r) => r.nodeId);
    if (failed.length === 0) {
      out(`run ${runId} has no failed steps`);
      return;
    }
    // Descendants of failed steps were skipped in the original run, so they are in `failed` too.
    const partition = typeof run.args['partition'] === 'string' ? run.args['partition'] : undefined;
    const summary = await runOne(ctx, spec, {
      only: failed,
      trigger: 'retry',
      ...(partition ? { partitionKey: partition } : {}),
    });
    await ctx.rt.state.appendEvent({
      runId: summary.runId,
      nodeId: null,
      ts: new Date().toISOString(),
      type: 'retry_of',
      data: { run_id: runId, steps: failed },
    });
    for (const line of m.summaryLines(summary.results, summary.elapsedMs, opts.debug === true)) out(line);
    out(`retry run ${summary.runId} of ${runId}: ${summary.status}`);
    process.exitCode = summary.status === 'success' ? 0 : 1;
  } finally {
    await ctx.close();
  }
}

export async function commandRunShow(runId: string, opts: Opts): Promise<void> {
  const { state, orch, close } = await openState(opts);
  try {
    const run = await state.getRun(runId);
    if (!run) throw new WeirError('WEIR-O009', `no run '${runId}'`, { hint: 'list runs with `weir runs`' });
    const nodes = await state.listNodeResults(runId);
    const attempts = await orch.listAttempts(runId);
    const events = await state.listEvents(runId);
    if (opts.output === 'json') {
      out(JSON.stringify({ run, nodes, attempts, events }, jsonReplacer));
      return;
    }
    const duration = run.finishedAt
      ? ` in ${formatDuration(Date.parse(run.finishedAt) - Date.parse(run.startedAt))}`
      : '';
    out(
      `${pc.bold(run.runId)} ${run.command} ${run.status} started ${run.startedAt}${duration}${run.error ? ` (${run.error})` : ''}`,
    );
    out(
      renderTable(['nodeId', 'status', 'durationMs', 'rows', 'version', 'message'], nodes, { maxWidth: 70 }),
    );
    if (attempts.length) {
      out('');
      out(pc.bold('attempts'));
      out(
        renderTable(['attemptId', 'status', 'startedAt', 'finishedAt', 'retryDelayMs', 'error'], attempts, {
          maxWidth: 60,
        }),
      );
    }
  } finally {
    await close();
  }
}

export async function commandLogs(runId: string, opts: Opts & { step?: string }): Promise<void> {
  const { state, close } = await openState(opts);
  try {
    const run = await state.getRun(runId);
    if (!run) throw new WeirError('WEIR-O009', `no run '${runId}'`, { hint: 'list runs with `weir runs`' });
    const events = await state.listEvents(runId, opts.step);
    for (const e of events) {
      if (opts.output === 'json') out(JSON.stringify(e));
      else out(`${e.ts} ${e.type.padEnd(16)} ${e.nodeId ?? '-'} ${JSON.stringify(e.data)}`);
    }
  } finally {
    await close();
  }
}

export async function commandServe(
  opts: Opts & { pollMs?: string; leaseTtlMs?: string; staleMs?: string; slaCheckMs?: string },
): Promise<void> {
  const m = await mods();
  const ctx = await open(opts);
  const owner = `${m.OWNER}:${Date.now().toString(36)}`;
  const daemon = new m.SchedulerDaemon({
    store: ctx.orch,
    pipelines: ctx.pipelines,
    owner,
    logger: ctx.logger,
    leaseTtlMs: Number(opts.leaseTtlMs ?? 15_000),
    pollMs: Number(opts.pollMs ?? 1000),
    ...(opts.staleMs ? { staleMs: Number(opts.staleMs) } : {}),
    getRun: (id) => ctx.rt.state.getRun(id),
    launch: (spec, scheduledAt, runId) => {
      const latest =
        spec.partitions?.kind === 'time'
          ? m.latestCompletePartition(spec.partitions, new Date(scheduledAt))?.key
          : undefined;
      return runOne(ctx, spec, {
        runId,
        trigger: 'schedule',
        scheduledAt,
        ...(latest ? { partitionKey: latest } : {}),
      }).then((s) =>
        out(`${new Date().toISOString()} ${spec.name} ${scheduledAt} -> ${s.runId} ${s.status}`),
      );
    },
    root: ctx.ws.project.root,
    state: ctx.rt.state,
    launchSensor: (spec, firing) => {
      const partition =
        firing.partition ??
        (spec.partitions?.kind === 'time'
          ? m.latestCompletePartition(spec.partitions, new Date())?.key
          : undefined);
      const name = firing.source.slice(`sensor:${spec.name}.`.length);
      return runOne(ctx, spec, {
        runId: firing.runId,
        trigger: 'sensor',
        sensor: { name, key: firing.key },
        params: firing.params,
        ...(partition ? { partitionKey: partition } : {}),
      }).then((s) =>
        out(`${new Date().toISOString()} ${spec.name} sensor ${name} -> ${s.runId} ${s.status}`),
      );
    },
    ...(ctx.pipelines.some((p) => p.sla && p.alerts.length > 0)
      ? {
          alertSla: async (spec, miss) => {
            const { sendAlert, slaMissAlert } = await import('../observe/alerts/notify.js');
            await sendAlert(spec.alerts, slaMissAlert(miss), ctx.ws.env, ctx.logger);
          },
        }
      : {}),
    ...(opts.slaCheckMs ? { slaCheckMs: Number(opts.slaCheckMs) } : {}),
    resume: (run, spec) => {
      const partition = typeof run.args['partition'] === 'string' ? run.args['partition'] : undefined;
      return runOne(ctx, spec, {
        runId: run.runId,
        trigger: 'resume',
        ...(partition ? { partitionKey: partition } : {}),
      }).then((s) => out(`${new Date().toISOString()} resumed ${s.runId} ${s.status}`));
    },
  });
  const sensors = ctx.pipelines.reduce((n, p) => n + p.sensors.length, 0);
  out(
    `weir serve: ${ctx.pipelines.filter((p) => p.schedule).length} scheduled pipeline(s), ${sensors} sensor(s), daemon ${owner}`,
  );
  const stop = new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  daemon.start();
  await stop;
  await daemon.stop();
  await ctx.close();
}

/** Adds the orchestration commands to the program (one line in main.ts). */
export function registerOrchestrateCommands(
  program: Command,
  projectOptions: (cmd: Command) => Command,
): void {
  const pipelineCmd = program.command('pipeline').description('pipelines defined in pipelines/*.ts or *.yml');
  projectOptions(pipelineCmd.command('list').description('list the pipelines'))
    .option('--output <format>', 'table or json', 'table')
    .action(async (opts: Opts) => commandPipelineList(opts));
  projectOptions(pipelineCmd.command('run').description('run one pipeline now').argument('<name>'))
    .option('--partition <key>', 'the partition to build (partitioned pipelines)')
    .option('--param <key=value...>', 'parameters for the steps (ctx.params)')
    .option('--full-refresh', 'rebuild incremental models from scratch')
    .action(async (name: string, opts) => commandPipelineRun(name, opts as Opts));
  projectOptions(
    program
      .command('backfill')
      .description('run a pipeline over a range of partitions')
      .argument('<pipeline>'),
  )
    .option('--from <key>', 'first partition (date or key)')
    .option('--to <key>', 'last partition, inclusive')
    .option('--parallel <n>', 'partitions at once', '1')
    .option('--force', 'rerun partitions that already succeeded')
    .action(async (name: string, opts) => commandBackfill(name, opts as Opts));
  projectOptions(
    program
      .command('partitions')
      .description('materialized, failed and missing partitions of a pipeline or asset')
      .argument('<pipeline-or-asset>'),
  )
    .option('--from <key>')
    .option('--to <key>')
    .option('--output <format>', 'table or json', 'table')
    .action(async (target: string, opts) => commandPartitions(target, opts as Opts));
  projectOptions(program.command('logs').description('events of a run').argument('<run-id>'))
    .option('--step <id>', 'only this step (node id or step.<pipeline>.<name>)')
    .option('--output <format>', 'text or json', 'text')
    .action(async (runId: string, opts) => commandLogs(runId, opts as Opts));
  projectOptions(
    program
      .command('serve')
      .description(
        'run the scheduler daemon (schedules, sensors, SLA alerts, resumes runs of dead processes)',
      ),
  )
    .option('--poll-ms <ms>', 'scheduler loop interval', '1000')
    .option('--lease-ttl-ms <ms>', 'how long the scheduler lease lasts without renewal', '15000')
    .option(
      '--stale-ms <ms>',
      'a run whose heartbeat is older than this is resumed (default: 2 x lease TTL, at least 5 s)',
    )
    .option('--sla-check-ms <ms>', 'how often SLAs are checked (default 10000)')
    .action(async (opts) => commandServe(opts as Opts));
  const runs = program.commands.find((c) => c.name() === 'runs');
  if (runs) {
    projectOptions(
      runs.command('cancel').description('ask the process running a run to cancel it').argument('<run-id>'),
    ).action(async (runId: string, opts) => commandRunsCancel(runId, opts as Opts));
    projectOptions(
      runs
        .command('retry')
        .description('run the failed steps of a run and their descendants again')
        .argument('<run-id>'),
    ).action(async (runId: string, opts) => commandRunsRetry(runId, opts as Opts));
    // `runs show` with attempts and events: replaces the action declared in main.ts.
    const show = runs.commands.find((c) => c.name() === 'show');
    show?.action(async (runId: string, opts) => commandRunShow(runId, opts as Opts));
  }
}
