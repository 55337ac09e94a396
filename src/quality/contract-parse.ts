import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { z } from 'zod';
import { Diagnostics } from '../core/diagnostics.js';
import type { SourceLocation } from '../core/errors.js';
import { QUALITY_CODES } from './codes.js';
import type { CheckSeverity } from './types.js';
import {
  ODCS_LOGICAL_TYPES,
  ODCS_METRICS,
  ODCS_OPERATORS,
  WEIR_SERVER_TYPES,
  type ContractFile,
  type ContractObject,
  type ContractRule,
  type OdcsMetric,
  type OdcsOperator,
  type ParseContractOptions,
  type ParseContractResult,
  type ParsedContract,
} from './contracts.js';

/*
 * Parsing ODCS contract files: YAML with lines, Weir's zod schema of the parts it executes, and
 * the official JSON schema (ajv) when given. A module of its own so projects without contracts
 * never load YAML, zod or ajv.
 */

const OPERATOR_ALIASES: Readonly<Record<string, OdcsOperator>> = {
  mustBeGreaterThanOrEqualTo: 'mustBeGreaterOrEqualTo',
  mustBeLessThanOrEqualTo: 'mustBeLessOrEqualTo',
};

const looseRecord = z.record(z.string(), z.unknown());

const qualitySchema = z
  .object({
    type: z.enum(['text', 'library', 'sql', 'custom']).optional(),
    metric: z.string().optional(),
    rule: z.string().optional(),
    query: z.string().optional(),
    unit: z.string().optional(),
    severity: z.string().optional(),
    name: z.string().optional(),
    engine: z.string().optional(),
    implementation: z.unknown().optional(),
    arguments: looseRecord.optional(),
  })
  .passthrough();

const propertySchema = z
  .object({
    name: z.string().min(1),
    physicalName: z.string().optional(),
    logicalType: z.enum(ODCS_LOGICAL_TYPES).optional(),
    physicalType: z.string().optional(),
    required: z.boolean().optional(),
    unique: z.boolean().optional(),
    primaryKey: z.boolean().optional(),
    primaryKeyPosition: z.number().int().optional(),
    logicalTypeOptions: looseRecord.optional(),
    classification: z.string().optional(),
    tags: z.array(z.string()).optional(),
    quality: z.array(qualitySchema).optional(),
  })
  .passthrough();

const objectSchema = z
  .object({
    name: z.string().min(1),
    physicalName: z.string().optional(),
    properties: z.array(propertySchema).optional(),
    quality: z.array(qualitySchema).optional(),
    tags: z.array(z.string()).optional(),
  })
  .passthrough();

/** The parts of an ODCS document that Weir executes or records. */
export const odcsWeirSchema = z
  .object({
    apiVersion: z.string().regex(/^v[23]\./, 'must be an ODCS version such as v3.1.0'),
    kind: z.literal('DataContract'),
    id: z.string().min(1),
    version: z.string().min(1),
    status: z.string().min(1),
    schema: z.array(objectSchema).optional(),
    servers: z.array(z.object({ server: z.string().optional(), type: z.string() }).passthrough()).optional(),
    slaProperties: z
      .array(
        z
          .object({
            property: z.string(),
            value: z.unknown(),
            unit: z.string().optional(),
            element: z.string().optional(),
          })
          .passthrough(),
      )
      .optional(),
    tags: z.array(z.string()).optional(),
    team: z.union([looseRecord, z.array(z.unknown())]).optional(),
  })
  .passthrough();
export type OdcsWeirDocument = z.infer<typeof odcsWeirSchema>;

const validators = new WeakMap<object, ValidateFunction>();

function officialValidator(schema: object): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    // ajv-formats is CommonJS: its default export arrives wrapped under ESM.
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
      addFormatsModule) as unknown as (a: Ajv2019) => void;
    addFormats(ajv);
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  return v;
}

/**
 * Parses one contract file. Never throws for the user's mistakes: YAML syntax (WEIR-Q020), Weir's
 * structural rules (WEIR-Q021), the official JSON schema (WEIR-Q022) and unsupported server types
 * (WEIR-Q023) are diagnostics at the file:line; `contract` is absent when any is an error.
 */
