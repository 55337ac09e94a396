/**
 * The typed API of `pipelines/*.ts`: a plain object (`definePipeline({...})`) or the fluent
 * builder (`pipeline('name').select(...)...`); both give a `PipelineDefinition`. This module is
 * loaded by every pipeline file: it imports nothing at run time but the partition helpers.
 */
import type { CustomStepContext } from '../run.js';
import type { PartitionsDef } from '../partitions/partitions.js';
import type { SensorDefinition } from '../sensors/define.js';
import type { Backoff, TriggerRule } from './policy.js';

export { daily, hourly, monthly, staticPartitions, weekly } from '../partitions/partitions.js';
export { assetMaterialized, fileArrival, sensor } from '../sensors/define.js';

/** A value read from the environment when the pipeline runs (secrets never sit in the file). */
export interface EnvRef {
  readonly $env: string;
}
export const env = (name: string): EnvRef => ({ $env: name });

export type Secret = string | EnvRef;

export interface RetriesInput {
  readonly attempts?: number;
  readonly backoff?: Backoff;
  readonly delay?: string | number;
  readonly maxDelay?: string | number;
  readonly jitter?: boolean;
}

export interface ScheduleInput {
  /** 5-field cron or @hourly/@daily/@weekly/@monthly. */
  readonly cron: string;
  readonly timezone?: string;
  /** Fire the ticks missed while no daemon ran (default false: only the latest). */
  readonly catchup?: boolean;
  /** No tick before this ISO date/time. */
  readonly start?: string;
  /** No tick after this ISO date/time. */
  readonly end?: string;
}

