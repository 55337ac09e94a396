import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession } from '../core/engine.js';
import { createDuckDbEngine } from '../engine/duckdb/duckdb-engine.js';
import { RunCatalog } from './run-catalog.js';

let engine: Engine;
let session: EngineSession;

beforeAll(async () => {
  engine = await createDuckDbEngine({ threads: 1 });
  session = await engine.session();
  await session.exec('CREATE SCHEMA s');
});
afterAll(async () => {
  session.close();
  await engine.close();
});

async function kindOf(name: string): Promise<string | null> {
  const { rows } = await session.query(
    `SELECT table_type FROM information_schema.tables WHERE table_schema = 's' AND table_name = '${name}'`,
  );
  return rows.length ? String(rows[0]?.['table_type']) : null;
}

async function stage(catalog: RunCatalog, identifier: string, value: number) {
  const staged = catalog.stagingName({ schema: 's', identifier });
  await session.exec(`CREATE TABLE s."${staged.identifier}" AS SELECT ${value} AS v`);
  return staged;
}

describe('RunCatalog', () => {
  it('adopts staged tables under the asset name within its memory budget, and views replace them', async () => {
    const catalog = new RunCatalog({ tableBytes: 100, totalBytes: 150 });
    await catalog.defineView(session, { schema: 's', identifier: 'a' }, 'SELECT 0 AS v');
    expect(await kindOf('a')).toBe('VIEW');

    // Replaces the view with the table.
    const a = await stage(catalog, 'a', 1);
    expect(await catalog.adoptTable(session, { schema: 's', identifier: 'a' }, a, 80, undefined)).toBe(true);
    expect(await kindOf('a')).toBe('BASE TABLE');
    expect(await kindOf(a.identifier)).toBeNull();
    expect((await session.query('SELECT v FROM s.a')).rows).toEqual([{ v: 1 }]);
    expect(catalog.heldBytes).toBe(80);

    // Over the total budget: refused; the caller discards the staged table.
    const b = await stage(catalog, 'b', 2);
    expect(await catalog.adoptTable(session, { schema: 's', identifier: 'b' }, b, 80, undefined)).toBe(false);
    expect(await kindOf('b')).toBeNull();
    await catalog.discard(session, b);
    expect(await kindOf(b.identifier)).toBeNull();
    // Over the per-table limit: refused too.
    const c = await stage(catalog, 'c', 3);
    expect(await catalog.adoptTable(session, { schema: 's', identifier: 'c' }, c, 101, undefined)).toBe(
      false,
    );

    // A view taking the name drops the table and frees its budget.
    await catalog.defineView(session, { schema: 's', identifier: 'a' }, 'SELECT 4 AS v');
    expect(await kindOf('a')).toBe('VIEW');
    expect(catalog.heldBytes).toBe(0);
    expect(catalog.hasRoom()).toBe(true);
  });

  it('reads a retyped copy through a typing view and drops both when replaced', async () => {
    const catalog = new RunCatalog();
    const rel = { schema: 's', identifier: 't' };
    const staged = await stage(catalog, 't', 7);
    expect(await catalog.adoptTable(session, rel, staged, 10, 'CAST(v AS BIGINT) AS v')).toBe(true);
    expect(await kindOf('t')).toBe('VIEW');
    expect(await kindOf(staged.identifier)).toBe('BASE TABLE');
    expect((await session.query('SELECT typeof(v) AS t FROM s.t')).rows).toEqual([{ t: 'BIGINT' }]);

    // A second build of the same asset in the same engine replaces the copy.
    const next = await stage(catalog, 't', 8);
    expect(await catalog.adoptTable(session, rel, next, 10, undefined)).toBe(true);
    expect(await kindOf(staged.identifier)).toBeNull();
    expect(await kindOf('t')).toBe('BASE TABLE');
    expect((await session.query('SELECT v FROM s.t')).rows).toEqual([{ v: 8 }]);
    expect(catalog.heldBytes).toBe(10);
  });

  it('adopts a table under a name held by a view it did not make (an ingested source)', async () => {
    const catalog = new RunCatalog();
    await session.exec('CREATE VIEW s.src AS SELECT 0 AS v');
    const staged = await stage(catalog, 'src', 5);
    expect(await catalog.adoptTable(session, { schema: 's', identifier: 'src' }, staged, 10, undefined)).toBe(
      true,
    );
    expect(await kindOf('src')).toBe('BASE TABLE');
    expect((await session.query('SELECT v FROM s.src')).rows).toEqual([{ v: 5 }]);
  });
});
