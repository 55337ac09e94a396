/**
 * The TypeScript twin of `sources/*.yml`: `defineSource({...})` in a `sources/*.ts` file. It takes
 * the same keys as the YAML (snake_case, so one page of docs serves both) and yields the same
 * source entry; the project loader recognises it by a registry symbol, so this module stays pure.
 */
import type { ArrayMode, ContractMode, SourceType, WriteDisposition } from './types.js';

/** The mark the project loader looks for (a registry symbol: no import of the ingest layer needed). */
export const SOURCE_MARK: unique symbol = Symbol.for('weir.source') as never;

/** `{{ env_var('NAME') }}`: rendered only when connecting, so the value never sits in manifests. */
export function envVar(name: string, fallback?: string): string {
  return fallback === undefined ? `{{ env_var('${name}') }}` : `{{ env_var('${name}', '${fallback}') }}`;
}

export interface IncrementalInput {
  readonly cursor_field: string;
  readonly initial_value?: string | number;
  readonly lookback?: string | number;
  readonly end_value?: string | number;
}

export interface NestedInput {
  readonly max_depth?: number;
  readonly arrays?: ArrayMode;
}

type PaginatorInput =
  | { readonly type: 'single_page' }
  | {
      readonly type: 'offset';
      readonly limit: number;
      readonly offset_param?: string;
      readonly limit_param?: string;
      readonly total_path?: string;
      readonly initial_offset?: number;
    }
  | {
      readonly type: 'page_number';
      readonly page_param?: string;
      readonly base_page?: number;
      readonly total_path?: string;
    }
  | { readonly type: 'cursor'; readonly cursor_path: string; readonly cursor_param: string }
  | { readonly type: 'json_link'; readonly next_url_path: string }
  | { readonly type: 'header_link'; readonly rel?: string };

export interface EndpointInput {
  readonly path: string;
  readonly method?: 'GET' | 'POST';
  /** Values may hold `{incremental.start_value}`, `{incremental.end_value}`, `{parent.<field>}`. */
  readonly params?: Readonly<Record<string, string | number | boolean>>;
  readonly json?: unknown;
  readonly data_selector?: string;
  readonly paginator?: PaginatorInput;
  readonly parent?: EndpointInput;
}

/** One stream (a `tables:` entry). Connector keys: postgres `table`; rest `endpoint`; files `path`, `format`, `csv`, `json`. */
export interface StreamInput {
  readonly name: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly primary_key?: string | readonly string[];
  readonly write_disposition?: WriteDisposition;
  readonly schema_contract?: ContractMode;
  readonly nested?: NestedInput;
  readonly incremental?: IncrementalInput;
  readonly hard_delete?: string;
  readonly table?: string;
  readonly endpoint?: string | EndpointInput;
  readonly path?: string;
  readonly format?: 'csv' | 'json' | 'ndjson' | 'parquet';
  readonly csv?: {
    readonly delimiter?: string;
    readonly quote?: string;
    readonly header?: boolean | 'auto';
    readonly encoding?: string;
  };
  readonly json?: { readonly data_selector?: string };
}

export interface SourceInput {
  readonly name: string;
  readonly type: SourceType;
  readonly description?: string;
  readonly tags?: readonly string[];
  /** Postgres: url or host/port/user/password/database. REST: base_url, auth, headers, rate_limit, timeout, retries. */
  readonly connection?: Readonly<Record<string, unknown>>;
  readonly primary_key?: string | readonly string[];
  readonly write_disposition?: WriteDisposition;
  readonly schema_contract?: ContractMode;
  readonly nested?: NestedInput;
  readonly tables: readonly StreamInput[];
}

export interface SourceDefinition {
  readonly [SOURCE_MARK]: true;
  /** The equivalent `sources:` entry of a YAML file. */
  readonly source: Readonly<Record<string, unknown>>;
}

/** Declares an ingested source in `sources/*.ts` (export it, default or named). */
export function defineSource(input: SourceInput): SourceDefinition {
  return { [SOURCE_MARK]: true, source: JSON.parse(JSON.stringify(input)) as Record<string, unknown> };
}

export function isSourceDefinition(value: unknown): value is SourceDefinition {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SOURCE_MARK] === true
  );
}
