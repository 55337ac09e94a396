import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { WeirError } from '../src/core/errors.js';
import { silentLogger } from '../src/core/logger.js';
import { withStateRuntime } from '../src/state/runtime-state-store.js';
import { openSqliteStateStore } from '../src/state/sqlite/sqlite-state-store.js';
import { stateStoreConformance, type StateStoreFixture } from './state-store-conformance.js';

const storeModule = fileURLToPath(new URL('../src/state/sqlite/sqlite-state-store.ts', import.meta.url));

async function sqliteFixture(wrap: boolean): Promise<StateStoreFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-state-'));
  const path = join(dir, 'nested', 'state.db');
  const open = async () => {
    const store = await openSqliteStateStore(path);
    return wrap ? withStateRuntime(store, silentLogger) : store;
  };
  return {
    store: await open(),
    reopen: open,
    opener: { module: storeModule, exportName: 'openSqliteStateStore', args: [path] },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

stateStoreConformance('sqlite', () => sqliteFixture(false));
stateStoreConformance('sqlite behind withStateRuntime', () => sqliteFixture(true));

describe('sqlite state store specifics', () => {
  async function withDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'weir-state-'));
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('uses WAL, foreign keys and records its migrations', () =>
    withDir(async (dir) => {
      const path = join(dir, 'state.db');
      const store = await openSqliteStateStore(path);
      await store.init();
      await store.init();
      await store.close();
      const db = new Database(path, { readonly: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        const migrations = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
        expect(migrations).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 5 }]);
        const tables = db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
          )
          .pluck()
          .all();
        expect(tables).toEqual([
          'catalog',
          'events',
          'node_results',
          'orch_attempts',
          'orch_cancel_requests',
          'orch_firings',
          'orch_leases',
          'orch_partitions',
          'orch_run_slots',
          'orch_sensor_cursors',
          'orch_ticks',
          'quality_checks',
          'quality_tables',
          'runs',
          'schema_migrations',
        ]);
        const args = db
          .prepare("SELECT type FROM pragma_table_info('runs') WHERE name = 'args'")
          .pluck()
          .get();
        expect(args).toBe('TEXT');
      } finally {
        db.close();
      }
    }));

  it('refuses a database written by a newer schema', () =>
    withDir(async (dir) => {
      const path = join(dir, 'state.db');
      const store = await openSqliteStateStore(path);
      await store.init();
      await store.close();
      const db = new Database(path);
      db.prepare("INSERT INTO schema_migrations VALUES (999, 'future', '2099-01-01T00:00:00Z')").run();
      db.close();
      const again = await openSqliteStateStore(path);
      try {
        const err = await again.init().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WeirError);
        expect((err as WeirError).code).toBe('WEIR-S003');
      } finally {
        await again.close();
      }
    }));

  it('asks for init() before use', () =>
    withDir(async (dir) => {
      const store = await openSqliteStateStore(join(dir, 'state.db'));
      try {
        const err = await store.listRuns().catch((e: unknown) => e);
        expect((err as WeirError).code).toBe('WEIR-S004');
      } finally {
        await store.close();
      }
    }));

  it('waits for another writer instead of failing, then gives up with WEIR-S001 behind the runtime', () =>
    withDir(async (dir) => {
      const path = join(dir, 'state.db');
      const setup = await openSqliteStateStore(path);
      await setup.init();
      await setup.close();
      const store = withStateRuntime(await openSqliteStateStore(path, { busyTimeoutMs: 200 }), silentLogger);
      const blocker = new Database(path);
      try {
        blocker.exec('BEGIN IMMEDIATE');
        const started = Date.now();
        const err = await store
          .createRun({
            runId: 'r1',
            command: 'run',
            status: 'running',
            args: {},
            startedAt: new Date().toISOString(),
            finishedAt: null,
            error: null,
          })
          .catch((e: unknown) => e);
        expect(Date.now() - started).toBeGreaterThanOrEqual(150);
        expect(err).toBeInstanceOf(WeirError);
        expect((err as WeirError).code).toBe('WEIR-S001');
        expect((err as WeirError).hint).toMatch(/busy timeout/);
        blocker.exec('ROLLBACK');
        await store.createRun({
          runId: 'r1',
          command: 'run',
          status: 'running',
          args: {},
          startedAt: new Date().toISOString(),
          finishedAt: null,
          error: null,
        });
        expect((await store.getRun('r1'))?.runId).toBe('r1');
      } finally {
        blocker.close();
        await store.close();
      }
    }));
});
