import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { glob } from 'tinyglobby';
import { WeirError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { OrchestrationStore } from '../../core/orchestration-store.js';
import type { StateStore } from '../../core/state-store.js';
import { newRunId } from '../run.js';
import type { SensorDefinition } from './define.js';

/**
 * Sensor evaluation. A sensor turns the state of the world (files in a landing folder, the
 * history of an asset, anything a custom function looks at) plus its stored cursor into "fire or
 * not", a new cursor, run params and a unique firing key. `pollSensor` claims the firing by its
 * key and stores the cursor in one transaction, so a firing triggers one run even when two
 * daemons overlap or a daemon restarts between evaluating and launching.
 */
export const SENSOR_FAILED = 'WEIR-O070';
export const SENSOR_RESULT_INVALID = 'WEIR-O071';

/** A sensor as the daemon uses it: its definition plus the interval in ms. */
export type SensorSpec = SensorDefinition & { readonly intervalMs: number };

export const DEFAULT_SENSOR_INTERVAL_MS = 30_000;

export interface SensorDeps {
  readonly root: string;
  readonly state: Pick<StateStore, 'nodeHistory'>;
  readonly logger: Logger;
}

export interface SensorEvaluation {
  readonly fire: boolean;
  /** The cursor to store (undefined: keep the stored one). */
  readonly cursor: string | undefined;
  readonly key: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly partition?: string;
}

export interface SensorFiring {
  readonly source: string;
  readonly key: string;
  readonly runId: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly partition?: string;
}

/** The store key of a sensor (cursor and firings): unique per pipeline and sensor name. */
export function sensorSource(pipeline: string, name: string): string {
  return `sensor:${pipeline}.${name}`;
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

interface FileCursor {
  /** path -> `mtimeMs:size`. */
  readonly files: Readonly<Record<string, string>>;
}

function parseCursor<T>(cursor: string | undefined, fallback: T): T {
  if (cursor === undefined) return fallback;
  try {
    return JSON.parse(cursor) as T;
  } catch {
    return fallback;
  }
}

async function evaluateFiles(
  def: Extract<SensorDefinition, { kind: 'file_arrival' }>,
  cursor: string | undefined,
  deps: SensorDeps,
): Promise<SensorEvaluation> {
  const known = parseCursor<FileCursor>(cursor, { files: {} }).files;
  const paths = (await glob([...def.glob], { cwd: deps.root, onlyFiles: true, dot: false })).sort();
  const current: Record<string, string> = {};
  for (const p of paths) {
    try {
      const s = await stat(isAbsolute(p) ? p : join(deps.root, p));
      current[p] = `${Math.round(s.mtimeMs)}:${s.size}`;
    } catch {
      // Moved away between the listing and the stat: not there any more.
    }
  }
  const arrived = Object.keys(current).filter((p) => known[p] !== current[p]);
  const next = JSON.stringify({ files: current });
  return {
    fire: arrived.length > 0,
    cursor: next === cursor ? undefined : next,
    key: digest(arrived.map((p) => `${p}@${current[p]}`).join('\n')),
    params: { files: arrived },
  };
}

interface AssetCursor {
  readonly runId: string;
  readonly finishedAt: string;
}

async function evaluateAsset(
  def: Extract<SensorDefinition, { kind: 'asset_materialized' }>,
  cursor: string | undefined,
  deps: SensorDeps,
): Promise<SensorEvaluation> {
  const history = await deps.state.nodeHistory(def.asset, 50);
  const latest = history.find((r) => r.status === 'success' && r.finishedAt !== null);
  const none = { fire: false, cursor: undefined, key: '', params: {} };
  if (!latest || latest.finishedAt === null) {
    // Nothing materialized yet: remember that, so the first materialization fires.
    return cursor === undefined ? { ...none, cursor: JSON.stringify({ runId: '', finishedAt: '' }) } : none;
  }
  const next = JSON.stringify({ runId: latest.runId, finishedAt: latest.finishedAt } satisfies AssetCursor);
  // A sensor seeing an asset for the first time starts from its current state (like a schedule
  // starting from now): only materializations after that fire.
  if (cursor === undefined) return { ...none, cursor: next };
  const seen = parseCursor<AssetCursor>(cursor, { runId: '', finishedAt: '' });
  if (latest.finishedAt <= seen.finishedAt || latest.runId === seen.runId) return none;
  return {
    fire: true,
    cursor: next,
    key: `${def.asset}@${latest.version ?? latest.runId}:${latest.runId}`,
    params: {
      upstream: {
        asset: latest.asset ?? def.asset,
        run_id: latest.runId,
        version: latest.version,
        finished_at: latest.finishedAt,
      },
    },
  };
}

async function evaluateCustom(
  def: Extract<SensorDefinition, { kind: 'custom' }>,
  pipeline: string,
  cursor: string | undefined,
  deps: SensorDeps,
  now: Date,
): Promise<SensorEvaluation> {
  const result = await def.evaluate({
    cursor,
    now,
    logger: deps.logger,
    root: deps.root,
    pipeline,
    sensor: def.name,
  });
  const where = `sensor ${def.name} of pipeline ${pipeline}`;
  const bad = (what: string): WeirError =>
    new WeirError(SENSOR_RESULT_INVALID, `${where} returned ${what}`, {
      hint: 'return { fire: boolean, cursor?: string, params?: object, partition?: string, key?: string }',
    });
  if (!result || typeof result !== 'object' || typeof result.fire !== 'boolean')
    throw bad('no { fire: boolean }');
  if (result.cursor !== undefined && typeof result.cursor !== 'string')
    throw bad('a cursor that is no string');
  if (result.key !== undefined && typeof result.key !== 'string') throw bad('a key that is no string');
  if (result.params !== undefined && (typeof result.params !== 'object' || result.params === null))
    throw bad('params that are no object');
  return {
    fire: result.fire,
    cursor: result.cursor !== undefined && result.cursor !== cursor ? result.cursor : undefined,
    key: result.key ?? result.cursor ?? now.toISOString(),
    params: result.params ?? {},
    ...(result.partition !== undefined ? { partition: result.partition } : {}),
  };
}

/** Evaluates one sensor against its stored cursor. Errors become WEIR-O070 / O071. */
export async function evaluateSensor(
  def: SensorDefinition,
  pipeline: string,
  cursor: string | undefined,
  deps: SensorDeps,
  now: Date,
): Promise<SensorEvaluation> {
  try {
    switch (def.kind) {
      case 'file_arrival':
        return await evaluateFiles(def, cursor, deps);
      case 'asset_materialized':
        return await evaluateAsset(def, cursor, deps);
      case 'custom':
        return await evaluateCustom(def, pipeline, cursor, deps, now);
    }
  } catch (err) {
    if (err instanceof WeirError) throw err;
    throw new WeirError(
      SENSOR_FAILED,
      `sensor ${def.name} of pipeline ${pipeline} failed: ${errorMessage(err)}`,
      {
        cause: err,
        hint: 'fix the sensor; the daemon evaluates it again at its next interval',
      },
    );
  }
}

/**
 * Evaluates a sensor and, when it fires, claims the firing (unique key) together with the new
 * cursor. Returns the firing to launch, or undefined when the sensor did not fire or someone
 * (another daemon, this one before a restart) already claimed that firing.
 */
export async function pollSensor(
  store: OrchestrationStore,
  def: SensorDefinition,
  pipeline: string,
  deps: SensorDeps,
  owner: string,
  now: Date,
): Promise<SensorFiring | undefined> {
  const source = sensorSource(pipeline, def.name);
  const cursor = await store.getCursor(source);
  const ev = await evaluateSensor(def, pipeline, cursor, deps, now);
  if (!ev.fire) {
    if (ev.cursor !== undefined) await store.setCursor(source, ev.cursor, now.toISOString());
    return undefined;
  }
  const runId = newRunId(now);
  const claimed = await store.claimFiring(
    {
      source,
      key: ev.key,
      firedAt: now.toISOString(),
      owner,
      runId,
      data: { params: ev.params, ...(ev.partition !== undefined ? { partition: ev.partition } : {}) },
    },
    ev.cursor,
  );
  if (!claimed) return undefined;
  return {
    source,
    key: ev.key,
    runId,
    params: ev.params,
    ...(ev.partition !== undefined ? { partition: ev.partition } : {}),
  };
}
