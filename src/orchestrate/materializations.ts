import {
  quoteIdent,
  quoteLiteral,
  type ColumnSchema,
  type EngineSession,
  type WrittenFile,
} from '../core/engine.js';
import { WeirError } from '../core/errors.js';
import { deltaRoundTripType, writeCastExpr } from '../lake/delta/schema.js';
import type { ManifestNode } from './manifest.js';
import { HOT_TABLE_MAX_PREVIOUS_ROWS, qualified, type RelationName, type RunCatalog } from './run-catalog.js';
import type { CommitOp, TableHandle } from './table-handle.js';

/**
 * How each materialization turns compiled SQL into a table version. Every write follows the
 * same shape: write new Parquet files, then make them visible with one Delta commit. A process
 * killed before the commit leaves files nobody can see and the table at its previous version.
 */
export interface MaterializeContext {
  readonly node: ManifestNode;
  readonly sql: string;
  readonly session: EngineSession;
  readonly table: TableHandle;
  readonly runStartedAt: Date;
  readonly fullRefresh: boolean;
  /** The partition a partitioned run builds (`incremental_strategy='insert_overwrite'`). */
  readonly partition?: PartitionWindow;
  /**
   * Where a `table` build may keep an in-memory copy of what it committed, under the asset's
   * name in the run's engine, for downstream nodes to read.
   */
  readonly inMemory?: { readonly catalog: RunCatalog; readonly relation: RelationName };
}

/** A partition: a key, and for time partitions the window in the partition's wall-clock time. */
export interface PartitionWindow {
  readonly key: string;
  /** Inclusive, `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (local to the partition's timezone). */
  readonly start?: string;
  /** Exclusive. */
  readonly end?: string;
}

export interface MaterializeResult {
  readonly rows: number;
  readonly bytes: number;
  /** The version committed, or null when nothing changed (no commit made). */
  readonly version: number | null;
  readonly message: string;
  /** True when the asset's name in the run's engine now holds the in-memory copy. */
  readonly inMemory?: boolean;
}

const SRC = '__weir_src';
const BATCH = '__weir_batch';

function sumFiles(files: readonly WrittenFile[]): { rows: number; bytes: number } {
  return files.reduce((acc, f) => ({ rows: acc.rows + f.rows, bytes: acc.bytes + f.bytes }), {
    rows: 0,
    bytes: 0,
  });
}

function selectList(columns: readonly ColumnSchema[], from?: string): string {
  return columns.map((c) => (from ? `${from}.${quoteIdent(c.name)}` : quoteIdent(c.name))).join(', ');
}

function keyColumns(node: ManifestNode): string[] {
  const key = node.config.unique_key;
  if (key === undefined || key === null) return [];
  const list = Array.isArray(key) ? key : String(key).split(',');
  return list.map((k) => String(k).trim()).filter(Boolean);
}

/** NULL-safe key equality: a NULL key matches a NULL key, so re-merging never duplicates rows. */
function keyMatch(keys: readonly string[], left: string, right: string): string {
  return keys
    .map((k) => `${left}.${quoteIdent(k)} IS NOT DISTINCT FROM ${right}.${quoteIdent(k)}`)
    .join(' AND ');
}

/** Replaces a table's rows with `ctx.sql` (tables, full refreshes, seeds). */
export async function materializeTable(
  ctx: MaterializeContext,
  operation = 'CREATE OR REPLACE TABLE',
  operationParameters?: CommitOp['operationParameters'],
): Promise<MaterializeResult> {
  const op: CommitOp = { operation, ...(operationParameters ? { operationParameters } : {}) };
  if (ctx.inMemory?.catalog.hasRoom() && (await ctx.table.rowCount()) <= HOT_TABLE_MAX_PREVIOUS_ROWS) {
    return materializeTableInMemory(ctx, ctx.inMemory, op);
  }
  const { files, columns } = await ctx.table.write(ctx.session, ctx.sql);
  const version = await ctx.table.overwrite(files, columns, op);
  const { rows, bytes } = sumFiles(files);
  return { rows, bytes, version, message: `${operation.toLowerCase()}: ${rows} rows` };
}