export function parseContract(file: ContractFile, options: ParseContractOptions = {}): ParseContractResult {
  const diags = new Diagnostics();
  const lines = new LineCounter();
  const doc = parseDocument(file.content, { lineCounter: lines, prettyErrors: false });
  for (const e of doc.errors.slice(0, 5)) {
    const pos = lines.linePos(e.pos[0]);
    diags.error(QUALITY_CODES.contractYaml, `contract YAML syntax error: ${e.message.split('\n')[0]}`, {
      at: { file: file.path, ...(pos ? { line: pos.line, column: pos.col } : {}) },
      hint: 'fix the YAML syntax (indentation, colons, quotes, dashes of list items)',
    });
  }
  if (doc.errors.length) return { diagnostics: diags.items };
  const at = (path: readonly (string | number)[]): SourceLocation => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) {
        const pos = lines.linePos(node.range[0]);
        return { file: file.path, line: pos.line };
      }
    }
    return { file: file.path };
  };
  const data: unknown = doc.toJS();

  if (options.officialSchema) {
    const validate = officialValidator(options.officialSchema);
    if (!validate(data)) {
      for (const e of (validate.errors ?? []).slice(0, 10)) {
        const path = e.instancePath
          .split('/')
          .slice(1)
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replaceAll('~1', '/').replaceAll('~0', '~')));
        diags.error(
          QUALITY_CODES.contractOfficialSchema,
          `contract does not follow the ODCS JSON schema at ${e.instancePath || '/'}: ${e.message ?? 'invalid'}${e.params && 'additionalProperty' in e.params ? ` ('${String(e.params.additionalProperty)}')` : ''}${e.params && 'unevaluatedProperty' in e.params ? ` ('${String(e.params.unevaluatedProperty)}')` : ''}`,
          { at: at(path), hint: 'see https://bitol-io.github.io/open-data-contract-standard/ for the field' },
        );
      }
    }
  }

  const parsed = odcsWeirSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, 10)) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      diags.error(
        QUALITY_CODES.contractInvalid,
        `contract field ${path.length ? path.join('.') : '(root)'}: ${issue.message}`,
        { at: at(path), hint: 'ODCS v3 requires apiVersion, kind: DataContract, id, version and status' },
      );
    }
    return { diagnostics: diags.items };
  }
  const d = parsed.data;

  (d.servers ?? []).forEach((s, i) => {
    if (!(WEIR_SERVER_TYPES as readonly string[]).includes(s.type)) {
      diags.error(
        QUALITY_CODES.contractServerType,
        `contract refused: server '${s.server ?? i}' has type '${s.type}', which Weir cannot read (Weir reads ${WEIR_SERVER_TYPES.join(', ')})`,
        {
          at: at(['servers', i, 'type']),
          hint: 'Weir checks the contract against its own lake: remove this server entry, or keep the contract out of contracts/',
        },
      );
    }
  });

  const rules = (
    list: readonly z.infer<typeof qualitySchema>[] | undefined,
    base: (string | number)[],
  ): ContractRule[] => {
    const out: ContractRule[] = [];
    (list ?? []).forEach((q, i) => {
      const rule = parseRule(q, at([...base, i]), diags);
      if (rule) out.push(rule);
    });
    return out;
  };

  const objects: ContractObject[] = (d.schema ?? []).map((o, oi) => ({
    name: o.name,
    ...(o.physicalName ? { physicalName: o.physicalName } : {}),
    tags: o.tags ?? [],
    at: at(['schema', oi]),
    quality: rules(o.quality, ['schema', oi, 'quality']),
    properties: (o.properties ?? []).map((p, pi) => ({
      name: p.name,
      column: p.physicalName ?? p.name,
      ...(p.logicalType ? { logicalType: p.logicalType } : {}),
      ...(p.physicalType ? { physicalType: p.physicalType } : {}),
      required: p.required ?? false,
      unique: p.unique ?? false,
      primaryKey: p.primaryKey ?? false,
      primaryKeyPosition: p.primaryKeyPosition ?? -1,
      options: p.logicalTypeOptions ?? {},
      ...(p.classification ? { classification: p.classification } : {}),
      tags: p.tags ?? [],
      quality: rules(p.quality, ['schema', oi, 'properties', pi, 'quality']),
      at: at(['schema', oi, 'properties', pi]),
    })),
  }));
  const team = d.team;
  const owner = team && !Array.isArray(team) && typeof team['name'] === 'string' ? team['name'] : undefined;
  const contract: ParsedContract = {
    path: file.path,
    id: d.id,
    version: d.version,
    apiVersion: d.apiVersion,
    status: d.status,
    objects,
    sla: (d.slaProperties ?? []).map((s, i) => ({
      property: s.property,
      value: s.value,
      ...(s.unit ? { unit: s.unit } : {}),
      ...(s.element ? { element: s.element } : {}),
      at: at(['slaProperties', i]),
    })),
    tags: d.tags ?? [],
    ...(owner ? { owner } : {}),
  };
  return diags.hasErrors ? { diagnostics: diags.items } : { contract, diagnostics: diags.items };
}

