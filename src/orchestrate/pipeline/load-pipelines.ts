import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, extname, join } from 'node:path';
import type * as Jiti from 'jiti';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WeirError, errorMessage } from '../../core/errors.js';
import { ownModule } from '../../core/package-root.js';
import { GRANULARITIES, type PartitionsDef } from '../partitions/partitions.js';
import {
  ALERT_EVENTS,
  PIPELINE_MARK,
  type AlertTarget,
  type PipelineDefinition,
  type ScheduleInput,
  type StepDefinition,
} from './define.js';
import { DEFAULT_SENSOR_INTERVAL_MS, type SensorSpec } from '../sensors/evaluate.js';
import type { SensorFunction } from '../sensors/define.js';
import { parseDuration, toRetryPolicy, TRIGGER_RULES, type RetryPolicy, type StepPolicy } from './policy.js';

/** A pipeline as the orchestrator uses it: validated, durations in ms, schedule normalised. */
export interface PipelineSpec {
  readonly name: string;
  /** Path relative to the project root. */
  readonly file: string;
  readonly description?: string;
  readonly select: readonly string[];
  readonly exclude: readonly string[];
  readonly schedule?: Required<Pick<ScheduleInput, 'cron' | 'timezone' | 'catchup'>> &
    Pick<ScheduleInput, 'start' | 'end'>;
  readonly partitions?: PartitionsDef;
  readonly retry?: RetryPolicy;
  readonly timeoutMs?: number;
  readonly maxActiveRuns: number;
  readonly concurrency?: number;
  readonly pools: Readonly<Record<string, number>>;
  readonly steps: readonly StepSpec[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly alerts: readonly AlertTarget[];
  readonly sla?: SlaSpec;
  readonly sensors: readonly SensorSpec[];
  readonly dataContract?: string;
  readonly qualityMonitoring?: readonly string[];
}

export interface SlaSpec {
  /** `HH:MM` local time (the schedule's timezone, else UTC) by which the day's run must have succeeded. */
  readonly deadline?: string;
  readonly timezone: string;
  /** A run running longer than this misses its SLA. */
  readonly maxDurationMs?: number;
}

export interface StepSpec {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly output?: string;
  readonly policy: StepPolicy;
  readonly run: StepDefinition['run'];
}

export const PIPELINE_LOAD_FAILED = 'WEIR-O002';
export const PIPELINE_INVALID = 'WEIR-O003';
export const PIPELINE_DUPLICATE = 'WEIR-O004';
export const PIPELINE_UNKNOWN = 'WEIR-O005';

const PIPELINE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.yml', '.yaml'] as const;

const secret = z.union([z.string(), z.strictObject({ $env: z.string() })]);
const on = z.array(z.enum(ALERT_EVENTS)).optional();
const retries = z.strictObject({
  attempts: z.number().int().positive().optional(),
  backoff: z.enum(['fixed', 'exponential']).optional(),
  delay: z.union([z.string(), z.number()]).optional(),
  maxDelay: z.union([z.string(), z.number()]).optional(),
  jitter: z.boolean().optional(),
});
const timePartitions = z.strictObject({
  kind: z.literal('time').optional(),
  granularity: z.enum(GRANULARITIES),
  start: z.string(),
  end: z.string().optional(),
  timezone: z.string().optional(),
});
const stepSchema = z.strictObject({
  name: z.string().min(1),
  run: z.custom<StepDefinition['run']>((v) => typeof v === 'function', 'a step needs a run function'),
  inputs: z.array(z.string()).optional(),
  output: z
    .string()
    .regex(/^[A-Za-z_][\w]*\.[A-Za-z_][\w]*$/, 'output must be schema.name')
    .optional(),
  retries: retries.optional(),
  timeout: z.union([z.string(), z.number()]).optional(),
  triggerRule: z.enum(TRIGGER_RULES).optional(),
  pool: z.string().optional(),
});

const sensorCommon = {
  name: z.string().regex(/^[A-Za-z_][\w-]*$/, 'use letters, digits, _ and -'),
  interval: z.union([z.string(), z.number()]).optional(),
};
const sensorSchema = z.union([
  z.strictObject({
    ...sensorCommon,
    kind: z.literal('file_arrival'),
    glob: z.array(z.string().min(1)).min(1),
  }),
  z.strictObject({ ...sensorCommon, kind: z.literal('asset_materialized'), asset: z.string().min(1) }),
  z.strictObject({
    ...sensorCommon,
    kind: z.literal('custom'),
    evaluate: z.custom<SensorFunction>((v) => typeof v === 'function', 'a custom sensor needs a function'),
  }),
]);
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

const pipelineSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][\w-]*$/, 'use letters, digits, _ and -'),
  description: z.string().optional(),
  select: z.union([z.string(), z.array(z.string())]).optional(),
  exclude: z.union([z.string(), z.array(z.string())]).optional(),
  schedule: z
    .union([
      z.string(),
      z.strictObject({
        cron: z.string(),
        timezone: z.string().optional(),
        catchup: z.boolean().optional(),
        start: z.string().optional(),
        end: z.string().optional(),
      }),
    ])
    .optional(),
  partitions: z
    .union([timePartitions, z.strictObject({ kind: z.literal('static'), keys: z.array(z.string()).min(1) })])
    .optional(),
  retries: retries.optional(),
  timeout: z.union([z.string(), z.number()]).optional(),
  maxActiveRuns: z.number().int().positive().optional(),
  concurrency: z.number().int().positive().optional(),
  pools: z.record(z.string(), z.number().int().positive()).optional(),
  steps: z.array(stepSchema).optional(),
  sensors: z.array(sensorSchema).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  observability: z
    .strictObject({
      alerts: z
        .array(
          z.union([
            z.strictObject({ kind: z.literal('slack'), url: secret, on }),
            z.strictObject({ kind: z.literal('webhook'), url: secret, on }),
            z.strictObject({
              kind: z.literal('email'),
              to: z.array(z.string()),
              from: z.string().optional(),
              smtp: secret,
              on,
            }),
          ]),
        )
        .optional(),
      sla: z
        .union([
          z.string().regex(HH_MM, "a deadline is a local time 'HH:MM', e.g. '09:00'"),
          z.strictObject({
            deadline: z.string().regex(HH_MM, "a deadline is a local time 'HH:MM', e.g. '09:00'").optional(),
            maxDuration: z.union([z.string(), z.number()]).optional(),
          }),
        ])
        .optional(),
    })
    .optional(),
  dataContract: z.string().optional(),
  qualityMonitoring: z.array(z.string()).optional(),
});