/**
 * A table built in the run's engine first (`CREATE TABLE AS`, as a plain DuckDB build would),
 * then written to Parquet from memory and committed. The result's schema comes from the catalog
 * instead of a separate bind of the model's SQL, and once committed the copy takes the asset's
 * name, so dependents and tests read memory. Columns whose type Delta stores differently are
 * read through a typing view, so dependents see exactly the types a later read of the Delta table
 * gives. Anything but a clean commit of exactly these rows (a failure, quarantined rows) drops
 * the copy; the caller then points the name at the Delta snapshot as usual.
 */
async function materializeTableInMemory(
  ctx: MaterializeContext,
  target: NonNullable<MaterializeContext['inMemory']>,
  op: CommitOp,
): Promise<MaterializeResult> {
  const { session, table } = ctx;
  const { catalog, relation } = target;
  const staged = catalog.stagingName(relation);
  const stagedName = qualified(staged);
  let adopted = false;
  try {
    await session.exec(`CREATE TABLE ${stagedName} AS ${ctx.sql.replace(/[\s;]+$/, '')}`);
    const columns = await session.describe(`SELECT * FROM ${stagedName}`);
    const retyped = columns.some((c) => deltaRoundTripType(c) !== c.type);
    const typedSelect = retyped
      ? columns
          .map((c) => {
            const type = deltaRoundTripType(c);
            return type === c.type
              ? quoteIdent(c.name)
              : `CAST(${writeCastExpr(c) ?? quoteIdent(c.name)} AS ${type}) AS ${quoteIdent(c.name)}`;
          })
          .join(', ')
      : undefined;
    const source = typedSelect ? `SELECT ${typedSelect} FROM ${stagedName}` : `SELECT * FROM ${stagedName}`;
    const { files, columns: finalColumns } = await table.write(
      session,
      source,
      columns.map((c) => ({ name: c.name, type: deltaRoundTripType(c) })),
    );
    const committed = await table.overwriteWith(
      files,
      finalColumns,
      op,
      typedSelect ? `(${source})` : stagedName,
    );
    const { rows, bytes } = sumFiles(committed.files);
    if (committed.files === files) {
      // A rough size of the copy, for the engine's memory budget (no catalog scan needed).
      const estimate = rows * finalColumns.length * 16;
      adopted = await catalog.adoptTable(session, relation, staged, estimate, typedSelect);
    }
    return {
      rows,
      bytes,
      version: committed.version,
      message: `${op.operation.toLowerCase()}: ${rows} rows`,
      inMemory: adopted,
    };
  } finally {
    if (!adopted) await catalog.discard(session, staged);
  }
}

