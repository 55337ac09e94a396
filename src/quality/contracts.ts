import { Diagnostics, type Diagnostic } from '../core/diagnostics.js';
import type { ColumnSchema } from '../core/engine.js';
import type { SourceLocation } from '../core/errors.js';
import { QUALITY_CODES } from './codes.js';
import type { CheckSeverity, CheckSpec } from './types.js';

/*
 * ODCS v3 data contracts (https://bitol-io.github.io/open-data-contract-standard/). Weir validates
 * the parts it executes with its own zod schema (always), and the whole document against the
 * official JSON schema when the caller supplies it (the CLI does when the project or
 * WEIR_ODCS_SCHEMA provides a copy): the official schema is Apache-2.0 but not shipped in the
 * package, so a contract is never refused for lack of it.
 *
 * Parsing (YAML, zod, ajv) lives in `contract-parse.ts`, loaded only when a project has contracts;
 * binding and the checks contracts become are here.
 */

/** Server types Weir can read; a contract naming any other server is refused (WEIR-Q023). */
export const WEIR_SERVER_TYPES = ['duckdb', 'local', 'postgres', 'postgresql', 's3'] as const;
export type WeirServerType = (typeof WEIR_SERVER_TYPES)[number];

export const ODCS_LOGICAL_TYPES = [
  'string',
  'date',
  'timestamp',
  'time',
  'number',
  'integer',
  'object',
  'array',
  'boolean',
] as const;
export type OdcsLogicalType = (typeof ODCS_LOGICAL_TYPES)[number];

export const ODCS_METRICS = [
  'nullValues',
  'missingValues',
  'invalidValues',
  'duplicateValues',
  'rowCount',
] as const;
export type OdcsMetric = (typeof ODCS_METRICS)[number];

export const ODCS_OPERATORS = [
  'mustBe',
  'mustNotBe',
  'mustBeGreaterThan',
  'mustBeGreaterOrEqualTo',
  'mustBeLessThan',
  'mustBeLessOrEqualTo',
  'mustBeBetween',
  'mustNotBeBetween',
] as const;
export type OdcsOperator = (typeof ODCS_OPERATORS)[number];

/** ODCS v3.0 spellings, still common in the wild. */

export interface ContractFile {
  /** Project-relative path. */
  readonly path: string;
  readonly content: string;
}

export interface ContractRule {
  readonly kind: 'library' | 'sql' | 'text' | 'custom';
  readonly metric?: OdcsMetric;
  readonly query?: string;
  readonly operator?: OdcsOperator;
  readonly threshold?: unknown;
  readonly unit: 'rows' | 'percent';
  readonly severity: CheckSeverity;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly name?: string;
  readonly engine?: string;
  readonly implementation?: unknown;
  readonly at: SourceLocation;
}

export interface ContractProperty {
  readonly name: string;
  /** The table column: `physicalName`, else `name`. */
  readonly column: string;
  readonly logicalType?: OdcsLogicalType;
  readonly physicalType?: string;
  readonly required: boolean;
  readonly unique: boolean;
  readonly primaryKey: boolean;
  readonly primaryKeyPosition: number;
  readonly options: Readonly<Record<string, unknown>>;
  readonly classification?: string;
  readonly tags: readonly string[];
  readonly quality: readonly ContractRule[];
  readonly at: SourceLocation;
}

export interface ContractObject {
  readonly name: string;
  readonly physicalName?: string;
  readonly properties: readonly ContractProperty[];
  readonly quality: readonly ContractRule[];
  readonly tags: readonly string[];
  readonly at: SourceLocation;
}

export interface ContractSla {
  readonly property: string;
  readonly value: unknown;
  readonly unit?: string;
  readonly element?: string;
  readonly at: SourceLocation;
}

export interface ParsedContract {
  readonly path: string;
  readonly id: string;
  readonly version: string;
  readonly apiVersion: string;
  readonly status: string;
  readonly objects: readonly ContractObject[];
  readonly sla: readonly ContractSla[];
  readonly tags: readonly string[];
  /** The owning team's name, when given. */
  readonly owner?: string;
}

export interface ParseContractOptions {
  /** The official ODCS JSON schema (draft 2019-09); when given, the whole document is validated. */
  readonly officialSchema?: object;
}

export interface ParseContractResult {
  readonly contract?: ParsedContract;
  readonly diagnostics: readonly Diagnostic[];
}

// ---- matching contracts to assets ----

export interface ContractAsset {
  /** `schema.identifier` */
  readonly asset: string;
  /** Model, seed, snapshot or source table name. */
  readonly name: string;
  readonly identifier: string;
}

export interface ContractBinding {
  readonly contract: ParsedContract;
  readonly object: ContractObject;
  readonly asset: string;
}

/**
 * Which asset each schema object describes. `physicalName` wins when present: it must equal the
 * asset (`schema.identifier`) or its identifier; otherwise `name` must equal the model/source name
 * or the identifier. Comparison ignores case. An object matching no asset is a warning
 * (WEIR-Q024); one matching several is an error (WEIR-Q025), fixed by a qualified physicalName.
 */
