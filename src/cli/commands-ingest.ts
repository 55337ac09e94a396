import { Option, type Command } from 'commander';
import type { Logger } from '../core/logger.js';
import type { StateStore } from '../core/state-store.js';
import { streamSettingsOf } from '../ingest/stream-settings.js';
import type { LandedStream } from '../ingest/ingestor.js';
import type { OpenConversionEngine } from '../ingest/landing/conversion.js';
import type { ObjectStore } from '../lake/object-store.js';
import type { SourceIngestor } from '../orchestrate/run.js';
import type { Project } from '../project/types.js';

/*
 * `weir ingest` and `weir source discover`, and the SourceIngestor `weir build` runs sources with.
 * Heavy modules (DuckDB, SQLite, pg) load inside the actions only.
 */

const PROJECT_OPTIONS = (): Option[] => [
  new Option('--project-dir <dir>', 'project folder (default: current folder)'),
  new Option('--profiles-dir <dir>', 'folder holding profiles.yml'),
  new Option('-t, --target <name>', 'profile target to use'),
  new Option('--vars <yaml>', 'variables for var(), as a YAML mapping'),
  new Option('--log-format <format>', 'text or json').choices(['text', 'json']).default('text'),
  new Option('--debug', 'debug logs and stack traces'),
];

export function registerIngestCommands(program: Command): void {
  const ingest = program
    .command('ingest')
    .description('load the selected sources into the raw zone (and staging for merge/replace streams)');
  for (const o of PROJECT_OPTIONS()) ingest.addOption(o);
  ingest
    .addOption(
      new Option('-s, --select <selector...>', 'sources to load (source:pg, source:pg.orders, tag:x)'),
    )
    .addOption(new Option('--exclude <selector...>', 'sources to leave out'))
    .option('--threads <n>', 'streams loaded at once', (v) => Number(v))
    .action(async (opts: { select?: string[] } & Record<string, unknown>) => {
      const only = 'resource_type:source';
      const select = opts.select?.length ? opts.select.map((s) => `${s},${only}`) : [only];
      await (await import('./commands.js')).commandRun('build', { ...opts, select });
    });

  const source = program.command('source').description('inspect the sources Weir loads');
  const discover = source
    .command('discover')
    .description('list the streams of a source with their inferred schemas')
    .argument('<source>');
  for (const o of PROJECT_OPTIONS()) discover.addOption(o);
  discover
    .option('--output <format>', 'text or json', 'text')
    .action(async (name: string, opts: Record<string, unknown>) => commandDiscover(name, opts));
}

async function commandDiscover(name: string, opts: Record<string, unknown>): Promise<void> {
  const { openWorkspace } = await import('./workspace.js');
  const { WeirError } = await import('../core/errors.js');
  const ws = await openWorkspace(opts, (t) => process.stderr.write(`${t}\n`));
  const tables = ws.project.sources.filter((s) => s.sourceName === name && s.ingest);
  const first = tables[0];
  if (!first) {
    const known = [...new Set(ws.project.sources.filter((s) => s.ingest).map((s) => s.sourceName))];
    throw new WeirError('WEIR-I015', `no source '${name}' with a type in this project`, {
      hint: known.length
        ? `sources Weir loads: ${known.join(', ')}`
        : 'declare one in sources/<name>.yml with `type:`',
    });
  }
  const { Ingestor } = await import('../ingest/ingestor.js');
  const { LocalObjectStore } = await import('../lake/local-object-store.js');
  const ingestor = new Ingestor({
    lake: new LocalObjectStore(ws.project.weir.lakeRoot),
    env: ws.env,
    projectRoot: ws.project.root,
  });
  const streams = await ingestor.discover(streamSettingsOf(first));
  if (opts['output'] === 'json') {
    process.stdout.write(`${JSON.stringify(streams)}\n`);
    return;
  }
  for (const s of streams) {
    process.stdout.write(`${s.name}${s.primaryKey ? ` (primary key: ${s.primaryKey.join(', ')})` : ''}\n`);
    for (const c of s.columns) process.stdout.write(`  ${c.name}  ${c.type}\n`);
  }
}

/**
 * The embedded DuckDB bulk ingest converts on: its own database, so its thread and memory bounds
 * leave the run's engine (models built at the same time) alone.
 */
export function openConversionEngine(logger: Logger): OpenConversionEngine {
  return async (options) => {
    const { createDuckDbEngine } = await import('../engine/duckdb/duckdb-engine.js');
    const { withRuntime } = await import('../engine/runtime-engine.js');
    return withRuntime(await createDuckDbEngine({ ...options, logger }), logger.child({ conversion: true }));
  };
}

/** The ingestor `executeRun` loads source nodes with; lands, then mirrors the cursor to the state store. */
export async function makeSourceIngestor(
  project: Project,
  env: Readonly<Record<string, string | undefined>>,
  rt: { lake: ObjectStore; state: StateStore },
  logger: Logger,
): Promise<SourceIngestor | undefined> {
  const byId = new Map(project.sources.filter((s) => s.ingest).map((s) => [s.uniqueId, s]));
  if (byId.size === 0) return undefined;
  const { Ingestor } = await import('../ingest/ingestor.js');
  const ingestor = new Ingestor({
    lake: rt.lake,
    logger,
    env,
    projectRoot: project.root,
    checkpointInterval: project.weir.checkpointInterval,
    openConversionEngine: openConversionEngine(logger),
    onLanded: async (l: LandedStream) => {
      const nodeId =
        [...byId.values()].find((s) => s.sourceName === l.spec.sourceName && s.name === l.spec.streamName)
          ?.uniqueId ?? null;
      await rt.state.appendEvent({
        runId: l.runId,
        nodeId,
        ts: new Date().toISOString(),
        type: 'ingest_load',
        data: {
          stream: l.report.stream,
          status: l.report.status,
          load_id: l.report.loadId,
          load_seq: l.report.loadSeq,
          cursor: l.report.cursor ?? null,
          rows_read: l.report.rowsRead,
          rows_loaded: l.report.rowsLoaded,
          rows_dead_lettered: l.report.rowsDeadLettered,
          rows_already_landed: l.report.rowsAlreadyLanded,
          raw_version: l.report.rawVersion,
          staging_version: l.report.stagingVersion,
        },
      });
      if (nodeId)
        await rt.state.putCatalogEntry({
          asset: l.asset,
          nodeId,
          kind: 'table',
          location: l.location,
          sql: null,
          updatedAt: new Date().toISOString(),
          runId: l.runId,
        });
    },
  });
  return {
    handles: (node) => byId.has(node.id),
    run: async (node, session, context) => {
      const s = byId.get(node.id);
      if (!s) throw new Error(`${node.id} is not an ingested source`);
      const { report: _report, ...outcome } = await ingestor.ingest(streamSettingsOf(s), session, context);
      return outcome;
    },
  };
}
