import { existsSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
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
export interface PublishCatalogOptions {
  readonly catalogPath: string;
  readonly entries: readonly CatalogEntry[];
  /** Asset names in dependency order (views after what they read). */
  readonly order: readonly string[];
  readonly lake: ObjectStore;
  readonly checkpointInterval: number;
  /** Session of the run's engine, used to read Delta logs. */
  readonly session: EngineSession;
  /** Opens a DuckDB engine on a file. */
  readonly openFileEngine: (path: string) => Promise<Engine>;
  readonly logger: Logger;
  /**
   * Assets this run changed. When given and a catalog exists, it is copied and only these views
   * are replaced: the others still point at their unchanged snapshots.
   */
  readonly changed?: ReadonlySet<string>;
}

export async function viewStatements(
  options: Pick<PublishCatalogOptions, 'entries' | 'order' | 'lake' | 'checkpointInterval' | 'session'>,
): Promise<string[]> {
  const rank = new Map(options.order.map((a, i) => [a, i]));
  const entries = [...options.entries].sort(
    (a, b) =>
      (rank.get(a.asset) ?? Number.MAX_SAFE_INTEGER) - (rank.get(b.asset) ?? Number.MAX_SAFE_INTEGER) ||
      a.asset.localeCompare(b.asset),
  );
  const schemas = new Set<string>();
  const statements: string[] = [];
  for (const e of entries) {
    const dot = e.asset.indexOf('.');
    const schema = e.asset.slice(0, dot);
    const name = e.asset.slice(dot + 1);
    if (!schemas.has(schema)) {
      schemas.add(schema);
      statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    }
    const target = `${quoteIdent(schema)}.${quoteIdent(name)}`;
    if (e.kind === 'view' && e.sql) {
      statements.push(`CREATE OR REPLACE VIEW ${target} AS ${e.sql}`);
    } else {
      const table = new TableHandle(
        options.lake,
        `${schema}/${name}`,
        options.checkpointInterval,
        options.session,
      );
      if (!(await table.exists())) continue;
      statements.push(`CREATE OR REPLACE VIEW ${target} AS ${await table.scanSql()}`);
    }
  }
  return statements;
}

export async function publishQueryCatalog(
  options: PublishCatalogOptions,
): Promise<{ views: number; failed: string[] }> {
  const tmp = `${options.catalogPath}.tmp-${process.pid}`;
  await rm(tmp, { force: true });
  await rm(`${tmp}.wal`, { force: true });
  const incremental = options.changed !== undefined && existsSync(options.catalogPath);
  if (incremental) await copyFile(options.catalogPath, tmp);
  const statements = await viewStatements(
    incremental
      ? { ...options, entries: options.entries.filter((e) => options.changed?.has(e.asset)) }
      : options,
  );
  const engine = await options.openFileEngine(tmp);
  const failed: string[] = [];
  let views = 0;
  try {
    const session = await engine.session();
    try {
      for (const sql of statements) {
        try {
          await session.exec(sql);
          if (sql.startsWith('CREATE OR REPLACE VIEW')) views++;
        } catch (err) {
          failed.push(sql.slice(0, 120));
          options.logger.warn('catalog view not created', { error: errorMessage(err) });
        }
      }
      await session.exec('CHECKPOINT');
    } finally {
      session.close();
    }
  } finally {
    await engine.close();
  }
  await rename(tmp, options.catalogPath);
  return { views, failed };
}