export function bindContracts(
  contracts: readonly ParsedContract[],
  assets: readonly ContractAsset[],
): { bindings: ContractBinding[]; diagnostics: Diagnostic[] } {
  const diags = new Diagnostics();
  const bindings: ContractBinding[] = [];
  const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  for (const contract of contracts) {
    for (const object of contract.objects) {
      const by = object.physicalName ?? object.name;
      const hits = object.physicalName
        ? assets.filter((a) => eq(a.asset, by) || eq(a.identifier, by))
        : assets.filter((a) => eq(a.name, by) || eq(a.identifier, by));
      const unique = [...new Map(hits.map((h) => [h.asset, h])).values()];
      if (unique.length === 0) {
        diags.warning(
          QUALITY_CODES.contractNoAsset,
          `contract object '${object.name}'${object.physicalName ? ` (physicalName ${object.physicalName})` : ''} matches no model, seed, snapshot or source; its rules are not checked`,
          { at: object.at, hint: 'set physicalName to the asset (schema.name) or the model name' },
        );
      } else if (unique.length > 1) {
        diags.error(
          QUALITY_CODES.contractAmbiguous,
          `contract object '${object.name}' matches ${unique.map((u) => u.asset).join(', ')}`,
          { at: object.at, hint: `set physicalName to one of them, e.g. physicalName: ${unique[0]?.asset}` },
        );
      } else {
        bindings.push({ contract, object, asset: (unique[0] as ContractAsset).asset });
      }
    }
  }
  return { bindings, diagnostics: diags.items };
}

// ---- contract -> checks ----

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
}

/** Catalog metadata of a bound contract: carried into the manifest node's `meta.contract`. */
export function contractMeta(b: ContractBinding): Record<string, unknown> {
  const classification: Record<string, string> = {};
  for (const p of b.object.properties) if (p.classification) classification[p.column] = p.classification;
  const sla: Record<string, unknown> = {};
  for (const s of b.contract.sla)
    sla[s.property] = {
      value: s.value,
      ...(s.unit ? { unit: s.unit } : {}),
      ...(s.element ? { element: s.element } : {}),
    };
  return {
    path: b.contract.path,
    id: b.contract.id,
    version: b.contract.version,
    status: b.contract.status,
    object: b.object.name,
    ...(b.contract.owner ? { owner: b.contract.owner } : {}),
    tags: [...b.contract.tags, ...b.object.tags],
    classification,
    sla,
  };
}

/** ODCS duration units (`d`, `day`, `days`, `h`, `y`, ...) as milliseconds. */
export function slaDurationMs(value: unknown, unit: string | undefined): number | undefined {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return undefined;
  const u = (unit ?? 'd').toLowerCase();
  const ms: Record<string, number> = {
    s: 1000,
    sec: 1000,
    second: 1000,
    seconds: 1000,
    m: 60_000,
    min: 60_000,
    minute: 60_000,
    minutes: 60_000,
    h: 3_600_000,
    hr: 3_600_000,
    hour: 3_600_000,
    hours: 3_600_000,
    d: 86_400_000,
    day: 86_400_000,
    days: 86_400_000,
    w: 604_800_000,
    week: 604_800_000,
    weeks: 604_800_000,
    y: 31_536_000_000,
    yr: 31_536_000_000,
    year: 31_536_000_000,
    years: 31_536_000_000,
  };
  const f = ms[u];
  return f === undefined ? undefined : n * f;
}

/**
 * The checks a bound contract puts on its table. With `columns` known, row rules on a column the
 * table lacks are left out: the property's type check already reports the missing column.
 */
