import { quoteIdent, quoteLiteral } from '../../core/engine.js';
import { writeCastSql } from '../../lake/delta/schema.js';
import { DeltaTable } from '../../lake/delta/table.js';
import { streamTableName, type StreamSpec } from '../types.js';
import type { LandingOptions } from './land.js';

const pad = (n: number): string => String(n).padStart(8, '0');

/**
 * Brings `staging.<source>__<stream>` up to raw load `upto` (merge: upsert by primary key, the
 * latest cursor wins, hard-deleted keys dropped; replace: the rows of the latest load). The staging
 * commit carries the stream's `txn` at that load sequence, so re-applying a load is a no-op and a
 * crash between the raw and the staging commit is repaired by the next run. Returns the staging
 * version, or null for append streams (which resolve to raw).
 */
export async function applyDisposition(
  opts: LandingOptions,
  spec: StreamSpec,
  raw: DeltaTable,
  upto: number,
): Promise<number | null> {
  if (spec.writeDisposition === 'append' || upto === 0) return null;
  const { session } = opts;
  const appId = `weir-ingest:${spec.sourceName}.${spec.streamName}`;
  const staging = await DeltaTable.open(opts.lake, `staging/${streamTableName(spec)}`, session, {
    ...(opts.checkpointInterval ? { checkpointInterval: opts.checkpointInterval } : {}),
  });
  const current = await staging.latestSnapshot();
  const done = current?.txnVersion(appId) ?? 0;
  if (done >= upto) return current?.version ?? null;
  const rawSnap = await raw.latestSnapshot();
  if (!rawSnap) return null;
  const rawScan = raw.scanSql(rawSnap);
  const from = spec.writeDisposition === 'replace' ? upto : done + 1;
  const incoming = `SELECT * EXCLUDE (_ingest_date) FROM (${rawScan}) AS __weir_raw WHERE _load_id >= ${quoteLiteral(pad(from))} AND _load_id < ${quoteLiteral(pad(upto + 1))}`;
  let sql: string;
  if (spec.writeDisposition === 'replace') {
    sql = incoming;
  } else {
    const pk = spec.primaryKey.map(quoteIdent).join(', ');
    const cursor = spec.incremental ? `${quoteIdent(spec.incremental.cursorField)} DESC NULLS LAST, ` : '';
    const union = current
      ? `SELECT *, 0 AS __weir_new FROM (${staging.scanSql(current)}) AS __weir_old UNION ALL BY NAME SELECT *, 1 AS __weir_new FROM (${incoming}) AS __weir_in`
      : `SELECT *, 1 AS __weir_new FROM (${incoming}) AS __weir_in`;
    const deleted = spec.hardDeleteColumn
      ? ` AND NOT coalesce(TRY_CAST(${quoteIdent(spec.hardDeleteColumn)} AS BOOLEAN), false)`
      : '';
    sql = `SELECT * EXCLUDE (__weir_rn, __weir_new) FROM (SELECT *, row_number() OVER (PARTITION BY ${pk} ORDER BY ${cursor}_load_id DESC, __weir_new DESC) AS __weir_rn FROM (${union}) AS __weir_u) AS __weir_r WHERE __weir_rn = 1${deleted}`;
  }
  const described = await session.describe(sql);
  const castSql = `SELECT ${writeCastSql(described)} FROM (${sql}) AS __weir_w`;
  const columns = await session.describe(castSql);
  const files = await session.writeParquet(castSql, { dir: staging.location(), prefix: 'part-' });
  const result = await staging.overwrite(files, columns, {
    txn: { appId, version: upto },
    operation: spec.writeDisposition === 'merge' ? 'WEIR MERGE' : 'WEIR REPLACE',
    operationParameters: { weirLoadSeq: String(upto) },
  });
  return result.version;
}
