import { existsSync } from 'node:fs';
import { copyFile, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Engine, EngineSession } from '../core/engine.js';
import { quoteIdent } from '../core/engine.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CatalogEntry } from '../core/state-store.js';
import type { ObjectStore } from '../lake/object-store.js';
import { TableHandle } from './table-handle.js';

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
      a.asset.localeCompare(b.asset),
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

/**
 * Builds the next query catalog beside the current one while a run goes on: it starts from a
 * copy of the current catalog (or, when there is none, from views of every asset the state
 * store knows), takes each asset's view as soon as its node finishes, and is renamed into place
 * by `finish`. Views are created in the order they arrive, which for a run's finished nodes is a
 * dependency order. The work overlaps the run instead of following it.
 */
export class CatalogPublisher {
  private queue: Promise<void> = Promise.resolve();
  private views = 0;
  private readonly failed: string[] = [];
  private readonly schemas = new Set<string>();

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
    this.queue = this.queue.then(async () => {
      let list: readonly string[];
      try {
        list = typeof statements === 'function' ? await statements() : statements;
      } catch (err) {
        this.options.logger.warn('catalog views not created', { error: errorMessage(err) });
        return;
      }
      for (const sql of list) await this.exec(sql);
    });
  }

  /** Queues the view of one asset, given what it selects. */
  addView(asset: string, sql: string): void {
    this.addStatements(assetViewStatements(asset, sql, this.schemas));
  }

  private async exec(sql: string): Promise<void> {
    try {
      await this.session.exec(sql);
      if (sql.startsWith('CREATE OR REPLACE VIEW')) this.views++;
    } catch (err) {
      this.failed.push(sql.slice(0, 120));
      this.options.logger.warn('catalog view not created', { error: errorMessage(err) });
    }
  }

  /** Waits for the queued views, then puts the new catalog in place of the old one. */
  async finish(): Promise<{ views: number; failed: string[] }> {
    try {
      await this.queue;
      await this.session.exec('CHECKPOINT');
    } finally {
      await this.close();
    }
    await rename(this.tmp, this.options.catalogPath);
    return { views: this.views, failed: [...this.failed] };
  }

  /** Drops the new catalog; the current one stays as it was. */
  async abandon(): Promise<void> {
    await this.queue;
    await this.close();
    await rm(this.tmp, { force: true });
    await rm(`${this.tmp}.wal`, { force: true });
  }

  private async close(): Promise<void> {
    this.session.close();
    await this.engine.close();
  }
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
