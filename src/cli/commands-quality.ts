import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import pc from 'picocolors';
import { DiagnosticsError, formatDiagnostic } from '../core/diagnostics.js';
import { quoteIdent } from '../core/engine.js';
import { WeirError } from '../core/errors.js';
import type { QualityStore } from '../core/quality-store.js';
import { suggest } from '../core/suggest.js';
import type { Manifest, ManifestNode } from '../orchestrate/manifest.js';
import type { ContractSet } from '../orchestrate/audit.js';
import type { NodeResult } from '../orchestrate/run.js';
import type { Project } from '../project/types.js';
import {
  checkRowOf,
  displayValue,
  junitXml,
  resultCells,
  resultsDocument,
  resultsJson,
  sortRows,
  type CheckRow,
} from '../quality/results.js';
import { QUALITY_CODES } from '../quality/codes.js';
import { SEVERITY_WEIGHTS, tableScore, textSparkline } from '../quality/score.js';
import type { CheckResult } from '../quality/types.js';
import { renderTable } from './format.js';
import type { ProjectOptions } from './workspace.js';

/*
 * Quality plumbing of the CLI: the run clock, the quality history store, contracts. SQLite and the
 * contract parser are imported lazily so that `weir compile` never loads them.
 */

/** Where the official ODCS JSON schema may be found: WEIR_ODCS_SCHEMA, or the project's copy. */
export const ODCS_SCHEMA_FILE = 'contracts/odcs-json-schema.json';

/** The run's clock: WEIR_NOW (an ISO time) pins it, so history can be replayed in tests and backfills. */
export function qualityClock(env: Record<string, string | undefined> = process.env): () => Date {
  const pinned = env['WEIR_NOW'];
  if (!pinned) return () => new Date();
  const t = Date.parse(pinned);
  if (!Number.isFinite(t)) {
    throw new WeirError('WEIR-Q042', `WEIR_NOW='${pinned}' is not an ISO date-time`, {
      hint: 'e.g. WEIR_NOW=2024-03-01T06:00:00Z, or unset it to use the system clock',
    });
  }
  return () => new Date(t);
}

export async function openQualityStore(project: Project): Promise<QualityStore> {
  const { openSqliteQualityStore } = await import('../state/sqlite/sqlite-quality-store.js');
  return openSqliteQualityStore(project.weir.state.path);
}

async function readOfficialSchema(
  project: Project,
  env: Record<string, string | undefined>,
): Promise<object | undefined> {
  const configured = env['WEIR_ODCS_SCHEMA'];
  const path = configured ? resolve(project.root, configured) : join(project.root, ODCS_SCHEMA_FILE);
  if (!configured && !existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as object;
  } catch (err) {
    throw new WeirError('WEIR-Q022', `cannot read the ODCS JSON schema ${path}: ${(err as Error).message}`, {
      hint: 'point WEIR_ODCS_SCHEMA at odcs-json-schema-v3.1.0.json from bitol-io/open-data-contract-standard',
    });
  }
}

/** Parses and binds the project's contracts; errors stop the command (all at once), warnings print. */
export async function projectContracts(
  project: Project,
  manifest: Manifest,
  warn: (text: string) => void,
  env: Record<string, string | undefined> = process.env,
): Promise<ContractSet> {
  const { loadContracts } = await import('../orchestrate/audit.js');
  const parsed = [];
  if (project.contracts.length > 0) {
    // YAML, zod and ajv load only for projects with contracts.
    const { parseContract } = await import('../quality/contract-parse.js');
    const officialSchema = await readOfficialSchema(project, env);
    for (const f of project.contracts)
      parsed.push(parseContract(f, officialSchema ? { officialSchema } : {}));
  }
  const set = loadContracts(manifest, parsed);
  const errors = set.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new DiagnosticsError(errors);
  for (const d of set.diagnostics) warn(formatDiagnostic(d));
  return set;
}

/*
 * Results of `weir test` / `weir build`, `weir quality score|report`, `weir profile`. Registered by
 * main.ts through registerQualityCommands; heavy modules (DuckDB, SQLite, yaml) load in the actions.
 */