const list = (v: string | readonly string[] | undefined): string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : [...v];

/** Validates one definition and turns it into a spec; errors name the file and the key. */
export function toPipelineSpec(raw: unknown, file: string): PipelineSpec {
  const def = isBuilder(raw) ? raw.toDefinition() : raw;
  const parsed = pipelineSchema.safeParse(def);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.map(String).join('.') : '';
    throw new WeirError(
      PIPELINE_INVALID,
      `${file}: invalid pipeline${path ? ` at '${path}'` : ''}: ${issue?.message ?? 'invalid'}`,
      {
        at: { file },
        hint: 'see docs/orchestration.md for the pipeline keys (name, select, schedule, partitions, retries, timeout, steps, sensors, observability)',
        data: {
          issues: parsed.error.issues.map((i) => ({
            path: i.path.map(String).join('.'),
            message: i.message,
          })),
        },
      },
    );
  }
  const p = parsed.data as PipelineDefinition & { select?: string | string[]; exclude?: string | string[] };
  const where = `${file}: pipeline ${p.name}`;
  const schedule =
    p.schedule === undefined
      ? undefined
      : typeof p.schedule === 'string'
        ? { cron: p.schedule, timezone: 'UTC', catchup: false }
        : {
            cron: p.schedule.cron,
            timezone: p.schedule.timezone ?? 'UTC',
            catchup: p.schedule.catchup ?? false,
            ...(p.schedule.start ? { start: p.schedule.start } : {}),
            ...(p.schedule.end ? { end: p.schedule.end } : {}),
          };
  if (schedule) assertTimezone(schedule.timezone, where);
  const partitions: PartitionsDef | undefined =
    p.partitions === undefined
      ? undefined
      : p.partitions.kind === 'static'
        ? p.partitions
        : { ...p.partitions, kind: 'time', timezone: p.partitions.timezone ?? schedule?.timezone ?? 'UTC' };
  const retry = p.retries ? toRetryPolicy(p.retries, where) : undefined;
  const timeoutMs = p.timeout !== undefined ? parseDuration(p.timeout, `${where}: timeout`) : undefined;
  const steps: StepSpec[] = (p.steps ?? []).map((s) => {
    const w = `${where}: step ${s.name}`;
    const stepRetry = s.retries ? toRetryPolicy(s.retries, w) : retry;
    const stepTimeout = s.timeout !== undefined ? parseDuration(s.timeout, `${w}: timeout`) : timeoutMs;
    return {
      name: s.name,
      inputs: s.inputs ?? [],
      ...(s.output ? { output: s.output } : {}),
      policy: {
        ...(stepRetry ? { retry: stepRetry } : {}),
        ...(stepTimeout !== undefined ? { timeoutMs: stepTimeout } : {}),
        ...(s.triggerRule ? { triggerRule: s.triggerRule } : {}),
        ...(s.pool ? { pool: s.pool } : {}),
      },
      run: s.run,
    };
  });
  const sensors: SensorSpec[] = (p.sensors ?? []).map((d) => ({
    ...d,
    intervalMs:
      d.interval !== undefined
        ? parseDuration(d.interval, `${where}: sensor ${d.name}: interval`)
        : DEFAULT_SENSOR_INTERVAL_MS,
  }));
  const sensorNames = new Set<string>();
  for (const d of sensors) {
    if (sensorNames.has(d.name))
      throw new WeirError(PIPELINE_INVALID, `${where}: two sensors are named '${d.name}'`, {
        at: { file },
        hint: "give each sensor its own name: fileArrival({ glob, name: 'orders_files' })",
      });
    sensorNames.add(d.name);
  }
  const slaInput = p.observability?.sla;
  const sla: SlaSpec | undefined =
    slaInput === undefined
      ? undefined
      : {
          timezone: schedule?.timezone ?? 'UTC',
          ...(typeof slaInput === 'string'
            ? { deadline: slaInput }
            : {
                ...(slaInput.deadline ? { deadline: slaInput.deadline } : {}),
                ...(slaInput.maxDuration !== undefined
                  ? { maxDurationMs: parseDuration(slaInput.maxDuration, `${where}: sla.maxDuration`) }
                  : {}),
              }),
        };
  const names = new Set<string>();
  for (const s of steps) {
    if (names.has(s.name))
      throw new WeirError(PIPELINE_INVALID, `${where}: two steps are named '${s.name}'`, {
        at: { file },
        hint: 'give every step its own name',
      });
    names.add(s.name);
  }
  return {
    name: p.name,
    file,
    ...(p.description ? { description: p.description } : {}),
    select: list(p.select),
    exclude: list(p.exclude),
    ...(schedule ? { schedule } : {}),
    ...(partitions ? { partitions } : {}),
    ...(retry ? { retry } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    maxActiveRuns: p.maxActiveRuns ?? 1,
    ...(p.concurrency ? { concurrency: p.concurrency } : {}),
    pools: p.pools ?? {},
    steps,
    params: p.params ?? {},
    alerts: p.observability?.alerts ?? [],
    ...(sla ? { sla } : {}),
    sensors,
    ...(p.dataContract ? { dataContract: p.dataContract } : {}),
    ...(p.qualityMonitoring ? { qualityMonitoring: p.qualityMonitoring } : {}),
  };
}

