import {
  quoteIdent,
  quoteLiteral,
  type ColumnSchema,
  type EngineSession,
  type WrittenFile,
} from '../core/engine.js';
import { Diagnostics, type Diagnostic } from '../core/diagnostics.js';
import type { CheckRecord, QualityStore } from '../core/quality-store.js';
import { WeirError, formatLocation, isWeirError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { StateStore } from '../core/state-store.js';
import type { ObjectStore } from '../lake/object-store.js';
import { QUALITY_CODES } from '../quality/codes.js';
import { compileCheck, compileSqlCheck, formatObserved } from '../quality/compile-checks.js';
import { formatSampleRows, runChecks } from '../quality/run-checks.js';
import {
  bindContracts,
  contractChecks,
  contractMeta,
  type ContractBinding,
  type ParseContractResult,
  type ParsedContract,
} from '../quality/contracts.js';
import type { CheckHistory, CheckResult, CheckSpec, CheckTarget, HistoryPoint } from '../quality/types.js';
import { assetName, parseRelationExpr, type Manifest, type ManifestNode } from './manifest.js';
import { TableHandle, type BeforeCommit, type CommitCandidate } from './table-handle.js';

/*
 * Write-audit-publish and batched test execution: the orchestrator's side of the quality layer.
 * A QualityGate is made per CLI invocation; `audit` is RunDeps.audit, and the test runner of a run
 * reuses what the audit already checked so each check is reported once.
 */

export const ON_FAIL_MODES = ['block', 'quarantine'] as const;
export type OnFailMode = (typeof ON_FAIL_MODES)[number];

export const QUARANTINE_SCHEMA = 'quarantine';
/** Columns added to quarantined rows. */
export const QUARANTINE_COLUMNS = ['_weir_failed_rules', '_weir_run_id', '_weir_quarantined_at'] as const;

/**
 * Extra blocking checks per asset node (contract rules); the gate adds them to the audit. Called
 * once without columns (are there any?) and again with the candidate's columns.
 */
export type ExtraChecks = (node: ManifestNode, columns?: readonly ColumnSchema[]) => readonly CheckSpec[];

export interface QualityGateOptions {
  readonly manifest: Manifest;
  readonly lake: ObjectStore;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly checkpointInterval: number;
  readonly extraChecks?: ExtraChecks;
  /** Quality history: check results and table snapshots are recorded, monitors read it. */
  readonly store?: QualityStore;
  /** The run's clock (WEIR_NOW in the CLI); default the system clock. */
  readonly now?: () => Date;
}

export interface QuarantineOutcome {
  readonly asset: string;
  readonly quarantineAsset: string;
  readonly rowsIn: number;
  readonly rowsCommitted: number;
  readonly rowsQuarantined: number;
  readonly rules: readonly string[];
}

/** The quarantine asset of `schema.name`: `quarantine.<schema>__<name>`. */
export function quarantineRelation(asset: { schema: string; identifier: string }): {
  schema: string;
  identifier: string;
} {
  return { schema: QUARANTINE_SCHEMA, identifier: `${asset.schema}__${asset.identifier}` };
}

/** Test specs of a manifest's generic test node. */
export function specOfTest(node: ManifestNode): CheckSpec {
  const c = node.config;
  const severity = String(c.severity ?? 'error').toLowerCase() === 'warn' ? 'warn' : 'error';
  return {
    id: node.id,
    name: node.name,
    type: node.test?.testName ?? 'singular',
    ...(node.test?.columnName ? { column: node.test.columnName } : {}),
    kwargs: node.test?.kwargs ?? {},
    severity,
    ...(typeof c.warn_if === 'string' ? { warnIf: c.warn_if } : {}),
    ...(typeof c.error_if === 'string' ? { errorIf: c.error_if } : {}),
    ...(typeof c.where === 'string' ? { where: c.where } : {}),
    ...(typeof c.limit === 'number' ? { limit: c.limit } : {}),
    origin: node.test?.kind === 'singular' ? 'singular' : 'schema',
    at: node.at,
  };
}

/** What a test node reports to the runner (run.ts ExecOutcome). */
export interface TestOutcome {
  readonly status: 'pass' | 'warn' | 'fail';
  readonly rows: null;
  readonly bytes: null;
  readonly version: null;
  readonly message: string;
  readonly failures?: number;
}

/**
 * Compiles every schema.yml check of the manifest once, before anything runs, so unknown names
 * and bad arguments are all reported at once (WEIR-Q001..Q003 at the yml file:line).
 */
export function validateChecks(manifest: Manifest): void {
  const diagnostics = new Diagnostics();
  for (const node of manifest.nodes.values()) {
    if (node.resourceType !== 'test' || node.test?.kind !== 'generic') continue;
    try {
      compileCheck(specOfTest(node), { relation: '__weir_validate', resolveRelation: () => '__weir_parent' });
    } catch (err) {
      if (!isWeirError(err)) throw err;
      diagnostics.error(err.code, err.message, {
        ...(err.at ? { at: err.at } : { at: node.at }),
        node: node.id,
        ...(err.hint ? { hint: err.hint } : {}),
      });
    }
  }
  diagnostics.throwIfErrors();
}

export class QualityGate {
  /** Check results of audits, by test id: test nodes reuse them instead of running again. */
  private readonly audited = new Map<string, CheckResult>();
  readonly quarantines: QuarantineOutcome[] = [];
  /** Every check result of every audit of this invocation (history, reports). */
  readonly auditResults: { node: string; asset: string; results: CheckResult[] }[] = [];
  private seq = 0;
  /** Run id recorded with quarantined rows; the CLI sets it when the run starts. */
  runId = '';

  constructor(private readonly options: QualityGateOptions) {}

  auditedResult(testId: string): CheckResult | undefined {
    return this.audited.get(testId);
  }

  /** Blocking checks of an asset node: its error-severity schema tests plus contract rules. */
  blockingChecks(node: ManifestNode, columns?: readonly ColumnSchema[]): CheckSpec[] {
    const specs: CheckSpec[] = [];
    for (const t of this.options.manifest.nodes.values()) {
      if (t.resourceType !== 'test' || t.test?.kind !== 'generic' || t.test.attachedNodeId !== node.id)
        continue;
      // relationships reads another table, which may not be readable inside this node's write.
      if (t.test.testName === 'relationships') continue;
      const spec = specOfTest(t);
      if (spec.severity === 'error') specs.push(spec);
    }
    for (const extra of this.options.extraChecks?.(node, columns) ?? []) specs.push(extra);
    return specs;
  }

  now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** What the monitors of `specs` compare with: the asset's recorded history. */
  async historyFor(asset: string, specs: readonly CheckSpec[]): Promise<CheckHistory> {
    const now = this.now();
    const store = this.options.store;
    if (!store) return { now, rowCounts: [], observed: () => [] };
    // This run's own snapshot (written by the audit before the test nodes run) is not history.
    const tables = (await store.tableHistory(asset, 400)).filter((t) => t.runId !== this.runId);
    const observed = new Map<string, HistoryPoint<unknown>[]>();
    for (const s of specs) {
      if (s.type !== 'weir_distribution_drift') continue;
      const past = await store.checkHistory(asset, s.id, 400);
      observed.set(
        s.id,
        past
          .filter((r) => r.status !== 'error' && r.runId !== this.runId)
          .map((r) => ({ at: r.at, value: r.observedValue })),
      );
    }
    const last = tables.at(-1);
    return {
      now,
      rowCounts: tables.map((t) => ({ at: t.at, value: t.rowCount })),
      ...(last ? { previousSchema: last.schema } : {}),
      observed: (id) => observed.get(id) ?? [],
    };
  }

  /** Stores check results of one asset for this run (no-op without a store). */
  async record(asset: string, results: readonly CheckResult[]): Promise<void> {
    const store = this.options.store;
    if (!store || results.length === 0) return;
    const at = this.now().toISOString();
    await store.recordChecks(results.map((r) => checkRecord(this.runId, at, asset, r)));
  }

  /** RunDeps.audit */
  readonly audit = (node: ManifestNode, _session: EngineSession): BeforeCommit | undefined => {
    const specs = this.blockingChecks(node);
    // With a store, every table write is audited so its row count and schema enter the history.
    if (specs.length === 0 && !this.options.store) return undefined;
    return (candidate) => this.check(node, candidate);
  };

  private async check(node: ManifestNode, c: CommitCandidate): Promise<readonly WrittenFile[]> {
    const session = c.session;
    const specs = this.blockingChecks(node, c.columns);
    if (specs.length === 0) {
      // Nothing to check: history needs only the row count, which the Delta file stats give.
      const asset = assetName(node) ?? node.id;
      this.auditResults.push({ node: node.id, asset, results: [] });
      await this.recordTable(asset, c.columns, [], await candidateRows(c));
      return c.files;
    }
    const id = ++this.seq;
    const view = `__weir_candidate_${id}`;
    await session.exec(`CREATE OR REPLACE TEMP VIEW ${view} AS ${await candidateSql(c)}`);
    const asset = assetName(node) ?? node.id;
    try {
      const results = specs.length
        ? await runChecks(
            session,
            specs,
            {
              relation: view,
              resolveRelation: this.resolver(),
              history: await this.historyFor(asset, specs),
            },
            { sampleRows: true, columns: c.columns },
          )
        : [];
      this.auditResults.push({ node: node.id, asset, results });
      await this.record(asset, results);
      const failing = results.filter((r) => r.status === 'fail' || r.status === 'error');
      const mode = String(node.config['on_fail'] ?? 'block');
      if (failing.length === 0) {
        for (const r of results) this.audited.set(r.id, r);
        await this.recordTable(asset, c.columns, results, await candidateRows(c));
        return c.files;
      }
      if (mode === 'quarantine' && failing.every((r) => r.rowLevel && r.status === 'fail')) {
        for (const r of results) if (!failing.includes(r)) this.audited.set(r.id, r);
        const files = await this.quarantine(node, specs, failing, c);
        await this.recordTable(asset, c.columns, results, await candidateRows({ ...c, files }));
        return files;
      }
      throw blockingError(node, asset, failing, mode === 'quarantine');
    } finally {
      await session.exec(`DROP VIEW IF EXISTS ${view}`);
    }
  }

  /** The table's row count, schema and freshness as this write leaves it. */
  private async recordTable(
    asset: string,
    columns: readonly ColumnSchema[],
    results: readonly CheckResult[],
    rowCount: number,
  ): Promise<void> {
    const store = this.options.store;
    if (!store) return;
    const fresh = results.find((r) => r.type === 'weir_freshness' && typeof r.observedValue === 'string');
    await store.recordTable({
      runId: this.runId,
      at: this.now().toISOString(),
      asset,
      rowCount,
      freshness: fresh ? String(fresh.observedValue) : null,
      schema: columns.map((col) => ({ name: col.name, type: col.type })),
    });
  }

  private resolver(): CheckTarget['resolveRelation'] {
    const { manifest } = this.options;
    return (expr) => {
      const parsed = parseRelationExpr(expr);
      const id = !parsed
        ? undefined
        : parsed.kind === 'ref'
          ? manifest.byName.get(parsed.name)
          : manifest.sourcesByName.get(`${parsed.source}.${parsed.name}`);
      const rel = id ? manifest.nodes.get(id)?.relation : undefined;
      if (!rel) throw new WeirError('WEIR-C001', `cannot resolve '${expr}'`);
      return `${quoteIdent(rel.schema)}.${quoteIdent(rel.identifier)}`;
    };
  }

  /**
   * Splits the new rows: those no failing rule flags are rewritten as the files to commit; the
   * others go to `quarantine.<schema>__<name>` with the names of the rules they broke. Rows in =
   * rows committed + rows quarantined.
   */
  private async quarantine(
    node: ManifestNode,
    specs: readonly CheckSpec[],
    failing: readonly CheckResult[],
    c: CommitCandidate,
  ): Promise<readonly WrittenFile[]> {
    const { session } = c;
    const rel = node.relation;
    if (!rel) throw new WeirError('WEIR-C003', `${node.id} has no relation`);
    const newRows = `(${filesSql(
      c.files.map((f) => f.path),
      c,
    )})`;
    const flags: string[] = [];
    const names: string[] = [];
    for (const r of failing) {
      const spec = specs.find((s) => s.id === r.id);
      if (!spec) continue;
      const check = compileCheck(spec, { relation: newRows, resolveRelation: this.resolver() });
      if (!check.unexpectedRow) continue;
      const pred = spec.where
        ? `coalesce((${spec.where}) AND ${check.unexpectedRow}, FALSE)`
        : `coalesce(${check.unexpectedRow}, FALSE)`;
      flags.push(`${pred} AS __weir_q${flags.length}`);
      names.push(r.name);
    }
    const flagNames = flags.map((_f, i) => `__weir_q${i}`);
    const flagged = `(SELECT *, ${flags.join(', ')} FROM ${newRows} AS __weir_n) AS __weir_fl`;
    const anyFlag = flagNames.join(' OR ');
    const exclude = `EXCLUDE (${flagNames.join(', ')})`;
    const passing = await c.table.write(
      session,
      `SELECT * ${exclude} FROM ${flagged} WHERE NOT (${anyFlag})`,
      c.columns,
    );
    const rulesList = `list_filter([${flagNames.map((f, i) => `CASE WHEN ${f} THEN ${quoteLiteral(names[i] ?? '')} END`).join(', ')}], x -> x IS NOT NULL)`;
    const runId = this.runId;
    const qRel = quarantineRelation(rel);
    const qTable = new TableHandle(
      this.options.lake,
      `${qRel.schema}/${qRel.identifier}`,
      this.options.checkpointInterval,
      session,
    );
    const bad = await qTable.write(
      session,
      `SELECT * ${exclude}, ${rulesList} AS _weir_failed_rules, ${quoteLiteral(runId)} AS _weir_run_id, now()::TIMESTAMPTZ AS _weir_quarantined_at FROM ${flagged} WHERE ${anyFlag}`,
    );
    const rowsIn = c.files.reduce((a, f) => a + f.rows, 0);
    const rowsCommitted = passing.files.reduce((a, f) => a + f.rows, 0);
    const rowsQuarantined = bad.files.reduce((a, f) => a + f.rows, 0);
    if (rowsCommitted + rowsQuarantined !== rowsIn) {
      throw new WeirError(
        QUALITY_CODES.blockingCheckFailed,
        `${node.name}: quarantine split ${rowsIn} rows into ${rowsCommitted} + ${rowsQuarantined}`,
        {
          node: node.id,
          hint: 'a rule predicate is not deterministic over these rows; report this with the model SQL',
        },
      );
    }
    if (bad.files.length > 0) {
      await qTable.append(bad.files, bad.columns, {
        operation: 'WRITE',
        operationParameters: { mode: 'Append', source: assetName(node) },
      });
      await this.options.state.putCatalogEntry({
        asset: `${qRel.schema}.${qRel.identifier}`,
        nodeId: `quarantine.${node.id}`,
        kind: 'table',
        location: qTable.location,
        sql: null,
        updatedAt: new Date().toISOString(),
        runId,
      });
    }
    const outcome: QuarantineOutcome = {
      asset: assetName(node) ?? node.id,
      quarantineAsset: `${qRel.schema}.${qRel.identifier}`,
      rowsIn,
      rowsCommitted,
      rowsQuarantined,
      rules: names,
    };
    this.quarantines.push(outcome);
    this.options.logger.warn('rows quarantined', { ...outcome });
    return passing.files;
  }

  /** A per-run executor of test nodes that batches the tests of one table into one scan. */
  testRunner(ctx: TestRunnerContext): TestRunner {
    return new TestRunner(ctx, this);
  }
}

export interface TestRunnerContext {
  readonly manifest: Manifest;
  /** The run's selected node ids. */
  readonly ids: readonly string[];
  /** SQL relation of a node (ephemeral-aware), from the run's compiler. */
  readonly relationOf: (id: string) => string;
}

/**
 * Runs test nodes. The first selected test of a table triggers one batch for all the selected tests
 * of that table that read only it; the others await the shared result. Tests the audit already ran
 * on the committed data report the audit's result.
 */
export class TestRunner {
  private readonly batches = new Map<string, Promise<Map<string, CheckResult>>>();
  readonly results: CheckResult[] = [];

  private readonly resolveRelation: (expr: string) => string;

  constructor(
    private readonly ctx: TestRunnerContext,
    private readonly gate?: QualityGate,
  ) {
    this.resolveRelation = (expr) => {
      const parsed = parseRelationExpr(expr);
      const m = ctx.manifest;
      const id = !parsed
        ? undefined
        : parsed.kind === 'ref'
          ? m.byName.get(parsed.name)
          : m.sourcesByName.get(`${parsed.source}.${parsed.name}`);
      if (!id) throw new WeirError('WEIR-C001', `cannot resolve '${expr}'`);
      return ctx.relationOf(id);
    };
  }

  async run(node: ManifestNode, compiledSql: string, session: EngineSession): Promise<TestOutcome> {
    const prior = this.gate?.auditedResult(node.id);
    if (prior) return outcomeOf({ ...prior, message: `${prior.message} (checked before commit)` });
    const spec = specOfTest(node);
    const attached = node.test?.attachedNodeId;
    let result: CheckResult | undefined;
    if (node.test?.kind !== 'generic' || !attached) {
      const [r] = await runChecks(
        session,
        [],
        { relation: '' },
        { precompiled: [compileSqlCheck(spec, compiledSql)] },
      );
      result = r;
    } else if (spec.type === 'relationships' || node.dependsOn.length > 1) {
      const [r] = await runChecks(session, [spec], {
        relation: this.ctx.relationOf(attached),
        resolveRelation: this.resolveRelation,
      });
      result = r;
      const owner = this.ctx.manifest.nodes.get(attached);
      if (r) await this.gate?.record((owner ? assetName(owner) : null) ?? attached, [r]);
    } else {
      let batch = this.batches.get(attached);
      if (!batch) {
        batch = this.runBatch(attached, session);
        this.batches.set(attached, batch);
      }
      result = (await batch).get(node.id);
    }
    if (!result)
      throw new WeirError(QUALITY_CODES.checkSqlError, `test ${node.name} produced no result`, {
        at: node.at,
      });
    this.results.push(result);
    return outcomeOf(result);
  }

  private async runBatch(attached: string, session: EngineSession): Promise<Map<string, CheckResult>> {
    const selected = new Set(this.ctx.ids);
    const specs: CheckSpec[] = [];
    for (const id of selected) {
      const t = this.ctx.manifest.nodes.get(id);
      if (t?.resourceType !== 'test' || t.test?.kind !== 'generic' || t.test.attachedNodeId !== attached)
        continue;
      if (t.test.testName === 'relationships' || t.dependsOn.length > 1 || this.gate?.auditedResult(id))
        continue;
      specs.push(specOfTest(t));
    }
    const node = this.ctx.manifest.nodes.get(attached);
    const asset = (node ? assetName(node) : null) ?? attached;
    const results = await runChecks(session, specs, {
      relation: this.ctx.relationOf(attached),
      resolveRelation: this.resolveRelation,
      ...(this.gate ? { history: await this.gate.historyFor(asset, specs) } : {}),
    });
    await this.gate?.record(asset, results);
    return new Map(results.map((r) => [r.id, r]));
  }
}

function outcomeOf(r: CheckResult): TestOutcome {
  if (r.status === 'error') throw r.error ?? new WeirError(QUALITY_CODES.checkSqlError, r.message);
  const samples =
    r.status === 'pass' || r.partialUnexpectedList.length === 0
      ? ''
      : `; e.g. ${r.partialUnexpectedList.slice(0, 5).map(formatObserved).join(', ')}`;
  const message =
    r.status === 'pass'
      ? 'pass'
      : r.origin === 'schema' && r.failures !== null && isDbtName(r.type)
        ? `${r.status}: ${r.failures} failing row${r.failures === 1 ? '' : 's'}${samples}`
        : `${r.message}${samples}`;
  return {
    status: r.status,
    rows: null,
    bytes: null,
    version: null,
    message,
    ...(r.failures !== null ? { failures: r.failures } : {}),
  };
}

function isDbtName(type: string): boolean {
  return ['unique', 'not_null', 'accepted_values', 'relationships', 'singular'].includes(type);
}

function blockingError(
  node: ManifestNode,
  asset: string,
  failing: readonly CheckResult[],
  quarantineMode: boolean,
): WeirError {
  const lines = failing.map((r) => {
    const where = r.at ? ` (${formatLocation(r.at)})` : '';
    const rows = r.sampleRows.length ? `\n  sample rows:\n${formatSampleRows(r.sampleRows)}` : '';
    return `- ${r.name}${where}: ${r.message}${rows}`;
  });
  const first = failing[0];
  const mismatch = failing.filter((r) => r.type === 'contract_column_type');
  const contractPath = mismatch[0]?.at?.file;
  return new WeirError(
    mismatch.length ? QUALITY_CODES.contractMismatch : QUALITY_CODES.blockingCheckFailed,
    `${asset}${mismatch.length ? ` does not match its contract ${contractPath ?? ''}:` : ':'} ${failing.length} blocking check${failing.length === 1 ? '' : 's'} failed on the new data; nothing was committed, the table stays at its previous version\n${lines.join('\n')}`,
    {
      node: node.id,
      ...(first?.at ? { at: first.at } : { at: node.at }),
      hint: mismatch.length
        ? `change the model so its columns have the contract's names and types, or update ${contractPath ?? 'the contract'}`
        : quarantineMode
          ? 'on_fail: quarantine only splits row-level rules; fix the data or the rule, or make it severity: warn'
          : `fix the model's data, or set config on_fail: quarantine to publish passing rows and quarantine the rest`,
      data: {
        checks: failing.map((r) => ({
          name: r.name,
          type: r.type,
          message: r.message,
          samples: r.sampleRows,
        })),
      },
    },
  );
}

/** Rows the table will hold after the commit, from file statistics (no scan). */
async function candidateRows(c: CommitCandidate): Promise<number> {
  const fresh = c.files.reduce((n, f) => n + f.rows, 0);
  if (c.mode === 'overwrite' || !(await c.table.exists())) return fresh;
  const removed = new Set(c.removed);
  const kept = (await c.table.files()).filter((f) => !removed.has(f.path)).reduce((n, f) => n + f.rows, 0);
  return kept + fresh;
}

/** The table as the commit would leave it: current files minus removed ones, plus the new files. */
async function candidateSql(c: CommitCandidate): Promise<string> {
  const fresh = c.files.map((f) => f.path);
  if (c.mode === 'overwrite') return c.relation ? `SELECT * FROM ${c.relation}` : filesSql(fresh, c);
  if (c.mode === 'append' && (await c.table.exists())) {
    return fresh.length
      ? `SELECT * FROM (${await c.table.scanSql()}) UNION ALL BY NAME SELECT * FROM (${filesSql(fresh, c)})`
      : await c.table.scanSql();
  }
  const removed = new Set(c.removed);
  const kept = (await c.table.exists())
    ? (await c.table.files()).map((f) => f.path).filter((p) => !removed.has(p))
    : [];
  return filesSql([...kept, ...fresh], c);
}

function filesSql(paths: readonly string[], c: CommitCandidate): string {
  if (paths.length === 0) {
    const cols = c.columns.map((col) => `CAST(NULL AS ${col.type}) AS ${quoteIdent(col.name)}`).join(', ');
    return `SELECT ${cols || '1 AS __weir_empty'} WHERE FALSE`;
  }
  const cols = c.columns.map((col) => quoteIdent(col.name)).join(', ');
  return `SELECT ${cols || '*'} FROM read_parquet([${paths.map(quoteLiteral).join(', ')}], union_by_name = true)`;
}

function checkRecord(runId: string, at: string, asset: string, r: CheckResult): CheckRecord {
  return {
    runId,
    at,
    asset,
    checkId: r.id,
    name: r.name,
    type: r.type,
    column: r.column ?? null,
    severity: r.severity,
    origin: r.origin,
    status: r.status,
    observedValue: r.observedValue ?? null,
    elementCount: r.elementCount ?? null,
    unexpectedCount: r.unexpectedCount ?? null,
    failures: r.failures,
    message: r.message,
    samples: r.sampleRows.length ? r.sampleRows : r.partialUnexpectedList,
  };
}

/** Contracts of a project, parsed, validated and bound to the manifest's assets. */
export interface ContractSet {
  readonly contracts: readonly ParsedContract[];
  readonly bindings: readonly ContractBinding[];
  readonly diagnostics: readonly Diagnostic[];
  /** ExtraChecks for the QualityGate: every rule of the contracts bound to the node's asset. */
  readonly checksFor: ExtraChecks;
}

/**
 * Parses every contract (all problems reported at once by the caller), binds schema objects to
 * assets, and records each bound contract in its node's `meta.contract` (classification, SLA,
 * owner), which manifest.json carries to the catalog.
 */
export function loadContracts(manifest: Manifest, parsed: readonly ParseContractResult[]): ContractSet {
  const diagnostics: Diagnostic[] = [];
  const contracts: ParsedContract[] = [];
  for (const r of parsed) {
    diagnostics.push(...r.diagnostics);
    if (r.contract) contracts.push(r.contract);
  }
  const assets = [...manifest.nodes.values()]
    .filter((n) => n.relation && ['model', 'seed', 'snapshot', 'source'].includes(n.resourceType))
    .map((n) => ({
      asset: assetName(n) ?? '',
      name: n.name,
      identifier: n.relation?.identifier ?? n.name,
    }));
  const bound = bindContracts(contracts, assets);
  diagnostics.push(...bound.diagnostics);
  const byAsset = new Map<string, ContractBinding[]>();
  for (const b of bound.bindings) {
    const list = byAsset.get(b.asset) ?? [];
    list.push(b);
    byAsset.set(b.asset, list);
  }
  for (const n of manifest.nodes.values()) {
    const list = byAsset.get(assetName(n) ?? '');
    if (list?.[0]) n.config.meta = { ...n.config.meta, contract: contractMeta(list[0]) };
  }
  return {
    contracts,
    bindings: bound.bindings,
    diagnostics,
    checksFor: (node, columns) =>
      (byAsset.get(assetName(node) ?? '') ?? []).flatMap((b) => contractChecks(b, columns)),
  };
}