export const RESULT_FORMATS = ['text', 'json', 'junit'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

interface RecordingGate {
  record(asset: string, results: readonly CheckResult[]): Promise<void>;
}

/** Check results of one invocation, by check id (the last result of a check wins). */
export class ResultCollector {
  readonly byId = new Map<string, { asset: string; result: CheckResult }>();

  add(asset: string, results: readonly CheckResult[]): void {
    for (const result of results) this.byId.set(result.id, { asset, result });
  }
}

/**
 * Collects every result the gate records (audits, test batches, relationships) while still storing
 * them: the gate is the one place every check result passes through.
 */
export function collectCheckResults(gate: RecordingGate): ResultCollector {
  const collector = new ResultCollector();
  const record = gate.record.bind(gate);
  gate.record = async (asset, results) => {
    collector.add(asset, results);
    await record(asset, results);
  };
  return collector;
}

/** Where `weir test|build` prints its results and progress, by `--output`. */
export function resultFormat(value: string | undefined): ResultFormat {
  if (value === undefined) return 'text';
  if ((RESULT_FORMATS as readonly string[]).includes(value)) return value as ResultFormat;
  throw new WeirError(
    QUALITY_CODES.badResultFormat,
    `--output must be one of ${RESULT_FORMATS.join(', ')}, not '${value}'`,
    {
      hint: 'e.g. weir test --output junit > target/weir-junit.xml',
    },
  );
}

function testAsset(manifest: Manifest, node: ManifestNode | undefined): string {
  const attached = node?.test?.attachedNodeId ?? node?.dependsOn[0];
  const owner = attached ? manifest.nodes.get(attached) : undefined;
  return (owner ? assetNameOf(owner) : null) ?? attached ?? 'tests';
}

function assetNameOf(n: ManifestNode): string | null {
  return n.relation ? `${n.relation.schema}.${n.relation.identifier}` : null;
}

/**
 * The rows of the results table: collected check results (audits and test batches, including
 * contract rules and monitors), plus test nodes that produced none (singular tests, skipped tests).
 */
export async function resultRows(
  manifest: Manifest,
  nodeResults: readonly NodeResult[],
  collector: ResultCollector,
): Promise<CheckRow[]> {
  const { specOfTest } = await import('../orchestrate/audit.js');
  const kwargsOf = (id: string): Readonly<Record<string, unknown>> => {
    const node = manifest.nodes.get(id);
    if (node?.resourceType !== 'test' || node.test?.kind !== 'generic') return {};
    return specOfTest(node).kwargs;
  };
  const rows: CheckRow[] = [...collector.byId.values()].map(({ asset, result }) =>
    checkRowOf(asset, result, kwargsOf(result.id)),
  );
  for (const r of nodeResults) {
    if (r.resourceType !== 'test' || collector.byId.has(r.nodeId)) continue;
    const node = manifest.nodes.get(r.nodeId);
    const status = r.status === 'success' ? 'pass' : r.status;
    if (!['pass', 'warn', 'fail', 'error', 'skipped'].includes(status)) continue;
    rows.push({
      asset: testAsset(manifest, node),
      id: r.nodeId,
      name: r.name,
      type: node?.test?.kind === 'generic' ? node.test.testName : 'singular',
      severity: node?.config.severity === 'warn' ? 'warn' : 'error',
      origin: node?.test?.kind === 'generic' ? 'schema' : 'singular',
      status: status as CheckRow['status'],
      success: status === 'pass' || status === 'warn' ? status === 'pass' : status === 'fail' ? false : null,
      failures: r.failures ?? null,
      message: r.status === 'error' && r.error ? r.error.message : r.message,
      samples: [],
      sampleRows: [],
      kwargs: kwargsOf(r.nodeId),
      durationMs: r.durationMs,
    });
  }
  return sortRows(rows);
}

/** The results table of a run (text mode). */
export function resultsTable(rows: readonly CheckRow[]): string {
  return renderTable(['table', 'check', 'status', 'observed', 'unexpected'], rows.map(resultCells), {
    maxWidth: 64,
  });
}

/**
 * Prints a run's check results. `test`: always (text: a table after the progress lines); `build`:
 * the table only when a check did not pass, the document always with `--output json|junit`.
 */
export function printCheckResults(options: {
  readonly command: string;
  readonly format: ResultFormat;
  readonly runId: string;
  readonly rows: readonly CheckRow[];
  readonly write: (text: string) => void;
}): void {
  const { command, format, rows, write } = options;
  if (format === 'json') {
    write(resultsJson(resultsDocument(options.runId, rows)));
    return;
  }
  if (format === 'junit') {
    write(junitXml(options.runId, rows, `weir ${command}`).trimEnd());
    return;
  }
  if (rows.length === 0) return;
  if (command !== 'test' && rows.every((r) => r.status === 'pass')) return;
  write('');
  write(resultsTable(rows));
}

type QualityOpts = ProjectOptions & { output?: string; runs?: number; out?: string; force?: boolean };

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}
function warnOut(text: string): void {
  process.stderr.write(`${pc.yellow(text)}\n`);
}

