/**
 * The `weir` package entry: what project files import (`weir.config.ts`, `pipelines/*.ts`).
 * It stays light: nothing here loads DuckDB, SQLite or the CLI.
 */
export { defineConfig } from './project/define-config.js';
export {
  ALERT_EVENTS,
  PipelineBuilder,
  daily,
  definePipeline,
  email,
  env,
  hourly,
  monthly,
  pipeline,
  slack,
  staticPartitions,
  step,
  webhook,
  weekly,
} from './orchestrate/pipeline/define.js';
export type {
  AlertEvent,
  AlertTarget,
  EnvRef,
  ObservabilityInput,
  PipelineDefinition,
  RetriesInput,
  ScheduleInput,
  StepDefinition,
  StepFunction,
  StepOptions,
} from './orchestrate/pipeline/define.js';
export type { CustomStepContext } from './orchestrate/run.js';
export type {
  PartitionsDef,
  StaticPartitionsDef,
  TimePartitionsDef,
} from './orchestrate/partitions/partitions.js';
export type { TriggerRule } from './orchestrate/pipeline/policy.js';
