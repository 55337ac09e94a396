import { spawn } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { DeltaTable } from '../src/lake/delta/table.js';
import { LocalObjectStore } from '../src/lake/local-object-store.js';
import { BIN, MINIMAL_PROJECT, runCli, writeProject } from './helpers/cli.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

const SECRET = 'Zq9SecretPassw0rdXy';
let pgs: TestPostgres;

beforeAll(async () => {
  pgs = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pgs?.stop();
});

function project(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...MINIMAL_PROJECT(),
    'sources/pg.yml': `version: 2
sources:
  - name: pg
    type: postgres
    connection:
      url: "{{ env_var('PG_URL') }}"
    tables:
      - name: orders
        primary_key: id
        incremental:
          cursor_field: updated_at
          lookback: 10 minutes
      - name: events
`,
    'models/order_totals.sql': `{{ config(materialized='table') }}
select status, count(*) as n from {{ source('pg', 'orders') }} group by status
`,
    ...extra,
  };
}

/** Every file under a folder, as text (binary files included: a secret must not be in any byte). */
async function allText(dir: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { recursive: true })) {
    const p = join(dir, entry);
    if ((await stat(p)).isFile()) text += (await readFile(p)).toString('latin1');
  }
  return text;
}

async function count(dir: string, path: string): Promise<{ n: number; ids: number }> {
  const engine = await createDuckDbEngine();
  const session = await engine.session();
  try {
    const t = await DeltaTable.open(new LocalObjectStore(join(dir, '.weir/lake')), path, session);
    const r = await session.query(
      `SELECT count(*)::INT n, count(DISTINCT id)::INT ids FROM (${t.scanSql(await t.snapshot())})`,
    );
    return r.rows[0] as { n: number; ids: number };
  } finally {
    session.close();
    await engine.close();
  }
}

describe('weir ingest / build with sources (CLI)', () => {
  it('build ingests before it transforms; secrets appear nowhere', async () => {
    await pgs.query(`CREATE DATABASE cli1`);
    const url = pgs.url.replace('postgres@', `postgres:${SECRET}@`).replace(/\/postgres$/, '/cli1');
    const setup = await import('pg');
    const c = new setup.default.Client({ connectionString: url });
    c.on('error', () => undefined);
    await c.connect();
    await c.query(`CREATE TABLE orders (id int PRIMARY KEY, status text, updated_at timestamptz);
      INSERT INTO orders SELECT g, CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'new' END, now() FROM generate_series(1, 50) g;
      CREATE TABLE events (id int, kind text); INSERT INTO events VALUES (1, 'a'), (2, 'b');`);
    const dir = await writeProject(project());
    const env = { PG_URL: url };
    const built = await runCli(['build', '--log-format', 'json', '--debug'], { cwd: dir, env });
    expect(built.code, built.stderr + built.stdout).toBe(0);
    const totals = await runCli(
      ['query', 'select status, n from main.order_totals order by status', '--output', 'json'],
      { cwd: dir, env },
    );
    expect(totals.stdout).toContain('"n":25');
    expect(await count(dir, 'staging/pg__orders')).toEqual({ n: 50, ids: 50 });
    expect(await count(dir, 'raw/pg__events')).toEqual({ n: 2, ids: 2 });

    await c.query(
      `UPDATE orders SET status = 'shipped', updated_at = now() WHERE id <= 5; INSERT INTO orders VALUES (51, 'new', now())`,
    );
    const again = await runCli(['ingest', '--select', 'source:pg.orders'], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(await count(dir, 'staging/pg__orders')).toEqual({ n: 51, ids: 51 });
    // The cursor is mirrored to the state store with the load's counts.
    const db = new Database(join(dir, '.weir/state.sqlite'), { readonly: true });
    const events = db.prepare(`SELECT data FROM events WHERE type = 'ingest_load' ORDER BY seq`).all() as {
      data: string;
    }[];
    db.close();
    const last = JSON.parse(events[events.length - 1]?.data ?? '{}') as Record<string, unknown>;
    expect(last).toMatchObject({
      stream: 'pg.orders',
      load_seq: 2,
      rows_read: 51,
      rows_loaded: 6,
      rows_already_landed: 45,
    });
    expect((last['cursor'] as { value: string }).value).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const runs = await runCli(['runs'], { cwd: dir, env });
    const discovered = await runCli(['source', 'discover', 'pg'], { cwd: dir, env });
    expect(discovered.stdout).toContain('orders (primary key: id)');
    expect(discovered.stdout).toMatch(/updated_at\s+TIMESTAMP WITH TIME ZONE/);

    // A failing connection: the error names the problem, never the password.
    const bad = await runCli(['ingest'], { cwd: dir, env: { PG_URL: url.replace('/cli1', '/missing_db') } });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('WEIR-I003');
    const everything =
      [built, totals, again, runs, discovered, bad].map((r) => r.stdout + r.stderr).join('\n') +
      (await allText(dir));
    expect(everything).not.toContain(SECRET);
    await c.end();
  }, 120_000);

  it('SIGKILL in the middle of an ingest, then re-run: no loss, no duplicates', async () => {
    await pgs.query(`CREATE DATABASE cli2`);
    const url = pgs.url.replace(/\/postgres$/, '/cli2');
    const setup = await import('pg');
    const c = new setup.default.Client({ connectionString: url });
    await c.connect();
    await c.query(`CREATE TABLE orders (id int PRIMARY KEY, status text, updated_at timestamptz);
      INSERT INTO orders SELECT g, md5(g::text), timestamptz '2024-01-01' + g * interval '1 second' FROM generate_series(1, 400000) g;
      CREATE TABLE events (id int, kind text);`);
    const dir = await writeProject(project());
    const env = { ...process.env, NO_COLOR: '1', PG_URL: url };
    for (const delay of [700, 1500]) {
      const child = spawn(process.execPath, [BIN, 'ingest'], { cwd: dir, env, stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, delay));
      const exited = new Promise((r) =>
        child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r),
      );
      child.kill('SIGKILL');
      await exited;
      await c.query(
        `INSERT INTO orders SELECT g, 'late', timestamptz '2024-01-05' + g * interval '1 second' FROM generate_series(${400000 + delay}, ${400000 + delay + 9}) g`,
      );
    }
    const rerun = await runCli(['ingest'], { cwd: dir, env: { PG_URL: url } });
    expect(rerun.code, rerun.stderr).toBe(0);
    const expected = Number((await c.query('SELECT count(*) AS n FROM orders')).rows[0].n);
    expect(await count(dir, 'staging/pg__orders')).toEqual({ n: expected, ids: expected });
    const raw = await count(dir, 'raw/pg__orders');
    expect(raw).toEqual({ n: expected, ids: expected });
    await c.end();
  }, 180_000);
});