/** An asset of the quality history by `schema.name`, a model name, or a unique suffix. */
export function resolveHistoryAsset(text: string, known: readonly string[]): string {
  if (known.includes(text)) return text;
  const bySuffix = known.filter((a) => a.slice(a.indexOf('.') + 1) === text);
  if (bySuffix.length === 1 && bySuffix[0]) return bySuffix[0];
  const shortNames = new Map(known.map((a) => [a.slice(a.indexOf('.') + 1), a]));
  const close = [
    ...new Set([
      ...suggest(text, known),
      ...suggest(text, shortNames.keys()).map((n) => shortNames.get(n) ?? n),
    ]),
  ];
  throw new WeirError(QUALITY_CODES.noQualityHistory, `no quality history for '${text}'`, {
    hint:
      bySuffix.length > 1
        ? `several assets are named so: ${bySuffix.join(', ')}; write schema.name`
        : close.length
          ? `did you mean ${close.map((c) => `'${c}'`).join(', ')}?`
          : known.length
            ? `assets with history: ${known.slice(0, 8).join(', ')}`
            : 'run `weir build` or `weir test` first: scores come from recorded check results',
  });
}

function fmtScore(s: number | null): string {
  return s === null ? '-' : s.toFixed(1);
}

export async function commandQualityScore(asset: string | undefined, opts: QualityOpts): Promise<void> {
  const { openWorkspace } = await import('./workspace.js');
  const ws = await openWorkspace(opts, warnOut);
  const store = await openQualityStore(ws.project);
  try {
    const known = await store.assets();
    const assets = asset ? [resolveHistoryAsset(asset, known)] : known;
    const runs = opts.runs ?? 10;
    const scores = [];
    for (const a of assets) scores.push(await tableScore(store, a, runs));
    if (opts.output === 'json') {
      out(
        resultsJson({
          weights: SEVERITY_WEIGHTS,
          tables: scores.map((s) => ({
            asset: s.asset,
            score: s.latest?.score ?? null,
            change: s.change,
            latest: s.latest,
            trend: s.trend.map((p) => ({ run_id: p.runId, at: p.at, score: p.score })),
          })),
        }),
      );
      return;
    }
    if (scores.length === 0) {
      out('No quality history yet: run `weir build` or `weir test` first.');
      return;
    }
    out(
      renderTable(
        ['table', 'score', 'change', 'checks', 'passed', 'warned', 'failed', 'errored', 'trend'],
        scores.map((s) => ({
          table: s.asset,
          score: fmtScore(s.latest?.score ?? null),
          change: s.change === null ? '' : `${s.change >= 0 ? '+' : ''}${s.change.toFixed(1)}`,
          checks: s.latest?.checks ?? 0,
          passed: s.latest?.passed ?? 0,
          warned: s.latest?.warned ?? 0,
          failed: s.latest?.failed ?? 0,
          errored: s.latest?.errored ?? 0,
          trend: textSparkline(s.trend.map((p) => p.score)),
        })),
        { maxWidth: 60 },
      ),
    );
    out(pc.dim(`score = 100 × (1 − penalty / weight); weights: error 3, warn 1; trend: last ${runs} runs`));
  } finally {
    await store.close();
  }
}

export async function commandQualityReport(opts: QualityOpts): Promise<void> {
  const { openWorkspace } = await import('./workspace.js');
  const { collectReportData, renderQualityReport } = await import('../quality/report.js');
  const ws = await openWorkspace(opts, warnOut);
  const store = await openQualityStore(ws.project);
  try {
    const data = await collectReportData(store, {
      project: ws.project.name,
      now: qualityClock()(),
      runs: opts.runs ?? 30,
    });
    const file = resolve(ws.project.root, opts.out ?? join(ws.project.paths.target, 'quality-report.html'));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, renderQualityReport(data));
    out(
      `Wrote the quality report of ${data.tables.length} table${data.tables.length === 1 ? '' : 's'} to ${relative(process.cwd(), file) || file}`,
    );
  } finally {
    await store.close();
  }
}