export async function materializeIncremental(ctx: MaterializeContext): Promise<MaterializeResult> {
  const { node, session, table } = ctx;
  if (node.config.incremental_strategy === 'insert_overwrite') return materializePartition(ctx);
  const exists = await table.exists();
  if (!exists || ctx.fullRefresh || node.config.full_refresh === true) {
    return materializeTable(ctx, exists ? 'FULL REFRESH' : 'CREATE TABLE');
  }
  await session.exec(`CREATE OR REPLACE TEMP TABLE ${BATCH} AS ${ctx.sql}`);
  try {
    const batchCols = await session.describe(`SELECT * FROM ${BATCH}`);
    const tableCols = await table.columns();
    const outCols = await reconcileSchema(node, tableCols, batchCols);
    // Dropping or retyping columns (sync_all_columns) rewrites every file under the new schema.
    const rewriteAll =
      outCols.some((c) => {
        const t = tableCols.find((x) => x.name === c.name);
        return t !== undefined && normaliseType(t.type) !== normaliseType(c.type);
      }) || tableCols.some((t) => !outCols.some((c) => c.name === t.name));
    const strategy = String(
      node.config.incremental_strategy ?? (keyColumns(node).length ? 'merge' : 'append'),
    );
    const keys = keyColumns(node);
    const batchSelect = (alias: string): string =>
      outCols
        .map((c) => {
          const inBatch = batchCols.find((b) => b.name === c.name);
          return inBatch
            ? `CAST(${alias}.${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}`
            : `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`;
        })
        .join(', ');

    if (rewriteAll && (strategy === 'append' || keys.length === 0)) {
      const current = await table.files();
      const present = current.length
        ? new Set(
            (
              await session.describe(
                `SELECT * FROM read_parquet(${fileList(current.map((f) => f.path))}, union_by_name = true)`,
              )
            ).map((c) => c.name),
          )
        : new Set<string>();
      const oldSelect = outCols
        .map((c) =>
          present.has(c.name)
            ? `TRY_CAST(t.${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}`
            : `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`,
        )
        .join(', ');
      const oldRows = current.length
        ? `SELECT ${oldSelect} FROM read_parquet(${fileList(current.map((f) => f.path))}, union_by_name = true) t UNION ALL `
        : '';
      const { files } = await table.write(
        session,
        `${oldRows}SELECT ${batchSelect('b')} FROM ${BATCH} b`,
        outCols,
      );
      const version = await table.overwrite(files, outCols, {
        operation: 'WRITE',
        operationParameters: { mode: 'Append', schemaSync: true },
      });
      const written = sumFiles(files);
      return {
        ...written,
        version,
        message: `append with schema sync: table rewritten (${written.rows} rows)`,
      };
    }
    if (strategy === 'append' || (strategy === 'merge' && keys.length === 0)) {
      const { files } = await table.write(session, `SELECT ${batchSelect('b')} FROM ${BATCH} b`);
      const written = sumFiles(files);
      if (written.rows === 0) return { ...written, version: null, message: 'append: no new rows' };
      const version = await table.append(files, outCols, {
        operation: 'WRITE',
        operationParameters: { mode: 'Append' },
      });
      return { ...written, version, message: `append: ${written.rows} rows` };
    }
    if (strategy !== 'merge' && strategy !== 'delete+insert') {
      throw new WeirError('WEIR-M001', `unknown incremental_strategy '${strategy}'`, {
        node: node.id,
        at: node.at,
        hint: 'use append, merge or delete+insert',
      });
    }
    if (keys.length === 0) {
      throw new WeirError('WEIR-M004', `incremental_strategy '${strategy}' needs a unique_key`, {
        node: node.id,
        at: node.at,
        hint: "add unique_key='id' (or a list) to the model's config",
      });
    }
    for (const k of keys) {
      if (!batchCols.some((c) => c.name === k)) {
        throw new WeirError('WEIR-M005', `unique_key column '${k}' is not in the model's output`, {
          node: node.id,
          at: node.at,
          hint: `the model returns: ${batchCols.map((c) => c.name).join(', ')}`,
        });
      }
    }
    if (strategy === 'merge') {
      const dup = await session.query(
        `SELECT ${selectList(keys.map((k) => ({ name: k, type: '' })))}, count(*) AS n FROM ${BATCH} GROUP BY ALL HAVING count(*) > 1 LIMIT 5`,
      );
      if (dup.rows.length > 0) {
        throw new WeirError('WEIR-M003', `merge: the new rows repeat the unique_key (${keys.join(', ')})`, {
          node: node.id,
          at: node.at,
          hint: `deduplicate the model's incremental rows; repeated keys: ${JSON.stringify(
            dup.rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]]))),
            (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
          )}`,
        });
      }
    }

    const current = await table.files();
    let affected: string[] = [];
    if (rewriteAll) {
      affected = current.map((f) => f.path);
    } else if (current.length > 0) {
      const probe = await session.query(
        `SELECT DISTINCT t.filename AS f FROM read_parquet(${fileList(current.map((f) => f.path))}, filename = true, union_by_name = true) t WHERE EXISTS (SELECT 1 FROM ${BATCH} b WHERE ${keyMatch(keys, 't', 'b')})`,
      );
      affected = probe.rows.map((r) => String(r['f']));
    }
    let keptSql = '';
    if (affected.length > 0) {
      const present = new Set(
        (
          await session.describe(`SELECT * FROM read_parquet(${fileList(affected)}, union_by_name = true)`)
        ).map((c) => c.name),
      );
      const oldSelect = outCols
        .map((c) =>
          present.has(c.name)
            ? `${rewriteAll ? 'TRY_CAST' : 'CAST'}(t.${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}`
            : `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`,
        )
        .join(', ');
      const oldRows = `(SELECT ${oldSelect} FROM read_parquet(${fileList(affected)}, union_by_name = true) t)`;
      keptSql = `SELECT o.* FROM ${oldRows} o WHERE NOT EXISTS (SELECT 1 FROM ${BATCH} b WHERE ${keyMatch(keys, 'o', 'b')})`;
      const updateCols = mergeUpdateColumns(node, outCols);
      if (strategy === 'merge' && updateCols) {
        // Matched rows keep their old values outside merge_update_columns.
        const merged = outCols
          .map((c) =>
            updateCols.has(c.name)
              ? `CAST(b.${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}`
              : `CASE WHEN o.__weir_matched THEN o.${quoteIdent(c.name)} ELSE CAST(b.${quoteIdent(c.name)} AS ${c.type}) END AS ${quoteIdent(c.name)}`,
          )
          .join(', ');
        const newSql = `SELECT ${merged} FROM ${BATCH} b LEFT JOIN (SELECT *, true AS __weir_matched FROM ${oldRows}) o ON ${keyMatch(keys, 'o', 'b')}`;
        return await replace(
          ctx,
          affected,
          `${keptSql} UNION ALL ${newSql}`,
          outCols,
          strategy,
          keys,
          rewriteAll,
        );
      }
    }
    const batchRows = `SELECT ${batchSelect('b')} FROM ${BATCH} b`;
    const combined = keptSql ? `${keptSql} UNION ALL ${batchRows}` : batchRows;
    return await replace(ctx, affected, combined, outCols, strategy, keys, rewriteAll);
  } finally {
    await session.exec(`DROP TABLE IF EXISTS ${BATCH}`);
  }
}

