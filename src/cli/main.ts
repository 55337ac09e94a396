import { Command, CommanderError, Option } from 'commander';
import { formatDiagnostic, DiagnosticsError } from '../core/diagnostics.js';
import { WeirError, formatError, isWeirError } from '../core/errors.js';
import { LOG_FORMATS } from '../observe/logger.js';
import type * as CommandsModule from './commands.js';
import type * as ProjectCommandsModule from './commands-project.js';
import { VERSION } from './version.js';
import { registerOrchestrateCommands } from './commands-orchestrate.js';
import { registerIngestCommands } from './commands-ingest.js';
import { registerQualityCommands } from './commands-quality.js';

/** Exit codes: 0 success, 1 a node failed, 2 a usage or project error. */
export const EXIT = { ok: 0, nodeFailure: 1, usage: 2 } as const;

/** The options the project commands share, declared once. */
const PROJECT_OPTIONS: readonly Option[] = [
  new Option('--project-dir <dir>', 'project folder (default: current folder)'),
  new Option('--profiles-dir <dir>', 'folder holding profiles.yml'),
  new Option('-t, --target <name>', 'profile target to use'),
  new Option('--vars <yaml>', 'variables for var(), as a YAML mapping'),
  new Option('--log-format <format>', 'text or json (json: one JSON object per line, each with the run id)')
    .choices(LOG_FORMATS)
    .default('text'),
  new Option('--debug', 'debug logs and stack traces'),
];
const SELECT_OPTIONS: readonly Option[] = [
  new Option(
    '-s, --select <selector...>',
    'node selection (dbt syntax: name, +name, name+, tag:x, path:x, config.materialized:x, @name)',
  ),
  new Option('--exclude <selector...>', 'nodes to leave out'),
];

function withOptions(cmd: Command, ...groups: (readonly Option[])[]): Command {
  for (const group of groups) for (const opt of group) cmd.addOption(opt);
  return cmd;
}

export function buildProgram(): Command {
  const program = new Command('weir')
    .description('Weir: build, check and trace data on an embedded DuckDB and a Delta Lake lake.')
    .version(VERSION)
    .showHelpAfterError('(run `weir --help` for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('init')
    .argument('[dir]', 'folder to create', 'weir_project')
    .option('--force', 'write into a folder that is not empty')
    .description('create a working e-commerce example project')
    .action(async (dir: string, opts: { force?: boolean }) => (await commands()).commandInit(dir, opts));

  // Commands load their modules when they run: `weir compile` and `weir ls` load neither the
  // runner nor DuckDB or SQLite.
  const commands = (): Promise<typeof CommandsModule> => import('./commands.js');
  const projectCommands = (): Promise<typeof ProjectCommandsModule> => import('./commands-project.js');
  for (const command of ['build', 'run', 'seed', 'snapshot', 'test'] as const) {
    const describe: Record<string, string> = {
      build: 'load seeds, build models and snapshots and run their tests, in dependency order',
      run: 'build the selected models',
      seed: 'load the CSV seeds',
      snapshot: 'record changes of snapshot sources (SCD type 2)',
      test: 'run data tests',
    };
    const cmd = program.command(command).description(describe[command] ?? command);
    withOptions(cmd, PROJECT_OPTIONS, SELECT_OPTIONS);
    cmd.option(
      '--threads <n>',
      'nodes run at once (default: cores + 2, or the profile/config)',
      parseThreads,
    );
    if (command !== 'test') cmd.option('--full-refresh', 'rebuild incremental models and seeds from scratch');
    cmd.action(async (opts) => (await commands()).commandRun(command, opts));
  }

  withOptions(
    program.command('compile').description('render every selected node to SQL (no database needed)'),
    PROJECT_OPTIONS,
    SELECT_OPTIONS,
  )
    .option('--output <format>', 'text or json', 'text')
    .action(async (opts) => (await projectCommands()).commandCompile(opts));

  withOptions(
    program.command('ls').alias('list').description('list the selected nodes'),
    PROJECT_OPTIONS,
    SELECT_OPTIONS,
  )
    .addOption(new Option('--resource-type <type...>', 'model, seed, snapshot, test, source'))
    .addOption(
      new Option('--output <format>', 'name, path, asset or json')
        .choices(['name', 'path', 'asset', 'json'])
        .default('name'),
    )
    .action(async (opts) => (await projectCommands()).commandLs(opts));

  withOptions(
    program
      .command('show')
      .description("an asset's columns, lineage, checks and rows (schema.name or a model name)"),
    PROJECT_OPTIONS,
  )
    .argument('<asset>')
    .option('--limit <n>', 'rows to show', (v) => Number(v), 10)
    .option('--version <n>', 'read an older Delta version (time travel)', (v) => Number(v))
    .option('--output <format>', 'table or json', 'table')
    .action(async (asset: string, opts) => (await commands()).commandShow(asset, opts));

  withOptions(
    program.command('query').description('run a SQL query over the latest data of every asset'),
    PROJECT_OPTIONS,
  )
    .argument('<sql>')
    .option('--limit <n>', 'rows to print', (v) => Number(v), 100)
    .option('--output <format>', 'table or json', 'table')
    .action(async (sql: string, opts) => (await commands()).commandQuery(sql, opts));

  const runs = withOptions(
    program.command('runs').description('list recent runs; `runs show <id>` for one'),
    PROJECT_OPTIONS,
  )
    .option('--limit <n>', 'runs to list', (v) => Number(v), 20)
    .option('--output <format>', 'table or json', 'table')
    .action(async (opts) => (await commands()).commandRuns(undefined, opts));
  withOptions(
    runs.command('show').description('nodes and events of one run').argument('<run-id>'),
    PROJECT_OPTIONS,
  )
    .option('--output <format>', 'table or json', 'table')
    .action(async (runId: string, opts) => (await commands()).commandRuns(runId, opts));

  withOptions(
    program.command('history').description('builds of one asset across runs, and its Delta versions'),
    PROJECT_OPTIONS,
  )
    .argument('<asset>')
    .option('--limit <n>', 'entries', (v) => Number(v), 20)
    .option('--output <format>', 'table or json', 'table')
    .action(async (asset: string, opts) => (await commands()).commandHistory(asset, opts));

  registerOrchestrateCommands(program, (cmd) => withOptions(cmd, PROJECT_OPTIONS));
  registerIngestCommands(program);
  registerQualityCommands(program, (cmd) => withOptions(cmd, PROJECT_OPTIONS));
  return program;
}

function parseThreads(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new WeirError('WEIR-U001', `--threads must be a whole number of at least 1, not '${value}'`, {
      hint: 'e.g. --threads 4',
    });
  }
  return n;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv as string[]);
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    printError(err, debug);
    return EXIT.usage;
  }
}

export function printError(err: unknown, debug: boolean): void {
  if (err instanceof DiagnosticsError) {
    const errors = err.diagnostics.filter((d) => d.severity === 'error');
    process.stderr.write(
      `${errors.map(formatDiagnostic).join('\n')}\n${errors.length} problem${errors.length === 1 ? '' : 's'} found.\n`,
    );
  } else if (isWeirError(err)) {
    process.stderr.write(`${formatError(err)}\n`);
  } else {
    process.stderr.write(
      `[WEIR-X001] unexpected error: ${err instanceof Error ? err.message : String(err)}\n  hint: rerun with --debug and report it with the stack trace\n`,
    );
  }
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
}
