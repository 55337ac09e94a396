import { createRequire } from 'node:module';
import type * as Zod from 'zod';

/**
 * zod schemas that are built, and zod loaded, only when a value needs one.
 *
 * Loading zod costs ~60 ms (its entry point compiles 64 locale files): the largest single part of
 * `weir compile` before any work, while the values of a project are almost all plain (strings,
 * booleans, lists of strings). A schema may come with a `plain` check that accepts such values
 * without zod; it must accept only values the schema accepts as they are, which
 * lazy-schema.test.ts checks against zod for every check on a pool of values. Anything else,
 * every invalid value included, goes through zod, which reports the issue.
 *
 * Validation is synchronous, so zod is required: its CommonJS build. Modules outside project/
 * import its ES build; the two copies never exchange values.
 */

export type ZodApi = typeof Zod.z;

export type SafeParseResult<T> = { success: true; data: T } | { success: false; error: Zod.ZodError };

export interface LazySchema<T = unknown> {
  /** Like zod's; a value the plain check accepts is its own `data`. */
  safeParse(value: unknown): SafeParseResult<T>;
  /** Accepts plain values the schema surely accepts unchanged; absent: every value goes to zod. */
  readonly plain?: (value: unknown) => boolean;
  /** The zod schema (built, and zod loaded, on first call). */
  schema(): Zod.ZodType;
}

let zod: ZodApi | undefined;

function zodApi(): ZodApi {
  zod ??= (createRequire(import.meta.url)('zod') as typeof Zod).z;
  return zod;
}

export function lazySchema<S extends Zod.ZodType>(
  build: (z: ZodApi) => S,
  plain?: (value: unknown) => boolean,
): LazySchema<Zod.output<S>> {
  let built: S | undefined;
  const schema = (): S => (built ??= build(zodApi()));
  return {
    ...(plain ? { plain } : {}),
    schema,
    safeParse(value) {
      if (plain?.(value)) return { success: true, data: value as Zod.output<S> };
      return schema().safeParse(value);
    },
  };
}

// Plain checks, for the commonest shapes.

export const isString = (value: unknown): boolean => typeof value === 'string';

export const isBoolean = (value: unknown): boolean => typeof value === 'boolean';

export const isStringArray = (value: unknown): boolean => Array.isArray(value) && value.every(isString);

/** `z.union([z.string(), z.array(z.string())])`. */
export const isStringOrStrings = (value: unknown): boolean => isString(value) || isStringArray(value);

/** An object literal (what YAML mappings become): `z.record(z.string(), z.unknown())`. */
export const isPlainRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

export const isStringRecord = (value: unknown): boolean =>
  isPlainRecord(value) && Object.values(value).every(isString);

/** `z.enum(values)` / `z.literal(value)`. */
export const oneOf =
  (values: readonly unknown[]) =>
  (value: unknown): boolean =>
    values.includes(value);

/** `.optional()`: absent, or accepted by `check`. */
export const optional =
  (check: (value: unknown) => boolean) =>
  (value: unknown): boolean =>
    value === undefined || check(value);
