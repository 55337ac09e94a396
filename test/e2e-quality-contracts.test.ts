import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MINIMAL_PROJECT, runCli, writeProject } from './helpers/cli.js';

async function deltaVersions(dir: string, table: string): Promise<string[]> {
  const files = await readdir(join(dir, '.weir/lake', table, '_delta_log'));
  return files.filter((f) => f.endsWith('.json')).sort();
}

const CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: orders
version: 1.0.0
status: active
team: {name: payments}
schema:
  - name: orders
    properties:
      - name: id
        logicalType: integer
        primaryKey: true
      - name: email
        logicalType: string
        classification: restricted
      - name: amount
        logicalType: number
        quality:
          - metric: nullValues
            mustBe: 0
`;

describe('ODCS contracts in a build', () => {
  it('a table that breaks its contract is not committed and the error names the contract and property', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/orders.sql': `{{ config(materialized='table') }}
select * from (values (1, 'a@x.io', {{ "'ten'" if var('bad', false) else '10.5' }}), (2, 'b@x.io', {{ "'20'" if var('bad', false) else '20.0' }})) t(id, email, amount)
`,
      'models/summary.sql': `{{ config(materialized='table') }}
select count(*) as n from {{ ref('orders') }}
`,
      'contracts/orders.odcs.yaml': CONTRACT,
    });
    const ok = await runCli(['build'], { cwd: dir });
    expect(ok.code, `${ok.stdout}\n${ok.stderr}`).toBe(0);
    const before = await deltaVersions(dir, 'main/orders');
    const manifest = JSON.parse(await readFile(join(dir, 'target/manifest.json'), 'utf8')) as {
      nodes: Record<string, { config: { meta: Record<string, unknown> } }>;
    };
    expect(manifest.nodes['model.demo.orders']?.config.meta['contract']).toMatchObject({
      path: 'contracts/orders.odcs.yaml',
      owner: 'payments',
      classification: { email: 'restricted' },
    });

    const bad = await runCli(['build', '--vars', '{bad: true}'], { cwd: dir });
    expect(bad.code).toBe(1);
    const text = `${bad.stdout}\n${bad.stderr}`;
    expect(text).toContain('WEIR-Q026');
    expect(text).toContain('main.orders does not match its contract contracts/orders.odcs.yaml');
    expect(text).toContain(
      "contract contracts/orders.odcs.yaml: property 'amount': expected logicalType number, the column 'amount' is VARCHAR",
    );
    expect(text).toMatch(/contracts\/orders\.odcs\.yaml:16/);
    expect(await deltaVersions(dir, 'main/orders')).toEqual(before);
    expect(text).toMatch(/summary.*skipped|skipped.*summary/i);
  }, 60_000);

  it('reports an invalid contract before anything runs', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'models/orders.sql': `select 1 as id\n`,
      'contracts/orders.odcs.yaml': CONTRACT.replace('logicalType: number', 'logicalType: money'),
    });
    const res = await runCli(['build'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('[WEIR-Q021] contracts/orders.odcs.yaml:17');
    expect(res.stderr).toContain('schema.0.properties.2.logicalType');
  }, 60_000);
});
