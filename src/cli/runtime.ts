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

/** Opens the run's DuckDB (in memory); needs nothing from the project, so it can start first. */
export async function openEngine(logger: Logger, threads?: number): Promise<Engine> {
  return withRuntime(await createDuckDbEngine({ ...(threads ? { threads } : {}), logger }), logger);
}

/**
 * `engine`: one `openEngine` already started (the CLI starts it before parsing the project, so
 * loading and opening DuckDB overlaps the parse); its ownership passes to the runtime.
 */
export async function openRuntime(
  project: Project,
  logger: Logger,
  threads?: number,
  engine: Promise<Engine> = openEngine(logger, threads),
): Promise<Runtime> {
  // Handled below; this keeps a failed open from counting as an unhandled rejection meanwhile.
  engine.catch(() => undefined);
  let state: StateStore;
  try {
    await mkdir(project.weir.lakeRoot, { recursive: true });
    await mkdir(dirname(project.weir.state.path), { recursive: true });
    state = await openSqliteStateStore(project.weir.state.path, { logger });
  } catch (err) {
    await closeStarted(engine);
    throw err;
  }
  let opened: Engine;
  try {
    await state.init();
    opened = await engine;
  } catch (err) {
    await state.close();
    await closeStarted(engine);
    throw err;
  }
  return runtimeOf(opened, state, project);
}

/** Closes an engine whose opening may still be under way, or may have failed. */
export async function closeStarted(engine: Promise<Engine>): Promise<void> {
  const opened = await engine.catch(() => undefined);
  await opened?.close();
}

function runtimeOf(engine: Engine, state: StateStore, project: Project): Runtime {
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
