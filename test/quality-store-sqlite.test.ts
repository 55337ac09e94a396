import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteQualityStore } from '../src/state/sqlite/sqlite-quality-store.js';
import { openSqliteStateStore } from '../src/state/sqlite/sqlite-state-store.js';
import { qualityStoreConformance } from './quality-store-conformance.js';

qualityStoreConformance('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-qstore-'));
  const path = join(dir, 'state.db');
  const state = await openSqliteStateStore(path);
  await state.init();
  const store = await openSqliteQualityStore(path);
  return {
    store,
    dispose: async () => {
      await store.close();
      await state.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite quality store', () => {
  it('refuses a database without the quality tables', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-qstore-'));
    try {
      await expect(openSqliteQualityStore(join(dir, 'state.db'))).rejects.toMatchObject({
        code: 'WEIR-Q030',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
