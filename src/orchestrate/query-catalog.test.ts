import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../engine/duckdb/duckdb-engine.js';
import { createLogger } from '../observe/logger.js';
import { CatalogPublisher } from './query-catalog.js';

let dir: string;
const warnings: string[] = [];
const logger = createLogger({ format: 'json', level: 'warn', write: (l) => warnings.push(l) });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-catalog-'));
  warnings.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function viewsIn(path: string): Promise<Record<string, unknown>> {
  const engine = await createDuckDbEngine({ path, threads: 1 });
  const s = await engine.session();
  try {
    const { rows } = await s.query(
      "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables ORDER BY 1",
    );
    const out: Record<string, unknown> = {};
    for (const r of rows) {
      const name = String(r['name']);
      out[name] = (await s.query(`SELECT v FROM ${name}`)).rows[0]?.['v'];
    }
    return out;
  } finally {
    s.close();
    await engine.close();
  }
}

describe('CatalogPublisher', () => {
  it('writes queued views in batches; a failing statement costs only itself, and the file appears at finish', async () => {
    const catalogPath = join(dir, 'weir.duckdb');
    const open = () =>
      CatalogPublisher.open({
        catalogPath,
        openFileEngine: (path) => createDuckDbEngine({ path, threads: 1 }),
        logger,
      });
    const publisher = await open();
    expect(publisher.copied).toBe(false);
    // Queued in one go: the first starts the writer, the rest form later batches, one with a
    // statement that fails and one whose statements could not be produced.
    publisher.addView('a.x', 'SELECT 1 AS v');
    publisher.addView('a.y', 'SELECT 2 AS v');
    publisher.addStatements(['CREATE OR REPLACE VIEW a.bad AS SELECT v FROM a.nowhere']);
    publisher.addView('b.z', 'SELECT 3 AS v');
    // a view's SQL ending in a line comment does not swallow the next statement of its batch
    publisher.addView('b.c', 'SELECT 4 AS v -- the last line');
    publisher.addStatements(async () => {
      throw new Error('no snapshot');
    });
    expect(existsSync(catalogPath)).toBe(false);
    const done = await publisher.finish();
    expect(done.views).toBe(4);
    expect(done.failed).toEqual(['CREATE OR REPLACE VIEW a.bad AS SELECT v FROM a.nowhere']);
    expect(warnings.some((w) => w.includes('no snapshot'))).toBe(true);
    expect(await viewsIn(catalogPath)).toEqual({ 'a.x': 1, 'a.y': 2, 'b.c': 4, 'b.z': 3 });
    expect(existsSync(`${catalogPath}.tmp-${process.pid}`)).toBe(false);

    // The next build starts from a copy and replaces views in it.
    const next = await open();
    expect(next.copied).toBe(true);
    next.addView('a.x', 'SELECT 10 AS v');
    await new Promise((r) => setTimeout(r, 5));
    next.addView('a.y', 'SELECT 20 AS v');
    expect((await next.finish()).views).toBe(2);
    expect(await viewsIn(catalogPath)).toEqual({ 'a.x': 10, 'a.y': 20, 'b.c': 4, 'b.z': 3 });
  });
});
