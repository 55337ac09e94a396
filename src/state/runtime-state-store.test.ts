import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WeirError } from '../core/errors.js';
import type { LogFields, Logger } from '../core/logger.js';
import type { StateStore } from '../core/state-store.js';
import { withStateRuntime } from './runtime-state-store.js';
import { openSqliteStateStore } from './sqlite/sqlite-state-store.js';

interface Line {
  msg: string;
  fields: LogFields;
}

function memoryLogger(lines: Line[], base: LogFields = {}): Logger {
  const push = (msg: string, fields: LogFields = {}): void => {
    lines.push({ msg, fields: { ...base, ...fields } });
  };
  return {
    debug: push,
    info: push,
    warn: push,
    error: push,
    child: (f) => memoryLogger(lines, { ...base, ...f }),
  };
}

describe('withStateRuntime', () => {
  let dir: string;
  let lines: Line[];
  let store: StateStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weir-state-rt-'));
    lines = [];
    store = withStateRuntime(await openSqliteStateStore(join(dir, 'state.db')), memoryLogger(lines));
    await store.init();
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs every call with its duration', async () => {
    await store.listRuns();
    expect(lines.map((l) => l.msg)).toEqual(['state init', 'state listRuns']);
    expect(lines[1]!.fields).toMatchObject({ component: 'state' });
    expect(typeof lines[1]!.fields['ms']).toBe('number');
  });

  it('wraps driver errors as WEIR-S001 and passes WeirErrors through', async () => {
    const run = {
      runId: 'r1',
      command: 'run',
      status: 'running' as const,
      args: {},
      startedAt: '2024-01-01T00:00:00.000Z',
      finishedAt: null,
      error: null,
    };
    await store.createRun(run);
    const dup = (await store.createRun(run).catch((e: unknown) => e)) as WeirError;
    expect(dup).toBeInstanceOf(WeirError);
    expect(dup.code).toBe('WEIR-S001');
    expect(dup.message).toMatch(/^State store createRun failed: .*UNIQUE/);
    expect(dup.hint).toBeTruthy();
    expect(dup.data).toMatchObject({ op: 'createRun', driverCode: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    const unknown = (await store
      .updateRun('ghost', { status: 'failed' })
      .catch((e: unknown) => e)) as WeirError;
    expect(unknown.code).toBe('WEIR-S002');
    expect(lines.at(-1)).toMatchObject({ msg: 'state updateRun failed', fields: { code: 'WEIR-S002' } });
  });
});
