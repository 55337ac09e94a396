import { z } from 'zod';
import { ingestError } from './errors.js';
import {
  ARRAY_MODES,
  CONTRACT_MODES,
  SOURCE_TYPES,
  WRITE_DISPOSITIONS,
  type StreamSpec,
  type WriteDisposition,
} from './types.js';
import type { StreamSettings } from './stream-settings.js';

export { streamSettingsOf, type StreamSettings } from './stream-settings.js';

const scalar = z.union([z.string(), z.number()]);
const keyList = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((v) => (typeof v === 'string' ? [v] : v));

const incrementalSchema = z
  .object({
    cursor_field: z.string().min(1),
    initial_value: scalar.optional(),
    lookback: scalar.optional(),
    end_value: scalar.optional(),
  })
  .strict();

const nestedSchema = z
  .object({ max_depth: z.number().int().min(0).max(10).optional(), arrays: z.enum(ARRAY_MODES).optional() })
  .strict();

const COMMON = {
  write_disposition: z.enum(WRITE_DISPOSITIONS).optional(),
  schema_contract: z.enum(CONTRACT_MODES).optional(),
  nested: nestedSchema.optional(),
  primary_key: keyList.optional(),
};

const sourceSchema = z
  .object({
    type: z.enum(SOURCE_TYPES),
    connection: z.record(z.string(), z.unknown()).optional(),
    ...COMMON,
  })
  .passthrough();

const tableSchema = z
  .object({
    incremental: incrementalSchema.optional(),
    hard_delete: z.string().optional(),
    ...COMMON,
  })
  .passthrough();

/** Merge when the stream has a primary key, else append: the same rule the project layer uses to place it. */
export function defaultDisposition(primaryKey: unknown): WriteDisposition {
  return primaryKey === undefined || primaryKey === null ? 'append' : 'merge';
}

/** Validates one stream's settings; WEIR-I001 names the file, line and key. */
export function parseStreamSettings(settings: StreamSettings): StreamSpec {
  const where = `${settings.sourceName}.${settings.streamName}`;
  const fail = (what: string, issue: z.core.$ZodIssue): never => {
    const path = issue.path.map(String).join('.');
    throw ingestError(
      'invalidConfig',
      `${what} of stream ${where}: ${path ? `'${path}': ` : ''}${issue.message}`,
      {
        at: settings.at,
        hint: 'see docs/ingestion.md for the keys a stream takes',
      },
    );
  };
  const src = sourceSchema.safeParse(settings.source);
  if (!src.success) fail('source settings', src.error.issues[0] as z.core.$ZodIssue);
  const tbl = tableSchema.safeParse(settings.table);
  if (!tbl.success) fail('table settings', tbl.error.issues[0] as z.core.$ZodIssue);
  const s = src.data as z.infer<typeof sourceSchema>;
  const t = tbl.data as z.infer<typeof tableSchema>;
  const primaryKey = t.primary_key ?? s.primary_key ?? [];
  const writeDisposition =
    t.write_disposition ?? s.write_disposition ?? defaultDisposition(t.primary_key ?? s.primary_key);
  if (writeDisposition === 'merge' && primaryKey.length === 0) {
    throw ingestError(
      'primaryKeyRequired',
      `stream ${where} uses write_disposition merge without a primary_key`,
      {
        at: settings.at,
        hint: 'add `primary_key: <column>` to the table, or use write_disposition append',
      },
    );
  }
  const nested = { ...(s.nested ?? {}), ...(t.nested ?? {}) };
  const options: Record<string, unknown> = {};
  const own = new Set(['type', 'connection', 'incremental', 'hard_delete', ...Object.keys(COMMON)]);
  for (const [k, v] of Object.entries(s)) if (!own.has(k)) options[k] = v;
  for (const [k, v] of Object.entries(t)) if (!own.has(k)) options[k] = v;
  return {
    sourceName: settings.sourceName,
    streamName: settings.streamName,
    type: s.type,
    connection: s.connection ?? {},
    primaryKey,
    writeDisposition,
    schemaContract: t.schema_contract ?? s.schema_contract ?? 'evolve',
    ...(t.incremental
      ? {
          incremental: {
            cursorField: t.incremental.cursor_field,
            ...(t.incremental.initial_value !== undefined
              ? { initialValue: t.incremental.initial_value }
              : {}),
            ...(t.incremental.lookback !== undefined ? { lookback: t.incremental.lookback } : {}),
            ...(t.incremental.end_value !== undefined ? { endValue: t.incremental.end_value } : {}),
          },
        }
      : {}),
    nested: { maxDepth: nested.max_depth ?? 1, arrays: nested.arrays ?? 'json' },
    ...(t.hard_delete ? { hardDeleteColumn: t.hard_delete } : {}),
    options,
    at: settings.at,
  };
}

/**
 * Renders `{{ env_var('NAME') }}` / `{{ env_var('NAME', 'default') }}` in connection settings.
 * Every rendered value is reported to `secret` (connections are where credentials live).
 */
export function renderConnection(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  secret: (text: string) => void,
  where: StreamSettings['at'],
): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\{\{\s*env_var\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])([^'"]*)\3\s*)?\)\s*\}\}/g,
      (_m, _q, name: string, _q2, fallback: string | undefined) => {
        const v = env[name] ?? fallback;
        if (v === undefined) {
          throw ingestError(
            'missingEnv',
            `environment variable ${name} is not set (used by a source connection)`,
            {
              at: where,
              hint: `export ${name}, or give env_var a default`,
            },
          );
        }
        secret(v);
        return v;
      },
    );
  }
  if (Array.isArray(value)) return value.map((v) => renderConnection(v, env, secret, where));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderConnection(v, env, secret, where);
    return out;
  }
  return value;
}
