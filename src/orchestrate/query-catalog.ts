import { existsSync } from 'node:fs';
import { copyFile, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Engine, EngineSession } from '../core/engine.js';
import { quoteIdent } from '../core/engine.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CatalogEntry } from '../core/state-store.js';
import type { ObjectStore } from '../lake/object-store.js';
import { TableHandle } from './table-handle.js';
import { compareText } from '../core/compare.js';

/**
 * The query catalog: a DuckDB file (`.weir/weir.duckdb`, or the profile's `path`) holding one
 * view per asset over its current Delta snapshot, so any DuckDB client or BI tool reads the
 * latest committed data. It is rebuilt into a temporary file and renamed into place, so a
 * reader never sees it half written.
 */
export interface CatalogSources {
  readonly entries: readonly CatalogEntry[];
  /** Asset names in dependency order (views after what they read). */
  readonly order: readonly string[];
  readonly lake: ObjectStore;
  readonly checkpointInterval: number;
  /** Session of the run's engine, used to read Delta logs. */
  readonly session: EngineSession;
}

export interface CatalogFileOptions {
  readonly catalogPath: string;
  /** Opens a DuckDB engine on a file. */
  readonly openFileEngine: (path: string) => Promise<Engine>;
  readonly logger: Logger;
}

/** The statements creating the views of `entries`, schemas first, in dependency order. */
export async function viewStatements(options: CatalogSources): Promise<string[]> {
  const rank = new Map(options.order.map((a, i) => [a, i]));
  const entries = [...options.entries].sort(
    (a, b) =>
      (rank.get(a.asset) ?? Number.MAX_SAFE_INTEGER) - (rank.get(b.asset) ?? Number.MAX_SAFE_INTEGER) ||
      compareText(a.asset, b.asset),
  );
  const schemas = new Set<string>();
  const statements: string[] = [];
  for (const e of entries) {
    if (e.kind === 'view' && e.sql) {
      statements.push(...assetViewStatements(e.asset, e.sql, schemas));
      continue;
    }
    const dot = e.asset.indexOf('.');
    const table = new TableHandle(
      options.lake,
      `${e.asset.slice(0, dot)}/${e.asset.slice(dot + 1)}`,
      options.checkpointInterval,
      options.session,
    );
    if (await table.exists())
      statements.push(...assetViewStatements(e.asset, await table.scanSql(), schemas));
  }
  return statements;
}

/**
 * The view of one asset (`schema.name`) selecting `sql`, after its schema when `schemas` (the
 * schemas already created) lacks it.
 */
function assetViewStatements(asset: string, sql: string, schemas: Set<string>): string[] {
  const dot = asset.indexOf('.');
  const schema = asset.slice(0, dot);
  const statements: string[] = [];
  if (!schemas.has(schema)) {
    schemas.add(schema);
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  }
  statements.push(
    `CREATE OR REPLACE VIEW ${quoteIdent(schema)}.${quoteIdent(asset.slice(dot + 1))} AS ${sql}`,
  );
  return statements;
}

/** How long the catalog writer waits for more views before a batch. */
const BATCH_WAIT_MS = 50;

/**
 * Builds the next query catalog beside the current one while a run goes on: it starts from a
 * copy of the current catalog (or, when there is none, from views of every asset the state
 * store knows), takes each asset's view as soon as its node finishes, and is renamed into place
 * by `finish`. Views are created in the order they arrive, which for a run's finished nodes is a
 * dependency order. The work overlaps the run instead of following it.
 */
export class CatalogPublisher {
  /** Statement lists (or functions giving them) not yet taken by the writer. */
  private pending: Array<readonly string[] | (() => Promise<readonly string[]>)> = [];
  private writer: Promise<void> | undefined;
  private views = 0;
  private readonly failed: string[] = [];
  private readonly schemas = new Set<string>();
  /** Aborted when the run ends: the writer stops waiting for more views. */
  private readonly hurry = new AbortController();

  private constructor(
    private readonly options: CatalogFileOptions,
    private readonly tmp: string,
    private readonly engine: Engine,
    private readonly session: EngineSession,
    /** Whether the catalog started as a copy of the current one. */
    readonly copied: boolean,
  ) {}