function assertTimezone(tz: string, where: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new WeirError(PIPELINE_INVALID, `${where}: unknown timezone '${tz}'`, {
      hint: "use an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York'",
    });
  }
}

function isBuilder(v: unknown): v is { toDefinition(): PipelineDefinition } {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[PIPELINE_MARK] === true;
}

/**
 * Loads `pipelines/*.ts|*.js|*.yml|*.yaml` of a project. A code file's default export (or every
 * named export that is a pipeline) counts; a YAML file holds one pipeline or a `pipelines:` list.
 * `import ... from 'weir'` in a pipeline file resolves to this package (no node_modules needed).
 */
export async function loadPipelines(root: string, folder = 'pipelines'): Promise<PipelineSpec[]> {
  const dir = join(root, folder);
  if (!existsSync(dir)) return [];
  const files = (await readdir(dir))
    .filter((f) => (PIPELINE_EXTENSIONS as readonly string[]).includes(extname(f)) && !f.endsWith('.d.ts'))
    .sort();
  const specs: PipelineSpec[] = [];
  let jiti: { import<T>(id: string): Promise<T> } | undefined;
  for (const f of files) {
    const rel = `${folder}/${f}`;
    const path = join(dir, f);
    const ext = extname(f);
    let defs: unknown[];
    try {
      if (ext === '.yml' || ext === '.yaml') {
        const doc = parseYaml(await readFile(path, 'utf8')) as unknown;
        defs =
          doc && typeof doc === 'object' && Array.isArray((doc as { pipelines?: unknown }).pipelines)
            ? (doc as { pipelines: unknown[] }).pipelines
            : [doc];
        defs = defs.map((d) => yamlToDefinition(d, basename(f, ext)));
      } else {
        if (!jiti) {
          const { createJiti } = createRequire(import.meta.url)('jiti') as typeof Jiti;
          jiti = createJiti(import.meta.url, {
            alias: { weir: ownModule('index') },
            moduleCache: false,
            interopDefault: false,
          });
        }
        const mod = await jiti.import<Record<string, unknown>>(path);
        defs = Object.entries(mod)
          .filter(([k, v]) => k === 'default' || isBuilder(v) || isPlainPipeline(v))
          .map(([, v]) => v)
          .filter((v) => isBuilder(v) || isPlainPipeline(v));
        if (defs.length === 0) {
          throw new WeirError(PIPELINE_INVALID, `${rel} exports no pipeline`, {
            at: { file: rel },
            hint: "write `export default pipeline('name').select('+my_model')` with pipeline imported from 'weir'",
          });
        }
      }
    } catch (err) {
      if (err instanceof WeirError) throw err;
      throw new WeirError(PIPELINE_LOAD_FAILED, `${rel} failed to load: ${errorMessage(err)}`, {
        at: { file: rel },
        cause: err,
        hint: `fix the error in ${rel}`,
      });
    }
    for (const d of [...new Set(defs)]) specs.push(toPipelineSpec(d, rel));
  }
  const seen = new Map<string, string>();
  for (const s of specs) {
    const other = seen.get(s.name);
    if (other) {
      throw new WeirError(PIPELINE_DUPLICATE, `pipeline '${s.name}' is defined in ${other} and ${s.file}`, {
        at: { file: s.file },
        hint: 'rename one of them: pipeline names are unique in a project',
      });
    }
    seen.set(s.name, s.file);
  }
  return specs;
}