export async function commandProfile(
  text: string,
  opts: QualityOpts & { suggestContract?: boolean },
): Promise<void> {
  const commands = await import('./commands.js');
  const { profileTable, suggestContract } = await import('../quality/profile.js');
  const { openWorkspace } = await import('./workspace.js');
  const ws = await openWorkspace(opts, warnOut);
  const asset = commands.resolveAsset(ws, text);
  await commands.withQuerySession(ws, opts, async (_q, rt, session) => {
    if (!(await rt.state.getCatalogEntry(asset))) {
      throw new WeirError(
        QUALITY_CODES.profileNotBuilt,
        `${asset} has not been built yet: nothing to profile`,
        {
          hint: `run \`weir build -s ${asset.slice(asset.indexOf('.') + 1)}\` first`,
        },
      );
    }
    const [schema, name] = [asset.slice(0, asset.indexOf('.')), asset.slice(asset.indexOf('.') + 1)];
    const profile = await profileTable(session, `${quoteIdent(schema)}.${quoteIdent(name)}`, asset);
    if (opts.suggestContract) {
      const file = resolve(ws.project.root, opts.out ?? join('contracts', `${name}.odcs.yaml`));
      if (existsSync(file) && !opts.force) {
        throw new WeirError(
          QUALITY_CODES.contractFileExists,
          `${relative(ws.project.root, file)} exists; not overwriting it`,
          {
            hint: 'pass --out <file> for another path, or --force to replace it',
          },
        );
      }
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, suggestContract(profile, { id: name, name }));
      out(`Wrote a starter contract (status: draft) to ${relative(process.cwd(), file) || file}`);
      return;
    }
    if (opts.output === 'json') {
      out(resultsJson(profile));
      return;
    }
    out(`${pc.bold(asset)} ${pc.dim(`${profile.rows} rows, ${profile.columns.length} columns`)}`);
    out(
      renderTable(
        [
          'column',
          'type',
          'nulls',
          'distinct',
          'min',
          'max',
          'mean',
          'stddev',
          'p25',
          'p50',
          'p75',
          'patterns',
        ],
        profile.columns.map((c) => ({
          column: c.name,
          type: c.type,
          nulls: c.nulls,
          distinct: c.distinct,
          min: displayValue(c.min),
          max: displayValue(c.max),
          mean: displayValue(c.mean ?? undefined),
          stddev: displayValue(c.stddev ?? undefined),
          p25: displayValue(c.quantiles?.p25),
          p50: displayValue(c.quantiles?.p50),
          p75: displayValue(c.quantiles?.p75),
          patterns: c.patterns.join(', '),
        })),
        { maxWidth: 24 },
      ),
    );
    out('');
    out(pc.bold('top values'));
    for (const c of profile.columns)
      out(`  ${c.name}: ${c.top.map((t) => `${t.value} (${t.count})`).join(', ') || '-'}`);
  });
}

/** `weir quality score|report`, `weir profile`, and `--output` for `weir test|build`. */
export function registerQualityCommands(program: Command, projectOptions: (cmd: Command) => Command): void {
  for (const name of ['test', 'build']) {
    program.commands
      .find((c) => c.name() === name)
      ?.addOption(
        new Option('--output <format>', 'results as text (a table), json (GE-style) or junit (XML)')
          .choices(RESULT_FORMATS)
          .default('text'),
      );
  }
  const quality = program.command('quality').description('quality scores and reports from the check history');
  projectOptions(
    quality
      .command('score')
      .description('quality score (0-100) per table, with its trend over the last runs')
      .argument('[asset]'),
  )
    .option('--runs <n>', 'runs in the trend', (v) => Number(v), 10)
    .addOption(new Option('--output <format>', 'table or json').choices(['table', 'json']).default('table'))
    .action(async (asset: string | undefined, opts: QualityOpts) => commandQualityScore(asset, opts));
  projectOptions(
    quality
      .command('report')
      .description('write a static HTML quality report (scores, checks, failures, history)'),
  )
    .option('--out <file>', 'where to write it (default: target/quality-report.html)')
    .option('--runs <n>', 'runs of history shown', (v) => Number(v), 30)
    .action(async (opts: QualityOpts) => commandQualityReport(opts));
  projectOptions(
    program
      .command('profile')
      .description('column statistics of an asset; --suggest-contract writes a starter ODCS contract')
      .argument('<asset>'),
  )
    .addOption(new Option('--output <format>', 'table or json').choices(['table', 'json']).default('table'))
    .option('--suggest-contract', 'write a starter ODCS v3.1 contract instead of printing the profile')
    .option('--out <file>', 'contract path (default: contracts/<name>.odcs.yaml)')
    .option('--force', 'overwrite an existing contract file')
    .action(async (asset: string, opts: QualityOpts & { suggestContract?: boolean }) =>
      commandProfile(asset, opts),
    );
}
