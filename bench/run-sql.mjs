/**
 * The build benchmark's baseline as a process of its own: opens a DuckDB file and executes a list
 * of SQL statements in order, through `@duckdb/node-api` directly (no Weir code).
 *
 *   node bench/run-sql.mjs <database file> <statements.json>
 */
import { readFileSync, rmSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [dbPath, listPath] = process.argv.slice(2);
if (!dbPath || !listPath) {
  console.error('usage: node bench/run-sql.mjs <database file> <statements.json>');
  process.exit(2);
}
const statements = JSON.parse(readFileSync(listPath, 'utf8'));
rmSync(dbPath, { force: true });
rmSync(`${dbPath}.wal`, { force: true });
const instance = await DuckDBInstance.create(dbPath);
const connection = await instance.connect();
for (const sql of statements) await connection.run(sql);
connection.closeSync();
instance.closeSync();