export function contractChecks(b: ContractBinding, columns?: readonly ColumnSchema[]): CheckSpec[] {
  const { contract, object } = b;
  const specs: CheckSpec[] = [];
  const has = (c: string): boolean =>
    !columns || columns.some((x) => x.name === c || x.name.toLowerCase() === c.toLowerCase());
  const prefix = `contract:${contract.path}:${object.name}`;
  const add = (
    suffix: string,
    type: string,
    kwargs: Record<string, unknown>,
    at: SourceLocation,
    column?: string,
    severity: CheckSeverity = 'error',
  ): void => {
    specs.push({
      id: `${prefix}:${suffix}`,
      name: `contract_${slug(object.name)}_${slug(suffix)}`,
      type,
      ...(column !== undefined ? { column } : {}),
      kwargs,
      severity,
      origin: 'contract',
      at,
    });
  };

  const pk = object.properties.filter((p) => p.primaryKey);
  for (const p of object.properties) {
    const col = p.column;
    add(
      `${p.name}:schema`,
      'contract_column_type',
      {
        property: p.name,
        contract: contract.path,
        ...(p.logicalType ? { logical_type: p.logicalType } : {}),
        ...(p.physicalType ? { physical_type: p.physicalType } : {}),
      },
      p.at,
      col,
    );
    if (!has(col)) continue;
    if (p.required || p.primaryKey)
      add(`${p.name}:required`, 'expect_column_values_to_not_be_null', {}, p.at, col);
    if (p.unique || (p.primaryKey && pk.length === 1))
      add(`${p.name}:unique`, 'expect_column_values_to_be_unique', {}, p.at, col);
    const o = p.options;
    if (typeof o['pattern'] === 'string')
      add(`${p.name}:pattern`, 'expect_column_values_to_match_regex', { regex: o['pattern'] }, p.at, col);
    const min = numberOpt(o['minimum']) ?? numberOpt(o['exclusiveMinimum']);
    const max = numberOpt(o['maximum']) ?? numberOpt(o['exclusiveMaximum']);
    if (min !== undefined || max !== undefined) {
      add(
        `${p.name}:range`,
        'expect_column_values_to_be_between',
        {
          ...(min !== undefined ? { min_value: min } : {}),
          ...(max !== undefined ? { max_value: max } : {}),
          strict_min: typeof o['exclusiveMinimum'] === 'number' || o['exclusiveMinimum'] === true,
          strict_max: typeof o['exclusiveMaximum'] === 'number' || o['exclusiveMaximum'] === true,
        },
        p.at,
        col,
      );
    }
    const minLen = numberOpt(o['minLength']);
    const maxLen = numberOpt(o['maxLength']);
    if (minLen !== undefined || maxLen !== undefined) {
      add(
        `${p.name}:length`,
        'expect_column_value_lengths_to_be_between',
        {
          ...(minLen !== undefined ? { min_value: minLen } : {}),
          ...(maxLen !== undefined ? { max_value: maxLen } : {}),
        },
        p.at,
        col,
      );
    }
    const allowed = o['enum'] ?? o['validValues'];
    if (Array.isArray(allowed))
      add(`${p.name}:values`, 'expect_column_values_to_be_in_set', { value_set: allowed }, p.at, col);
    p.quality.forEach((r, i) => {
      const spec = ruleSpec(r, `${p.name}:quality${i}`, col);
      if (spec) add(spec.suffix, spec.type, spec.kwargs, r.at, col, r.severity);
    });
  }
  if (pk.length > 1) {
    const cols = [...pk].sort((a, b) => a.primaryKeyPosition - b.primaryKeyPosition).map((p) => p.column);
    if (cols.every(has))
      add(
        'primaryKey',
        'expect_compound_columns_to_be_unique',
        { column_list: cols },
        pk[0]?.at ?? object.at,
      );
  }
  object.quality.forEach((r, i) => {
    const spec = ruleSpec(r, `quality${i}`);
    if (spec) add(spec.suffix, spec.type, spec.kwargs, r.at, undefined, r.severity);
  });
  // SLA freshness/latency on a named timestamp column becomes a freshness check.
  for (const s of contract.sla) {
    if (s.property !== 'latency' && s.property !== 'freshness') continue;
    const element = s.element?.split(',')[0]?.trim();
    const column = element?.includes('.') ? element.slice(element.lastIndexOf('.') + 1) : element;
    const table = element?.includes('.') ? element.slice(0, element.lastIndexOf('.')) : undefined;
    if (!column || (table && table !== object.name && table !== object.physicalName) || !has(column))
      continue;
    const ms = slaDurationMs(s.value, s.unit);
    if (ms === undefined) continue;
    add(`sla:${s.property}`, 'weir_freshness', { column, error_after: `${ms}ms` }, s.at, column);
  }
  return specs;
}

function numberOpt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function ruleSpec(
  r: ContractRule,
  suffix: string,
  column?: string,
): { suffix: string; type: string; kwargs: Record<string, unknown> } | undefined {
  const op = { operator: r.operator, threshold: r.threshold, unit: r.unit };
  if (r.kind === 'library' && r.metric)
    return {
      suffix: `${suffix}:${r.metric}`,
      type: 'contract_metric',
      kwargs: { metric: r.metric, ...op, arguments: r.arguments, ...(column ? { column } : {}) },
    };
  if (r.kind === 'sql' && r.query)
    return {
      suffix: `${suffix}:sql`,
      type: 'contract_sql',
      kwargs: { query: r.query, ...op, ...(column ? { column } : {}) },
    };
  // Great Expectations custom rules are Weir's own expectations; other engines are recorded only.
  if (r.kind === 'custom' && /^(great[_-]?expectations|gx)$/i.test(r.engine ?? '')) {
    const impl = r.implementation as Record<string, unknown> | undefined;
    const type = impl?.['expectation_type'] ?? impl?.['type'];
    if (typeof type === 'string') {
      const kwargs = (impl?.['kwargs'] as Record<string, unknown> | undefined) ?? {};
      return { suffix: `${suffix}:${type}`, type, kwargs };
    }
  }
  return undefined;
}