async function replace(
  ctx: MaterializeContext,
  affected: readonly string[],
  sql: string,
  columns: readonly ColumnSchema[],
  strategy: string,
  keys: readonly string[],
  rewriteAll: boolean,
): Promise<MaterializeResult> {
  const { files } = await ctx.table.write(ctx.session, sql, columns);
  const written = sumFiles(files);
  const op = {
    operation: strategy === 'merge' ? 'MERGE' : 'DELETE+INSERT',
    operationParameters: {
      uniqueKey: keys.join(','),
      rewrittenFiles: affected.length,
      ...(rewriteAll ? { schemaSync: true } : {}),
    },
  };
  const version = rewriteAll
    ? await ctx.table.overwrite(files, columns, op)
    : await ctx.table.replaceFiles(affected, files, columns, op);
  return {
    ...written,
    version,
    message: `${strategy}: ${written.rows} rows written, ${affected.length} files rewritten`,
  };
}

function mergeUpdateColumns(node: ManifestNode, outCols: readonly ColumnSchema[]): Set<string> | null {
  const include = node.config.merge_update_columns;
  const exclude = node.config.merge_exclude_columns;
  if (Array.isArray(include) && include.length) return new Set(include.map(String));
  if (Array.isArray(exclude) && exclude.length) {
    const ex = new Set(exclude.map(String));
    return new Set(outCols.map((c) => c.name).filter((n) => !ex.has(n)));
  }
  return null;
}

/** Applies `on_schema_change` and returns the columns the table has after this run. */
async function reconcileSchema(
  node: ManifestNode,
  tableCols: readonly ColumnSchema[],
  batchCols: readonly ColumnSchema[],
): Promise<ColumnSchema[]> {
  const mode = String(node.config.on_schema_change ?? 'ignore');
  const tableNames = new Set(tableCols.map((c) => c.name));
  const batchNames = new Set(batchCols.map((c) => c.name));
  const added = batchCols.filter((c) => !tableNames.has(c.name));
  const removed = tableCols.filter((c) => !batchNames.has(c.name));
  const retyped = batchCols.filter((c) => {
    const t = tableCols.find((x) => x.name === c.name);
    return t !== undefined && normaliseType(t.type) !== normaliseType(c.type);
  });
  const changed = added.length > 0 || removed.length > 0 || retyped.length > 0;
  switch (mode) {
    case 'ignore':
      return [...tableCols];
    case 'fail':
      if (changed) {
        throw new WeirError(
          'WEIR-M002',
          `the model's columns no longer match its table (on_schema_change='fail')`,
          {
            node: node.id,
            at: node.at,
            data: { added: added.map((c) => c.name), removed: removed.map((c) => c.name) },
            hint: `${describeChange(added, removed, retyped, tableCols)}; run with --full-refresh, or set on_schema_change to append_new_columns or sync_all_columns`,
          },
        );
      }
      return [...tableCols];
    case 'append_new_columns':
      return [...tableCols, ...added];
    case 'sync_all_columns':
      return batchCols.map((c) => ({ ...c }));
    default:
      throw new WeirError('WEIR-M006', `unknown on_schema_change '${mode}'`, {
        node: node.id,
        at: node.at,
        hint: 'use ignore, append_new_columns, sync_all_columns or fail',
      });
  }
}

