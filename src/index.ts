/**
 * The `weir` package entry: what project files import (`weir.config.ts`, `pipelines/*.ts`).
 * It stays light: nothing here loads DuckDB, SQLite or the CLI.
 */
export { defineConfig } from './project/define-config.js';
export { defineSource, envVar } from './ingest/define-source.js';
export type {
  EndpointInput,
  IncrementalInput,
  NestedInput,
  SourceDefinition,
  SourceInput,
  StreamInput,
} from './ingest/define-source.js';
export {
  ALERT_EVENTS,
  PipelineBuilder,
  assetMaterialized,
  daily,
  definePipeline,
  email,
  env,
  fileArrival,
  hourly,
  monthly,
  pipeline,
  sensor,
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
  SlaInput,
  StepDefinition,
  StepFunction,
  StepOptions,
} from './orchestrate/pipeline/define.js';
export type { CustomStepContext } from './orchestrate/run.js';
export type {
  SensorContext,
  SensorDefinition,
  SensorFunction,
  SensorResult,
} from './orchestrate/sensors/define.js';
export type {
  PartitionsDef,
  StaticPartitionsDef,
  TimePartitionsDef,
} from './orchestrate/partitions/partitions.js';
export type { TriggerRule } from './orchestrate/pipeline/policy.js';