  static async open(options: CatalogFileOptions): Promise<CatalogPublisher> {
    const tmp = `${options.catalogPath}.tmp-${process.pid}`;
    await removeStaleCopies(options.catalogPath);
    await rm(tmp, { force: true });
    await rm(`${tmp}.wal`, { force: true });
    const copied = existsSync(options.catalogPath);
    if (copied) await copyFile(options.catalogPath, tmp);
    const engine = await options.openFileEngine(tmp);
    try {
      const session = await engine.session();
      return new CatalogPublisher(options, tmp, engine, session, copied);
    } catch (err) {
      await engine.close();
      throw err;
    }
  }

  /** Queues statements, or a function giving them when their turn comes. */
  addStatements(statements: readonly string[] | (() => Promise<readonly string[]>)): void {
    this.pending.push(statements);
    this.startWriter();
  }

  private startWriter(): void {
    if (this.writer) return;
    this.writer = this.drain().finally(() => {
      this.writer = undefined;
      // Queued after the writer's last look but before it was cleared.
      if (this.pending.length > 0) this.startWriter();
    });
  }

  /** Queues the view of one asset, given what it selects. */
  addView(asset: string, sql: string): void {
    this.addStatements(assetViewStatements(asset, sql, this.schemas));
  }

  /**
   * Writes what is queued, a batch at a time: everything queued since the last batch goes into one
   * transaction. The file is a private copy until `finish` renames it, so committing per view
   * would only cost a WAL sync each (about 300 for a 200-model build) and buy nothing.
   */
  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      // A short wait gathers the views of nodes finishing meanwhile into the same transaction;
      // `finish` cuts it short.
      if (!this.hurry.signal.aborted)
        await delay(BATCH_WAIT_MS, undefined, { signal: this.hurry.signal }).catch(() => undefined);
      const batch = this.pending;
      this.pending = [];
      const statements: string[] = [];
      for (const item of batch) {
        try {
          statements.push(...(typeof item === 'function' ? await item() : item));
        } catch (err) {
          this.options.logger.warn('catalog views not created', { error: errorMessage(err) });
        }
      }
      await this.execBatch(statements);
    }
  }

  /**
   * One transaction, sent to DuckDB as one text (one round trip for the batch, not one per view);
   * when a statement fails, the batch is redone one statement at a time.
   */
  private async execBatch(statements: readonly string[]): Promise<void> {
    if (statements.length === 0) return;
    if (statements.length > 1) {
      try {
        await this.session.exec(['BEGIN TRANSACTION', ...statements, 'COMMIT'].join('\n;\n'));
        this.views += statements.filter(isView).length;
        return;
      } catch {
        await this.session.exec('ROLLBACK').catch(() => undefined);
      }
    }
    for (const sql of statements) {
      try {
        await this.session.exec(sql);
        if (isView(sql)) this.views++;
      } catch (err) {
        this.failed.push(sql.slice(0, 120));
        this.options.logger.warn('catalog view not created', { error: errorMessage(err) });
      }
    }
  }

  /** Waits for the queued views, then puts the new catalog in place of the old one. */
  async finish(): Promise<{ views: number; failed: string[] }> {
    try {
      await this.settled();
      await this.session.exec('CHECKPOINT');
    } finally {
      await this.close();
    }
    await rename(this.tmp, this.options.catalogPath);
    return { views: this.views, failed: [...this.failed] };
  }

  /** Drops the new catalog; the current one stays as it was. */
  async abandon(): Promise<void> {
    await this.settled();
    await this.close();
    await rm(this.tmp, { force: true });
    await rm(`${this.tmp}.wal`, { force: true });
  }

  /** Waits until everything queued so far (and queued while waiting) is written. */
  private async settled(): Promise<void> {
    this.hurry.abort();
    while (this.writer) await this.writer;
  }

  private async close(): Promise<void> {
    this.session.close();
    await this.engine.close();
  }
}

function isView(sql: string): boolean {
  return sql.startsWith('CREATE OR REPLACE VIEW');
}

/** Removes catalogs left half written by processes that were killed (their pid is gone). */
async function removeStaleCopies(catalogPath: string): Promise<void> {
  const prefix = `${basename(catalogPath)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(dirname(catalogPath));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await rm(join(dirname(catalogPath), name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
