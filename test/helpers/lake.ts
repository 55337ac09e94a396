import { createDuckDbEngine } from '../../src/engine/duckdb/duckdb-engine.js';
import type { SqlValue } from '../../src/core/engine.js';

/** Reads every view of a query catalog file: asset -> sorted rows as strings (for content equality). */
export async function catalogContents(
  catalogPath: string,
  options: { exclude?: RegExp } = {},
): Promise<Record<string, string[]>> {
  const engine = await createDuckDbEngine({ path: catalogPath });
  const session = await engine.session();
  try {
    const views = await session.query(
      'SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal AND database_name = current_database() ORDER BY ALL',
    );
    const out: Record<string, string[]> = {};
    for (const v of views.rows) {
      const asset = `${String(v['schema_name'])}.${String(v['view_name'])}`;
      if (options.exclude?.test(asset)) continue;
      const rows = await session.query(
        `SELECT * FROM "${String(v['schema_name'])}"."${String(v['view_name'])}"`,
      );
      out[asset] = rows.rows.map((r) => JSON.stringify(r, replacer)).sort();
    }
    return out;
  } finally {
    session.close();
    await engine.close();
  }
}

function replacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : (v as SqlValue);
}
