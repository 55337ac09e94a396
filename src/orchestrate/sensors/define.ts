/**
 * Sensors as pipeline files declare them: file arrival, upstream asset materialized, and custom
 * TypeScript sensors with a cursor. This module is loaded by every pipeline file (through
 * `weir`): it imports nothing at run time.
 */
import type { Logger } from '../../core/logger.js';

export const SENSOR_KINDS = ['file_arrival', 'asset_materialized', 'custom'] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];

/** What a custom sensor receives on each evaluation. */
export interface SensorContext {
  /** The cursor the sensor returned last time (persisted in the state store), if any. */
  readonly cursor: string | undefined;
  readonly now: Date;
  readonly logger: Logger;
  /** The project root. */
  readonly root: string;
  readonly pipeline: string;
  readonly sensor: string;
}

/** What a sensor evaluation returns. */
export interface SensorResult {
  /** Whether to trigger a run of the pipeline. */
  readonly fire: boolean;
  /** Stored and handed back next time (also when `fire` is false). */
  readonly cursor?: string;
  /** Passed to the run as `ctx.params` (merged over the pipeline's params). */
  readonly params?: Readonly<Record<string, unknown>>;
  /** The partition to build (partitioned pipelines); default: the latest complete one. */
  readonly partition?: string;
  /**
   * What makes this firing unique: two evaluations with the same key trigger one run, even
   * across daemons and restarts. Default: the returned cursor (or the evaluation time).
   */
  readonly key?: string;
}

export type SensorFunction = (ctx: SensorContext) => Promise<SensorResult> | SensorResult;

interface SensorCommon {
  readonly name: string;
  /** How often the daemon evaluates it (`'30s'`, ms); default 30 s. */
  readonly interval?: string | number;
}

export type SensorDefinition =
  | (SensorCommon & {
      readonly kind: 'file_arrival';
      /** Globs relative to the project root (or absolute), e.g. `landing/*.csv`. */
      readonly glob: readonly string[];
    })
  | (SensorCommon & {
      readonly kind: 'asset_materialized';
      /** An asset (`schema.name`) or a manifest node id. */
      readonly asset: string;
    })
  | (SensorCommon & { readonly kind: 'custom'; readonly evaluate: SensorFunction });

const slug = (text: string): string =>
  text
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();

/** Fires once per new (or changed) set of files matching `glob`; the run gets `params.files`. */
export function fileArrival(options: {
  readonly glob: string | readonly string[];
  readonly name?: string;
  readonly interval?: string | number;
}): SensorDefinition {
  const glob = typeof options.glob === 'string' ? [options.glob] : [...options.glob];
  return {
    kind: 'file_arrival',
    name: options.name ?? `files_${slug(glob.join('_'))}`,
    glob,
    ...(options.interval !== undefined ? { interval: options.interval } : {}),
  };
}

/** Fires when `asset` gets a new successful materialization; the run gets `params.upstream`. */
export function assetMaterialized(
  asset: string,
  options: { readonly name?: string; readonly interval?: string | number } = {},
): SensorDefinition {
  return {
    kind: 'asset_materialized',
    name: options.name ?? `asset_${slug(asset)}`,
    asset,
    ...(options.interval !== undefined ? { interval: options.interval } : {}),
  };
}

/** A custom sensor: `sensor('name', async (ctx) => ({ fire, cursor, params }))`. */
export function sensor(
  name: string,
  evaluate: SensorFunction,
  options: { readonly interval?: string | number } = {},
): SensorDefinition {
  return {
    kind: 'custom',
    name,
    evaluate,
    ...(options.interval !== undefined ? { interval: options.interval } : {}),
  };
}
