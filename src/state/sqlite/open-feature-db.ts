import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { WeirError } from '../../core/errors.js';
import { DEFAULT_BUSY_TIMEOUT_MS } from './sqlite-state-store.js';

/**
 * A connection of its own to the state database for one feature's tables (quality history,
 * orchestration), with the same busy handling as the state store. Refuses a database whose
 * migrations have not created `table` yet.
 */
export function openFeatureDb(
  path: string,
  feature: { table: string; code: string; what: string; migration: number; busyTimeoutMs?: number },
): Database.Database {
  const busyTimeoutMs = feature.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('synchronous = NORMAL');
    const exists = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(feature.table);
    if (!exists) {
      throw new WeirError(feature.code, `The state database ${path} has no ${feature.what} tables`, {
        hint: `Open the state store and call init() first (the CLI does this on start): it applies migration ${feature.migration}.`,
      });
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