export const ALERT_EVENTS = ['failure', 'success', 'retry_exhausted', 'sla_miss'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

export type AlertTarget =
  | { readonly kind: 'slack'; readonly url: Secret; readonly on?: readonly AlertEvent[] }
  | { readonly kind: 'webhook'; readonly url: Secret; readonly on?: readonly AlertEvent[] }
  | {
      readonly kind: 'email';
      readonly to: readonly string[];
      readonly from?: string;
      readonly smtp: Secret;
      readonly on?: readonly AlertEvent[];
    };

export const slack = (url: Secret, on?: readonly AlertEvent[]): AlertTarget => ({
  kind: 'slack',
  url,
  ...(on ? { on } : {}),
});
export const webhook = (url: Secret, on?: readonly AlertEvent[]): AlertTarget => ({
  kind: 'webhook',
  url,
  ...(on ? { on } : {}),
});
export const email = (options: {
  to: string | readonly string[];
  from?: string;
  /** `smtp://user:pass@host:port` */
  smtp: Secret;
  on?: readonly AlertEvent[];
}): AlertTarget => ({
  kind: 'email',
  to: typeof options.to === 'string' ? [options.to] : [...options.to],
  smtp: options.smtp,
  ...(options.from ? { from: options.from } : {}),
  ...(options.on ? { on: options.on } : {}),
});

/**
 * `'09:00'`: by this local time (the schedule's timezone) the day's run must have succeeded.
 * `{ maxDuration: '30m' }`: a run still running after this long is late. Both may be combined.
 */
export type SlaInput = string | { readonly deadline?: string; readonly maxDuration?: string | number };

export interface ObservabilityInput {
  readonly alerts?: readonly AlertTarget[];
  readonly sla?: SlaInput;
}

export type StepFunction = (ctx: CustomStepContext) => Promise<unknown> | unknown;

export interface StepOptions {
  /** Models, assets (`schema.name`) or other steps this step reads: it runs after them. */
  readonly inputs?: readonly string[];
  /**
   * `schema.name`: what the step returns (rows, Arrow-like tables or `{ columns }`) becomes this
   * Delta table. SQL models read it with `source()` once it is declared as a source.
   */
  readonly output?: string;
  readonly retries?: RetriesInput;
  readonly timeout?: string | number;
  readonly triggerRule?: TriggerRule;
  readonly pool?: string;
}

export interface StepDefinition extends StepOptions {
  readonly name: string;
  readonly run: StepFunction;
}

export function step(name: string, run: StepFunction, options?: StepOptions): StepDefinition;
export function step(name: string, options: StepOptions, run: StepFunction): StepDefinition;
export function step(
  name: string,
  a: StepFunction | StepOptions,
  b?: StepFunction | StepOptions,
): StepDefinition {
  const run = (typeof a === 'function' ? a : b) as StepFunction;
  const options = (typeof a === 'function' ? b : a) as StepOptions | undefined;
  return { name, run, ...(options ?? {}) };
}

export interface PipelineDefinition {
  readonly name: string;
  readonly description?: string;
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly schedule?: string | ScheduleInput;
  readonly partitions?: PartitionsDef;
  readonly retries?: RetriesInput;
  readonly timeout?: string | number;
  /** Runs of this pipeline at once, across processes (default 1). */
  readonly maxActiveRuns?: number;
  /** Steps at once within a run. */
  readonly concurrency?: number;
  readonly pools?: Readonly<Record<string, number>>;
  readonly steps?: readonly StepDefinition[];
  /** Sensors that trigger runs: `fileArrival(...)`, `assetMaterialized(...)`, `sensor(...)`. */
  readonly sensors?: readonly SensorDefinition[];
  readonly params?: Readonly<Record<string, unknown>>;
  readonly observability?: ObservabilityInput;
  /** Recorded for the quality layer (contracts): see docs/orchestration.md. */
  readonly dataContract?: string;
  /** Recorded for the quality layer (monitors): see docs/orchestration.md. */
  readonly qualityMonitoring?: readonly string[];
}

export const PIPELINE_MARK = Symbol.for('weir.pipeline');

export function definePipeline(definition: PipelineDefinition): PipelineDefinition {
  return definition;
}

/** The fluent form; every method returns a new builder, `toDefinition()` the plain object. */
export class PipelineBuilder {
  readonly [PIPELINE_MARK] = true;
  constructor(private readonly def: PipelineDefinition) {}

  private with(patch: Partial<PipelineDefinition>): PipelineBuilder {
    return new PipelineBuilder({ ...this.def, ...patch });
  }

  describe(description: string): PipelineBuilder {
    return this.with({ description });
  }
  select(...selectors: string[]): PipelineBuilder {
    return this.with({ select: [...(this.def.select ?? []), ...selectors] });
  }
  exclude(...selectors: string[]): PipelineBuilder {
    return this.with({ exclude: [...(this.def.exclude ?? []), ...selectors] });
  }
  schedule(cron: string, options: Omit<ScheduleInput, 'cron'> = {}): PipelineBuilder {
    return this.with({ schedule: { cron, ...options } });
  }
  partitions(partitions: PartitionsDef): PipelineBuilder {
    return this.with({ partitions });
  }
  retries(retries: RetriesInput): PipelineBuilder {
    return this.with({ retries });
  }
  timeout(timeout: string | number): PipelineBuilder {
    return this.with({ timeout });
  }
  maxActiveRuns(n: number): PipelineBuilder {
    return this.with({ maxActiveRuns: n });
  }
  concurrency(n: number): PipelineBuilder {
    return this.with({ concurrency: n });
  }
  pool(name: string, size: number): PipelineBuilder {
    return this.with({ pools: { ...(this.def.pools ?? {}), [name]: size } });
  }
  params(params: Readonly<Record<string, unknown>>): PipelineBuilder {
    return this.with({ params: { ...(this.def.params ?? {}), ...params } });
  }
  step(definition: StepDefinition): PipelineBuilder;
  step(name: string, run: StepFunction, options?: StepOptions): PipelineBuilder;
  step(a: StepDefinition | string, run?: StepFunction, options?: StepOptions): PipelineBuilder {
    const s = typeof a === 'string' ? step(a, run as StepFunction, options ?? {}) : a;
    return this.with({ steps: [...(this.def.steps ?? []), s] });
  }
  /** Triggers a run whenever the sensor fires (evaluated by `weir serve`). */
  sensor(definition: SensorDefinition): PipelineBuilder {
    return this.with({ sensors: [...(this.def.sensors ?? []), definition] });
  }
  withDataContract(path: string): PipelineBuilder {
    return this.with({ dataContract: path });
  }
  withQualityMonitoring(monitors: readonly string[]): PipelineBuilder {
    return this.with({ qualityMonitoring: [...monitors] });
  }
  withObservability(observability: ObservabilityInput): PipelineBuilder {
    return this.with({ observability });
  }
  toDefinition(): PipelineDefinition {
    return this.def;
  }
}

export function pipeline(name: string): PipelineBuilder {
  return new PipelineBuilder({ name });
}
