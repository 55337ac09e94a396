import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession } from '../src/core/engine.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { compileCheck } from '../src/quality/compile-checks.js';
import { parseContract } from '../src/quality/contract-parse.js';
import {
  bindContracts,
  contractChecks,
  contractMeta,
  type ParsedContract,
} from '../src/quality/contracts.js';
import { runChecks } from '../src/quality/run-checks.js';
import { REPO_ROOT } from './helpers/cli.js';

const FIXTURES = join(REPO_ROOT, '../shared/fixtures/odcs');
const officialSchema = JSON.parse(
  readFileSync(join(FIXTURES, 'odcs-json-schema-v3.1.0.json'), 'utf8'),
) as object;

/** Fixtures naming a server Weir cannot read: refused with WEIR-Q023 and nothing else. */
const REFUSED = new Set([
  'schema--kafka-schema.odcs.yaml',
  'schema--kafka-schemaregistry.odcs.yaml',
  'server--azure-server.odcs.yaml',
  'server--kafka-server.odcs.yaml',
]);

function parse(content: string, path = 'contracts/orders.odcs.yaml'): ReturnType<typeof parseContract> {
  return parseContract({ path, content }, { officialSchema });
}

describe('ODCS fixtures', () => {
  const files = readdirSync(join(FIXTURES, 'examples')).filter((f) => f.endsWith('.odcs.yaml'));

  it('has the upstream examples', () => {
    expect(files.length).toBeGreaterThanOrEqual(18);
  });

  for (const f of files) {
    it(`${f} ${REFUSED.has(f) ? 'is refused for its server type' : 'loads'}`, () => {
      const content = readFileSync(join(FIXTURES, 'examples', f), 'utf8');
      const r = parseContract({ path: `contracts/${f}`, content }, { officialSchema });
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      if (REFUSED.has(f)) {
        expect(r.contract).toBeUndefined();
        expect(errors.length).toBeGreaterThan(0);
        for (const e of errors) {
          expect(e.code).toBe('WEIR-Q023');
          expect(e.message).toMatch(/server '.+' has type '(kafka|azure)', which Weir cannot read/);
          expect(e.at?.file).toBe(`contracts/${f}`);
          expect(e.at?.line).toBeGreaterThan(1);
        }
        return;
      }
      expect(errors).toEqual([]);
      const c = r.contract as ParsedContract;
      expect(c.path).toBe(`contracts/${f}`);
      // Every rule the contract implies compiles into a check.
      for (const object of c.objects) {
        const specs = contractChecks({ contract: c, object, asset: 'main.t' });
        for (const spec of specs) expect(() => compileCheck(spec, { relation: 't' })).not.toThrow();
      }
    });
  }

  it('turns the full example into the checks ODCS describes', () => {
    const c = parse(readFileSync(join(FIXTURES, 'examples/all--full-example.odcs.yaml'), 'utf8'))
      .contract as ParsedContract;
    const tbl = c.objects.find((o) => o.name === 'tbl');
    expect(tbl?.physicalName).toBe('tbl_1');
    const specs = contractChecks({ contract: c, object: tbl as never, asset: 'main.tbl_1' });
    const types = specs.map((s) => `${s.type}:${s.column ?? ''}`);
    expect(types).toContain('contract_column_type:txn_ref_dt');
    expect(types).toContain('expect_column_values_to_not_be_null:rcvr_id');
    expect(types).toContain('expect_column_values_to_be_unique:rcvr_id');
    expect(types).toContain('contract_metric:rcvr_cntry_code');
    const rowCount = specs.find((s) => s.type === 'contract_metric' && s.kwargs['metric'] === 'rowCount');
    expect(rowCount?.kwargs).toMatchObject({
      operator: 'mustBeGreaterThan',
      threshold: 1000000,
      unit: 'rows',
    });
    expect(specs.every((s) => s.origin === 'contract' && s.at?.file === 'contracts/orders.odcs.yaml')).toBe(
      true,
    );
    const meta = contractMeta({ contract: c, object: tbl as never, asset: 'main.tbl_1' });
    expect(meta['classification']).toEqual({
      txn_ref_dt: 'public',
      rcvr_id: 'restricted',
      rcvr_cntry_code: 'public',
    });
    expect(meta['sla']).toMatchObject({
      retention: { value: 3, unit: 'y' },
      latency: { value: 4, unit: 'd' },
    });
    expect(meta['owner']).toBe('my-team');
  });
});