function isPlainPipeline(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { name?: unknown }).name === 'string' &&
    !Array.isArray(v)
  );
}

/** YAML spells partitions as `{ daily: { start } }` or `{ static: [keys] }`, and alerts as `{ slack: url }`. */
function yamlToDefinition(doc: unknown, fallbackName: string): unknown {
  if (!doc || typeof doc !== 'object') return doc;
  const d = { ...(doc as Record<string, unknown>) };
  if (d['name'] === undefined) d['name'] = fallbackName;
  const parts = d['partitions'];
  if (parts && typeof parts === 'object' && !('kind' in parts) && !('granularity' in parts)) {
    const [[k, v] = ['', undefined]] = Object.entries(parts as Record<string, unknown>);
    d['partitions'] =
      k === 'static' ? { kind: 'static', keys: v } : { kind: 'time', granularity: k, ...(v as object) };
  }
  // YAML sensors: `{ file_arrival: { glob, name?, interval? } }` or `{ asset_materialized: { asset } }`.
  if (Array.isArray(d['sensors'])) {
    d['sensors'] = (d['sensors'] as unknown[]).map((x) => {
      if (!x || typeof x !== 'object' || 'kind' in x) return x;
      const [[k, v] = ['', undefined]] = Object.entries(x as Record<string, unknown>);
      const o = (typeof v === 'string' ? (k === 'file_arrival' ? { glob: v } : { asset: v }) : v) as Record<
        string,
        unknown
      >;
      const g = o['glob'];
      const base = typeof g === 'string' ? { ...o, glob: [g] } : o;
      const slug = (t: string): string =>
        t
          .replace(/[^A-Za-z0-9_]+/g, '_')
          .replace(/^_+|_+$/g, '')
          .toLowerCase();
      const name =
        base['name'] ??
        (k === 'file_arrival'
          ? `files_${slug(((base['glob'] as string[] | undefined) ?? []).join('_'))}`
          : `asset_${slug(String(base['asset']))}`);
      return { kind: k, ...base, name };
    });
  }
  const obs = d['observability'] as Record<string, unknown> | undefined;
  const alerts = obs?.['alerts'];
  if (obs && Array.isArray(alerts)) {
    d['observability'] = {
      ...obs,
      alerts: alerts.map((a: unknown) => {
        if (!a || typeof a !== 'object' || 'kind' in a) return a;
        const [[k, v] = ['', undefined]] = Object.entries(a as Record<string, unknown>);
        const envOf = (x: unknown): unknown =>
          typeof x === 'string' && x.startsWith('env:') ? { $env: x.slice(4) } : x;
        if (k === 'email') {
          const e = v as Record<string, unknown>;
          return {
            kind: 'email',
            ...e,
            to: typeof e['to'] === 'string' ? [e['to']] : e['to'],
            smtp: envOf(e['smtp']),
          };
        }
        return { kind: k, url: envOf(v) };
      }),
    };
  }
  return d;
}

export function findPipeline(specs: readonly PipelineSpec[], name: string): PipelineSpec {
  const found = specs.find((s) => s.name === name);
  if (found) return found;
  throw new WeirError(PIPELINE_UNKNOWN, `no pipeline named '${name}'`, {
    hint: specs.length
      ? `pipelines: ${specs.map((s) => s.name).join(', ')}`
      : 'define one in pipelines/<name>.ts or pipelines/<name>.yml',
  });
}
