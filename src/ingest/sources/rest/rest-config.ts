import { z } from 'zod';
import { ingestError } from '../../errors.js';
import type { StreamSpec } from '../../types.js';

export const PAGINATOR_TYPES = [
  'single_page',
  'offset',
  'page_number',
  'cursor',
  'json_link',
  'header_link',
] as const;
export type PaginatorType = (typeof PAGINATOR_TYPES)[number];

export const AUTH_TYPES = ['bearer', 'basic', 'api_key'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

const authSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bearer'), token: z.string().min(1) }).strict(),
  z.object({ type: z.literal('basic'), username: z.string(), password: z.string() }).strict(),
  z
    .object({
      type: z.literal('api_key'),
      name: z.string().min(1),
      value: z.string().min(1),
      in: z.enum(['header', 'query']).optional(),
    })
    .strict(),
]);
export type RestAuth = z.infer<typeof authSchema>;

const paginatorSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('single_page') }).strict(),
  z
    .object({
      type: z.literal('offset'),
      limit: z.number().int().positive(),
      offset_param: z.string().optional(),
      limit_param: z.string().optional(),
      total_path: z.string().optional(),
      initial_offset: z.number().int().min(0).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('page_number'),
      page_param: z.string().optional(),
      base_page: z.number().int().min(0).optional(),
      total_path: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('cursor'),
      cursor_path: z.string().min(1),
      cursor_param: z.string().min(1),
    })
    .strict(),
  z.object({ type: z.literal('json_link'), next_url_path: z.string().min(1) }).strict(),
  z.object({ type: z.literal('header_link'), rel: z.string().optional() }).strict(),
]);
export type PaginatorConfig = z.infer<typeof paginatorSchema>;

const paramValue = z.union([z.string(), z.number(), z.boolean()]);

interface EndpointShape {
  path: string;
  method?: 'GET' | 'POST' | undefined;
  params?: Record<string, string | number | boolean> | undefined;
  json?: unknown;
  data_selector?: string | undefined;
  paginator?: PaginatorConfig | undefined;
  parent?: EndpointShape | undefined;
}

const endpointSchema: z.ZodType<EndpointShape> = z.lazy(() =>
  z
    .object({
      path: z.string().min(1),
      method: z.enum(['GET', 'POST']).optional(),
      params: z.record(z.string(), paramValue).optional(),
      json: z.unknown().optional(),
      data_selector: z.string().min(1).optional(),
      paginator: paginatorSchema.optional(),
      parent: endpointSchema.optional(),
    })
    .strict(),
);
export type EndpointConfig = EndpointShape;

const durationMs = z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v * 1000;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|seconds?|m|minutes?)\s*$/i.exec(v);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a duration (e.g. 30, '30 seconds', '500 ms')` });
    return z.NEVER;
  }
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  return unit.startsWith('ms') || unit.startsWith('milli') ? n : unit.startsWith('m') ? n * 60_000 : n * 1000;
});

const connectionSchema = z
  .object({
    base_url: z.string().url(),
    auth: authSchema.optional(),
    headers: z.record(z.string(), z.string()).optional(),
    /** Requests per second over the whole source. */
    rate_limit: z.number().positive().optional(),
    /** Per request: a number of seconds or `'30 seconds'`, `'500 ms'`. */
    timeout: durationMs.optional(),
    retries: z
      .object({
        attempts: z.number().int().min(1).max(20).optional(),
        backoff: durationMs.optional(),
        max_backoff: durationMs.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export interface RestConnection {
  readonly baseUrl: string;
  readonly auth?: RestAuth;
  readonly headers: Readonly<Record<string, string>>;
  readonly rateLimit?: number;
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

function fail(what: string, where: string, issue: z.core.$ZodIssue, at: StreamSpec['at']): never {
  const path = issue.path.map(String).join('.');
  throw ingestError('invalidConfig', `${what} of ${where}: ${path ? `'${path}': ` : ''}${issue.message}`, {
    at,
    hint: 'see the REST section of docs/ingestion.md for the keys it takes',
  });
}

/** Validates a rendered REST connection (WEIR-I001). */
export function parseRestConnection(
  connection: Readonly<Record<string, unknown>>,
  sourceName: string,
  at: StreamSpec['at'],
): RestConnection {
  const r = connectionSchema.safeParse(connection);
  if (!r.success) fail('connection', `source ${sourceName}`, r.error.issues[0] as z.core.$ZodIssue, at);
  const c = r.data;
  return {
    baseUrl: c.base_url,
    ...(c.auth ? { auth: c.auth } : {}),
    headers: c.headers ?? {},
    ...(c.rate_limit !== undefined ? { rateLimit: c.rate_limit } : {}),
    timeoutMs: c.timeout ?? 30_000,
    attempts: c.retries?.attempts ?? 5,
    backoffMs: c.retries?.backoff ?? 1000,
    maxBackoffMs: c.retries?.max_backoff ?? 60_000,
  };
}

/** Validates a stream's `endpoint:` (a string is a path). */
export function parseEndpoint(spec: StreamSpec): EndpointConfig {
  const raw = spec.options['endpoint'] ?? spec.streamName;
  const value = typeof raw === 'string' ? { path: raw } : raw;
  const r = endpointSchema.safeParse(value);
  if (!r.success)
    fail(
      'endpoint',
      `stream ${spec.sourceName}.${spec.streamName}`,
      r.error.issues[0] as z.core.$ZodIssue,
      spec.at,
    );
  return r.data;
}