function parseRule(
  q: z.infer<typeof qualitySchema>,
  at: SourceLocation,
  diags: Diagnostics,
): ContractRule | undefined {
  const kind = q.type ?? (q.query !== undefined ? 'sql' : 'library');
  const severity: CheckSeverity = /^(warn|warning|info)$/i.test(q.severity ?? '') ? 'warn' : 'error';
  const unitText = (q.unit ?? 'rows').toLowerCase();
  const unit = unitText === 'percent' || unitText === '%' ? 'percent' : 'rows';
  if (unitText !== 'rows' && unit !== 'percent') {
    diags.error(QUALITY_CODES.contractInvalid, `quality rule unit '${q.unit}' is not rows or percent`, {
      at,
      hint: 'write unit: rows (the default) or unit: percent',
    });
  }
  const base = {
    kind,
    unit,
    severity,
    arguments: q.arguments ?? {},
    ...(q.name ? { name: q.name } : {}),
    at,
  } as const;
  if (kind === 'text') return { ...base };
  if (kind === 'custom') {
    return {
      ...base,
      ...(q.engine ? { engine: q.engine } : {}),
      ...(q.implementation !== undefined ? { implementation: q.implementation } : {}),
    };
  }
  const raw = q as Record<string, unknown>;
  const ops = Object.keys(raw)
    .map((k) => OPERATOR_ALIASES[k] ?? k)
    .filter((k): k is OdcsOperator => (ODCS_OPERATORS as readonly string[]).includes(k));
  const key = Object.keys(raw).find((k) => (OPERATOR_ALIASES[k] ?? k) === ops[0]);
  if (ops.length !== 1 || key === undefined) {
    diags.error(
      QUALITY_CODES.contractInvalid,
      ops.length === 0
        ? `quality rule has no operator`
        : `quality rule has ${ops.length} operators (${ops.join(', ')}); ODCS allows one`,
      { at, hint: `use one of ${ODCS_OPERATORS.join(', ')}` },
    );
    return undefined;
  }
  const operator = ops[0] as OdcsOperator;
  const threshold = raw[key];
  if (operator.endsWith('Between')) {
    if (
      !Array.isArray(threshold) ||
      threshold.length !== 2 ||
      !threshold.every((x) => typeof x === 'number')
    ) {
      diags.error(QUALITY_CODES.contractInvalid, `${key} needs two numbers, smallest first`, {
        at,
        hint: `e.g. ${key}: [10, 20]`,
      });
      return undefined;
    }
  } else if (operator !== 'mustBe' && operator !== 'mustNotBe' && typeof threshold !== 'number') {
    diags.error(QUALITY_CODES.contractInvalid, `${key} needs a number`, { at, hint: `e.g. ${key}: 0` });
    return undefined;
  }
  if (kind === 'sql') {
    if (!q.query) {
      diags.error(QUALITY_CODES.contractInvalid, 'a quality rule of type sql needs a query', {
        at,
        hint: 'e.g. query: SELECT count(*) FROM ${object} WHERE amount < 0',
      });
      return undefined;
    }
    return { ...base, query: q.query, operator, threshold };
  }
  const metric = q.metric ?? q.rule;
  if (!metric || !(ODCS_METRICS as readonly string[]).includes(metric)) {
    diags.error(
      QUALITY_CODES.contractInvalid,
      `quality rule metric '${metric ?? ''}' is not an ODCS library metric`,
      { at, hint: `use one of ${ODCS_METRICS.join(', ')}, or type: sql with a query` },
    );
    return undefined;
  }
  return { ...base, metric: metric as OdcsMetric, operator, threshold };
}
