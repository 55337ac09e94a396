import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Engine } from '../core/engine.js';
import type { Logger } from '../core/logger.js';
import type { StateStore } from '../core/state-store.js';
import { createDuckDbEngine } from '../engine/duckdb/duckdb-engine.js';
import { withRuntime } from '../engine/runtime-engine.js';
import { LocalObjectStore } from '../lake/local-object-store.js';
import type { ObjectStore } from '../lake/object-store.js';
import type { Project } from '../project/types.js';
import { openSqliteStateStore } from '../state/sqlite/sqlite-state-store.js';

/** The concrete adapters of the embedded default, wired here and only here (with server/). */
export interface Runtime {
  readonly engine: Engine;
  readonly state: StateStore;
  readonly lake: ObjectStore;
  close(): Promise<void>;
}

/** Opens the embedded default: in-process DuckDB, the local lake, the SQLite state store. */
export { createDuckDbEngine };

export async function openRuntime(project: Project, logger: Logger, threads?: number): Promise<Runtime> {
  await mkdir(project.weir.lakeRoot, { recursive: true });
  await mkdir(dirname(project.weir.state.path), { recursive: true });
  const engine = withRuntime(await createDuckDbEngine({ ...(threads ? { threads } : {}), logger }), logger);
  const state = await openSqliteStateStore(project.weir.state.path, { logger });
  await state.init();
  const lake = new LocalObjectStore(project.weir.lakeRoot);
  return {
    engine,
    state,
    lake,
    async close() {
      await state.close();
      await engine.close();
    },
  };
}

export async function openStateOnly(project: Project, logger: Logger): Promise<StateStore> {
  await mkdir(dirname(project.weir.state.path), { recursive: true });
  const state = await openSqliteStateStore(project.weir.state.path, { logger });
  await state.init();
  return state;
}