function describeChange(
  added: readonly ColumnSchema[],
  removed: readonly ColumnSchema[],
  retyped: readonly ColumnSchema[],
  tableCols: readonly ColumnSchema[],
): string {
  const parts: string[] = [];
  if (added.length) parts.push(`new columns: ${added.map((c) => `${c.name} ${c.type}`).join(', ')}`);
  if (removed.length) parts.push(`missing columns: ${removed.map((c) => c.name).join(', ')}`);
  for (const c of retyped) {
    parts.push(`${c.name} changed from ${tableCols.find((t) => t.name === c.name)?.type} to ${c.type}`);
  }
  return parts.join('; ');
}

function normaliseType(t: string): string {
  return t.toUpperCase().replace(/\s+/g, ' ').trim();
}

export function fileList(paths: readonly string[]): string {
  return `[${paths.map((p) => quoteLiteral(p)).join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Snapshots: slowly changing dimensions, type 2.

export const SNAPSHOT_META_DEFAULTS = {
  dbt_scd_id: 'scd_id',
  dbt_updated_at: 'snapshotted_at',
  dbt_valid_from: 'valid_from',
  dbt_valid_to: 'valid_to',
  dbt_is_current: 'is_current',
} as const;

export async function materializeSnapshot(ctx: MaterializeContext): Promise<MaterializeResult> {
  const { node, session, table } = ctx;
  const cfg = node.config;
  const meta: Record<keyof typeof SNAPSHOT_META_DEFAULTS, string> = {
    ...SNAPSHOT_META_DEFAULTS,
    ...((cfg.snapshot_meta_column_names as Record<string, string>) ?? {}),
  };
  const keys = keyColumns(node);
  const strategy = String(cfg.strategy ?? '');
  const fail = (code: string, message: string, hint: string): never => {
    throw new WeirError(code, message, { node: node.id, at: node.at, hint });
  };
  if (keys.length === 0)
    fail('WEIR-M030', `snapshot ${node.name} needs a unique_key`, "add unique_key='id' to its config");
  if (strategy !== 'timestamp' && strategy !== 'check') {
    fail(
      'WEIR-M030',
      `snapshot ${node.name} needs strategy 'timestamp' or 'check'`,
      "add strategy='check', check_cols=['col'] (or 'all')",
    );
  }
  const hardDeletes = String(
    cfg.hard_deletes ?? (cfg.invalidate_hard_deletes === true ? 'invalidate' : 'ignore'),
  );
  if (hardDeletes !== 'ignore' && hardDeletes !== 'invalidate') {
    fail(
      'WEIR-M030',
      `snapshot ${node.name}: hard_deletes '${hardDeletes}' is not supported`,
      "use 'ignore' or 'invalidate'",
    );
  }
  const runTs = `TIMESTAMPTZ ${quoteLiteral(ctx.runStartedAt.toISOString())}`;

  await session.exec(`CREATE OR REPLACE TEMP TABLE ${SRC} AS ${ctx.sql}`);
  try {
    const srcCols = await session.describe(`SELECT * FROM ${SRC}`);
    const metaNames = [
      meta.dbt_scd_id,
      meta.dbt_updated_at,
      meta.dbt_valid_from,
      meta.dbt_valid_to,
      meta.dbt_is_current,
    ];
    const clash = srcCols.find((c) => metaNames.includes(c.name));
    if (clash) {
      fail(
        'WEIR-M031',
        `snapshot ${node.name}: the source already has a column '${clash.name}'`,
        'rename it, or set snapshot_meta_column_names in the config',
      );
    }
    let changeTs = runTs;
    if (strategy === 'timestamp') {
      const updatedAt = String(cfg.updated_at ?? '');
      if (!srcCols.some((c) => c.name === updatedAt)) {
        fail(
          'WEIR-M030',
          `snapshot ${node.name}: updated_at column '${updatedAt}' is not in the source`,
          `columns: ${srcCols.map((c) => c.name).join(', ')}`,
        );
      }
      changeTs = `CAST(s.${quoteIdent(updatedAt)} AS TIMESTAMPTZ)`;
    }
    const checkCols =
      strategy === 'check'
        ? cfg.check_cols === 'all' || cfg.check_cols === undefined
          ? srcCols.map((c) => c.name).filter((n) => !keys.includes(n))
          : (cfg.check_cols as string[])
        : [];
    for (const c of checkCols) {
      if (!srcCols.some((s) => s.name === c)) {
        fail(
          'WEIR-M030',
          `snapshot ${node.name}: check column '${c}' is not in the source`,
          `columns: ${srcCols.map((x) => x.name).join(', ')}`,
        );
      }
    }
    const q = (n: string): string => quoteIdent(n);
    const metaSelect = (ts: string): string =>
      `md5(concat_ws('|', ${keys.map((k) => `CAST(s.${q(k)} AS VARCHAR)`).join(', ')}, CAST(${ts} AS VARCHAR))) AS ${q(meta.dbt_scd_id)}, ${ts} AS ${q(meta.dbt_updated_at)}, ${ts} AS ${q(meta.dbt_valid_from)}, CAST(NULL AS TIMESTAMPTZ) AS ${q(meta.dbt_valid_to)}, true AS ${q(meta.dbt_is_current)}`;
    const order = `ORDER BY ${keys.map(q).join(', ')}, ${q(meta.dbt_valid_from)}`;

    if (!(await table.exists()) || ctx.fullRefresh) {
      const sql = `SELECT s.*, ${metaSelect(changeTs)} FROM ${SRC} s ${order}`;
      const { files, columns } = await table.write(session, sql);
      const version = await table.overwrite(files, columns, {
        operation: 'CREATE TABLE',
        operationParameters: { kind: 'snapshot' },
      });
      const written = sumFiles(files);
      return { ...written, version, message: `snapshot: ${written.rows} rows` };
    }

    const scan = await table.scanSql();
    const current = '__weir_cur';
    await session.exec(`CREATE OR REPLACE TEMP TABLE ${current} AS ${scan}`);
    try {
      const isCur = q(meta.dbt_is_current);
      const changedCond =
        strategy === 'timestamp'
          ? `${changeTs} > c.${q(meta.dbt_updated_at)}`
          : checkCols.map((col) => `s.${q(col)} IS DISTINCT FROM c.${q(col)}`).join(' OR ') || 'false';
      const open = `(SELECT * FROM ${current} WHERE ${isCur})`;
      const counts = await session.query(
        `SELECT
          (SELECT count(*) FROM ${SRC} s JOIN ${open} c ON ${keyMatch(keys, 's', 'c')} WHERE ${changedCond}) AS changed,
          (SELECT count(*) FROM ${SRC} s WHERE NOT EXISTS (SELECT 1 FROM ${open} c WHERE ${keyMatch(keys, 's', 'c')})) AS inserted,
          ${
            hardDeletes === 'invalidate'
              ? `(SELECT count(*) FROM ${open} c WHERE NOT EXISTS (SELECT 1 FROM ${SRC} s WHERE ${keyMatch(keys, 's', 'c')}))`
              : '0'
          } AS deleted`,
      );
      const row = counts.rows[0] ?? {};
      const changed = Number(row['changed'] ?? 0);
      const inserted = Number(row['inserted'] ?? 0);
      const deleted = Number(row['deleted'] ?? 0);
      if (changed + inserted + deleted === 0) {
        return { rows: 0, bytes: 0, version: null, message: 'snapshot: no changes' };
      }
      const deletedCond =
        hardDeletes === 'invalidate'
          ? `NOT EXISTS (SELECT 1 FROM ${SRC} s WHERE ${keyMatch(keys, 's', 'c')})`
          : 'false';
      const changedKeys = `(SELECT s.*, ${changeTs} AS __weir_ts FROM ${SRC} s JOIN ${open} c ON ${keyMatch(keys, 's', 'c')} WHERE ${changedCond})`;
      const parts = [
        `SELECT * FROM ${current} WHERE NOT ${isCur}`,
        `SELECT c.* FROM ${open} c WHERE NOT EXISTS (SELECT 1 FROM ${changedKeys} s WHERE ${keyMatch(keys, 's', 'c')}) AND NOT (${deletedCond})`,
        `SELECT c.* REPLACE (s.__weir_ts AS ${q(meta.dbt_valid_to)}, false AS ${isCur}) FROM ${open} c JOIN ${changedKeys} s ON ${keyMatch(keys, 's', 'c')}`,
        `SELECT c.* REPLACE (${runTs} AS ${q(meta.dbt_valid_to)}, false AS ${isCur}) FROM ${open} c WHERE ${deletedCond}`,
        `SELECT s.* EXCLUDE (__weir_ts), ${metaSelect('s.__weir_ts')} FROM ${changedKeys} s`,
        `SELECT s.*, ${metaSelect(changeTs)} FROM ${SRC} s WHERE NOT EXISTS (SELECT 1 FROM ${open} c WHERE ${keyMatch(keys, 's', 'c')})`,
      ];
      const sql = `SELECT * FROM (${parts.map((p) => `(${p})`).join(' UNION ALL BY NAME ')}) ${order}`;
      const { files, columns } = await table.write(session, sql);
      const version = await table.overwrite(files, columns, {
        operation: 'SNAPSHOT',
        operationParameters: { changed, inserted, invalidated: deleted },
      });
      const written = sumFiles(files);
      return {
        ...written,
        version,
        message: `snapshot: ${inserted} new, ${changed} changed, ${deleted} invalidated`,
      };
    } finally {
      await session.exec(`DROP TABLE IF EXISTS ${current}`);
    }
  } finally {
    await session.exec(`DROP TABLE IF EXISTS ${SRC}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Partitions: replace exactly one partition's rows in one commit.

const PART = '__weir_part';
export const PARTITION_NO_COLUMN = 'WEIR-O030';
export const PARTITION_ROWS_OUTSIDE = 'WEIR-O031';

/** The column named by `partition_by` ('col' or dbt's `{ field: 'col' }`). */
export function partitionColumn(node: ManifestNode): string | undefined {
  const by = node.config.partition_by;
  if (typeof by === 'string' && by) return by;
  if (by && typeof by === 'object' && !Array.isArray(by)) {
    const field = (by as Record<string, unknown>)['field'];
    if (typeof field === 'string' && field) return field;
  }
  return undefined;
}

function partitionCondition(column: string, partition: PartitionWindow, alias: string): string {
  const col = `${alias}.${quoteIdent(column)}`;
  if (partition.start === undefined || partition.end === undefined)
    return `CAST(${col} AS VARCHAR) = ${quoteLiteral(partition.key)}`;
  return `(CAST(${col} AS TIMESTAMP) >= CAST(${quoteLiteral(partition.start)} AS TIMESTAMP) AND CAST(${col} AS TIMESTAMP) < CAST(${quoteLiteral(partition.end)} AS TIMESTAMP))`;
}

/**
 * `incremental_strategy='insert_overwrite'` with `partition_by`: the rows of the run's partition
 * are deleted and the model's rows inserted in one Delta commit (files holding rows of the window
 * are rewritten without them). Re-running a partition gives the same table. Without a partition
 * (a plain `weir run`) the whole table is replaced.
 */
export async function materializePartition(ctx: MaterializeContext): Promise<MaterializeResult> {
  const { node, session, table, partition } = ctx;
  if (!partition) return materializeTable(ctx, (await table.exists()) ? 'FULL REFRESH' : 'CREATE TABLE');
  const column = partitionColumn(node);
  if (!column) {
    throw new WeirError(PARTITION_NO_COLUMN, `partitioned model ${node.name} has no partition_by column`, {
      node: node.id,
      at: node.at,
      hint: "add partition_by='order_date' (or partition_by={'field': 'order_date'}) to the model's config",
    });
  }
  await session.exec(`CREATE OR REPLACE TEMP TABLE ${PART} AS ${ctx.sql}`);
  try {
    const batchCols = await session.describe(`SELECT * FROM ${PART}`);
    if (!batchCols.some((c) => c.name === column)) {
      throw new WeirError(
        PARTITION_NO_COLUMN,
        `partition_by column '${column}' is not in ${node.name}'s output`,
        {
          node: node.id,
          at: node.at,
          hint: `the model returns: ${batchCols.map((c) => c.name).join(', ')}`,
        },
      );
    }
    const outside = await session.query(
      `SELECT count(*) AS n FROM ${PART} p WHERE NOT coalesce(${partitionCondition(column, partition, 'p')}, false)`,
    );
    const stray = Number(outside.rows[0]?.['n'] ?? 0);
    if (stray > 0) {
      throw new WeirError(
        PARTITION_ROWS_OUTSIDE,
        `${node.name}: ${stray} row(s) have ${column} outside partition ${partition.key}${partition.start ? ` [${partition.start}, ${partition.end})` : ''}`,
        {
          node: node.id,
          at: node.at,
          hint: `filter the model on the window: where ${column} >= '{{ partition_start }}' and ${column} < '{{ partition_end }}'`,
        },
      );
    }
    if (!(await table.exists())) {
      const { files, columns } = await table.write(session, `SELECT * FROM ${PART}`);
      const version = await table.overwrite(files, columns, {
        operation: 'WRITE',
        operationParameters: { mode: 'Overwrite', partition: partition.key },
      });
      const written = sumFiles(files);
      return {
        ...written,
        version,
        message: `partition ${partition.key}: ${written.rows} rows (table created)`,
      };
    }
    const tableCols = await table.columns();
    const current = await table.files();
    let affected: string[] = [];
    if (current.length > 0) {
      const probe = await session.query(
        `SELECT DISTINCT t.filename AS f FROM read_parquet(${fileList(current.map((f) => f.path))}, filename = true, union_by_name = true) t WHERE ${partitionCondition(column, partition, 't')}`,
      );
      affected = probe.rows.map((r) => String(r['f']));
    }
    const newSelect = tableCols
      .map((c) =>
        batchCols.some((b) => b.name === c.name)
          ? `CAST(b.${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}`
          : `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`,
      )
      .join(', ');
    const kept = affected.length
      ? `SELECT ${selectList(tableCols, 't')} FROM read_parquet(${fileList(affected)}, union_by_name = true) t WHERE NOT coalesce(${partitionCondition(column, partition, 't')}, false) UNION ALL `
      : '';
    const { files } = await table.write(session, `${kept}SELECT ${newSelect} FROM ${PART} b`, tableCols);
    const written = sumFiles(files);
    if (affected.length === 0 && written.rows === 0)
      return { ...written, version: null, message: `partition ${partition.key}: no rows` };
    // Partitions of a backfill commit concurrently: another partition's new files conflict
    // with this commit only when their stats say they may hold rows of this window.
    const op = {
      operation: 'WRITE',
      operationParameters: {
        mode: 'ReplacePartition',
        partition: partition.key,
        rewrittenFiles: affected.length,
      },
      conflictsWithAdds: (add: { stats?: string | null }) => mayHoldWindow(add.stats, column, partition),
    };
    const version = await table.replaceFiles(affected, files, tableCols, op);
    return {
      ...written,
      version,
      message: `partition ${partition.key}: replaced (${written.rows} rows written, ${affected.length} files rewritten)`,
    };
  } finally {
    await session.exec(`DROP TABLE IF EXISTS ${PART}`);
  }
}

function mayHoldWindow(
  stats: string | null | undefined,
  column: string,
  partition: PartitionWindow,
): boolean {
  if (!stats) return true;
  try {
    const parsed = JSON.parse(stats) as {
      minValues?: Record<string, unknown>;
      maxValues?: Record<string, unknown>;
    };
    const min = parsed.minValues?.[column];
    const max = parsed.maxValues?.[column];
    if (min === undefined || max === undefined || min === null || max === null) return true;
    if (partition.start === undefined || partition.end === undefined)
      return String(min) <= partition.key && partition.key <= String(max);
    // ISO dates and timestamps compare as text once both use the same separator.
    const norm = (v: unknown): string => String(v).replace('T', ' ');
    return norm(min) < norm(partition.end) && norm(max) >= norm(partition.start);
  } catch {
    return true;
  }
}
