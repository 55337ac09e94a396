import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/core/logger.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { withRuntime } from '../src/engine/runtime-engine.js';
import { SqlError } from '../src/engine/sql-error.js';
import { engineConformance } from './engine-conformance.js';

engineConformance('duckdb (in memory)', () => createDuckDbEngine({ threads: 2 }));
engineConformance('duckdb behind withRuntime', async () =>
  withRuntime(await createDuckDbEngine({ threads: 2, memoryLimit: '512MB' }), silentLogger),
);

describe('duckdb engine (file database)', () => {
  it('keeps tables across engine restarts and applies its settings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-duckdb-'));
    try {
      const path = join(dir, 'weir.duckdb');
      const first = await createDuckDbEngine({ path, threads: 1, memoryLimit: '256MB' });
      const s = await first.session();
      await s.exec('CREATE TABLE kept AS SELECT 42 AS answer');
      const settings = await s.query(
        "SELECT current_setting('threads') AS threads, current_setting('memory_limit') AS mem",
      );
      expect(settings.rows[0]!['threads']).toBe(1);
      expect(String(settings.rows[0]!['mem'])).toMatch(/^2\d\d\.\d MiB$/);
      await first.close();
      const second = await createDuckDbEngine({ path });
      const s2 = await second.session();
      expect((await s2.query('SELECT answer FROM kept')).rows).toEqual([{ answer: 42 }]);
      await second.close();
      await expect(second.session()).rejects.toBeInstanceOf(SqlError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a statement on a session that is streaming, instead of deadlocking', async () => {
    const engine = await createDuckDbEngine({ threads: 1 });
    const s = await engine.session();
    try {
      let err: unknown;
      for await (const _batch of s.stream('SELECT i FROM range(10000) t(i)', 100)) {
        err = await s.query('SELECT 1').catch((e: unknown) => e);
        break;
      }
      expect(err).toBeInstanceOf(SqlError);
      expect((err as SqlError).code).toBe('WEIR-E003');
      expect((await s.query('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
    } finally {
      await engine.close();
    }
  });
});