describe('contract validation errors', () => {
  it('reports malformed YAML at file:line', () => {
    const r = parse('apiVersion: v3.1.0\nkind: DataContract\nschema:\n  - name: [oops\n');
    expect(r.contract).toBeUndefined();
    expect(r.diagnostics[0]?.code).toBe('WEIR-Q020');
    expect(r.diagnostics[0]?.at?.file).toBe('contracts/orders.odcs.yaml');
    expect(r.diagnostics[0]?.at?.line).toBeGreaterThanOrEqual(4);
  });

  it('reports official-schema violations with the field and its line', () => {
    const r = parse(`apiVersion: v3.1.0
kind: DataContract
id: x
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - name: amount
        logicalType: money
`);
    const codes = r.diagnostics.map((d) => d.code);
    expect(codes).toContain('WEIR-Q022');
    expect(codes).toContain('WEIR-Q021');
    const weir = r.diagnostics.find((d) => d.code === 'WEIR-Q021');
    expect(weir?.message).toContain('schema.0.properties.0.logicalType');
    expect(weir?.at?.line).toBe(10);
  });

  it('refuses a quality rule without an operator or with an unknown metric, at its line', () => {
    const r = parseContract({
      path: 'contracts/o.odcs.yaml',
      content: `apiVersion: v3.1.0
kind: DataContract
id: x
version: 1.0.0
status: active
schema:
  - name: orders
    quality:
      - metric: rowCount
      - metric: rowCont
        mustBe: 3
`,
    });
    expect(r.diagnostics.map((d) => [d.code, d.at?.line, d.message])).toEqual([
      ['WEIR-Q021', 9, 'quality rule has no operator'],
      ['WEIR-Q021', 10, "quality rule metric 'rowCont' is not an ODCS library metric"],
    ]);
  });
});

describe('binding contracts to assets', () => {
  const contract = (objects: string): ParsedContract =>
    parse(
      `apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1.0.0\nstatus: active\nschema:\n${objects}`,
    ).contract as ParsedContract;
  const assets = [
    { asset: 'main.orders', name: 'orders', identifier: 'orders' },
    { asset: 'staging.orders', name: 'stg_orders', identifier: 'orders' },
    { asset: 'main.customers', name: 'customers', identifier: 'customers' },
  ];

  it('matches physicalName to the asset, else name to the model name', () => {
    const r = bindContracts(
      [contract('  - name: anything\n    physicalName: staging.orders\n  - name: customers\n')],
      assets,
    );
    expect(r.bindings.map((b) => [b.object.name, b.asset])).toEqual([
      ['anything', 'staging.orders'],
      ['customers', 'main.customers'],
    ]);
    expect(r.diagnostics).toEqual([]);
  });

  it('warns for an object that matches nothing and refuses an ambiguous one', () => {
    const r = bindContracts([contract('  - name: nope\n  - name: x\n    physicalName: orders\n')], assets);
    expect(r.bindings).toEqual([]);
    expect(r.diagnostics.map((d) => [d.severity, d.code])).toEqual([
      ['warning', 'WEIR-Q024'],
      ['error', 'WEIR-Q025'],
    ]);
    expect(r.diagnostics[1]?.message).toContain('main.orders, staging.orders');
  });
});

describe('contract checks on DuckDB', () => {
  let engine: Engine;
  let s: EngineSession;
  beforeAll(async () => {
    engine = await createDuckDbEngine({ threads: 1 });
    s = await engine.session();
    await s.exec(`CREATE TABLE orders AS SELECT * FROM (VALUES
      (1, 'paid', '10', 'a@x.io', TIMESTAMP '2024-03-01 05:00:00'),
      (2, 'paid', '20', 'b@x.io', TIMESTAMP '2024-03-01 04:00:00'),
      (2, 'lost', NULL, 'nope', TIMESTAMP '2024-02-28 00:00:00'),
      (4, 'n/a', '40', NULL, TIMESTAMP '2024-03-01 01:00:00')
    ) AS v(id, status, amount, email, updated_at)`);
  });
  afterAll(async () => {
    s.close();
    await engine.close();
  });

  const CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: orders-contract
version: 1.0.0
status: active
schema:
  - name: orders
    quality:
      - metric: rowCount
        mustBeBetween: [1, 10]
      - type: sql
        query: SELECT count(*) FROM \${object} WHERE status = 'lost'
        mustBeLessOrEqualTo: 0
    properties:
      - name: id
        logicalType: integer
        primaryKey: true
      - name: status
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: {validValues: [paid, open]}
            mustBeLessThan: 10
            unit: percent
          - metric: missingValues
            arguments: {missingValues: [null, '', n/a]}
            mustBe: 0
      - name: amount
        logicalType: number
        physicalType: DOUBLE
      - name: email
        logicalType: string
        logicalTypeOptions: {pattern: '^[^@]+@[^@]+$', maxLength: 20}
        quality:
          - metric: nullValues
            mustBeLessOrEqualTo: 25
            unit: percent
      - name: shipped_at
        logicalType: timestamp
slaProperties:
  - property: latency
    value: 12
    unit: h
    element: orders.updated_at
`;

  it('reports a wrong type and a missing column naming the contract path and property', async () => {
    const c = parse(CONTRACT).contract as ParsedContract;
    const binding = { contract: c, object: c.objects[0] as never, asset: 'main.orders' };
    const columns = await s.describe('SELECT * FROM orders');
    const specs = contractChecks(binding, columns);
    // Row rules on the missing column are left to its type check.
    expect(specs.filter((x) => x.column === 'shipped_at').map((x) => x.type)).toEqual([
      'contract_column_type',
    ]);
    const results = await runChecks(
      s,
      specs,
      {
        relation: 'orders',
        history: { now: new Date('2024-03-01T06:00:00Z'), rowCounts: [], observed: () => [] },
      },
      { columns },
    );
    const byName = new Map(results.map((r) => [r.name, r]));
    const amount = byName.get('contract_orders_amount_schema');
    expect(amount?.status).toBe('fail');
    expect(amount?.message).toBe(
      "fail: contract contracts/orders.odcs.yaml: property 'amount': expected logicalType number, physicalType DOUBLE, the column 'amount' is VARCHAR",
    );
    expect(amount?.at).toEqual({ file: 'contracts/orders.odcs.yaml', line: 28 });
    const shipped = byName.get('contract_orders_shipped_at_schema');
    expect(shipped?.message).toContain(
      "property 'shipped_at': column 'shipped_at' is missing from the table",
    );
    expect(byName.get('contract_orders_id_schema')?.status).toBe('pass');
    expect(byName.get('contract_orders_id_unique')?.status).toBe('fail');
    expect(byName.get('contract_orders_id_required')?.status).toBe('pass');
    expect(byName.get('contract_orders_quality0_rowCount')?.observedValue).toBe(4);
    expect(byName.get('contract_orders_quality0_rowCount')?.status).toBe('pass');
    expect(byName.get('contract_orders_quality1_sql')).toMatchObject({ status: 'fail', observedValue: 1 });
    // 'lost' and 'n/a' are invalid: 2 of 4 rows = 50% (>= 10%).
    const invalid = byName.get('contract_orders_status_quality0_invalidValues');
    expect(invalid).toMatchObject({ status: 'fail', observedValue: 50, unexpectedCount: 2 });
    expect([...(invalid?.partialUnexpectedList ?? [])].sort()).toEqual(['lost', 'n/a']);
    expect(byName.get('contract_orders_status_quality1_missingValues')).toMatchObject({
      status: 'fail',
      observedValue: 1,
    });
    expect(byName.get('contract_orders_email_pattern')).toMatchObject({ status: 'fail', unexpectedCount: 1 });
    expect(byName.get('contract_orders_email_length')?.status).toBe('pass');
    expect(byName.get('contract_orders_email_quality0_nullValues')).toMatchObject({
      status: 'pass',
      observedValue: 25,
    });
    // SLA latency 12h on updated_at: the latest is 05:00, one hour before the clock.
    expect(byName.get('contract_orders_sla_latency')).toMatchObject({
      status: 'pass',
      type: 'weir_freshness',
    });
  });

  it('applies warning severity as non-blocking warn', async () => {
    const c = parse(`apiVersion: v3.1.0
kind: DataContract
id: x
version: 1.0.0
status: active
schema:
  - name: orders
    quality:
      - metric: rowCount
        mustBeGreaterThan: 100
        severity: warning
`).contract as ParsedContract;
    const specs = contractChecks({ contract: c, object: c.objects[0] as never, asset: 'main.orders' });
    const [r] = await runChecks(s, specs, { relation: 'orders' });
    expect(r).toMatchObject({ status: 'warn', severity: 'warn', observedValue: 4 });
  });
});
