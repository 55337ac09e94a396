import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINIMAL_PROJECT, runCli, writeProject } from './helpers/cli.js';
import { makeRecords, startHttpFixture, type HttpFixture } from './helpers/http-fixtures.js';

const TOKEN = 'Tk-9a8b7c6d5e4f-secret';
let server: HttpFixture;
const dirs: string[] = [];

beforeAll(async () => {
  server = await startHttpFixture({
    records: makeRecords(23),
    pageSize: 5,
    bearer: TOKEN,
    protectAll: true,
  });
});
afterAll(async () => {
  await server?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function allText(dir: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { recursive: true })) {
    const p = join(dir, entry);
    if ((await stat(p)).isFile()) text += (await readFile(p)).toString('latin1');
  }
  return text;
}

describe('weir build / ingest with REST and files sources (CLI)', () => {
  it('ingests a paginated API (yml) and a file drop (ts) before the models that read them', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'sources/api.yml': `version: 2
sources:
  - name: api
    type: rest
    connection:
      base_url: "{{ env_var('API_URL') }}"
      auth: { type: bearer, token: "{{ env_var('API_TOKEN') }}" }
      retries: { attempts: 3, backoff: 10 ms }
    tables:
      - name: customers
        primary_key: id
        incremental: { cursor_field: updated_at }
        endpoint:
          path: /pages
          data_selector: $.results
          paginator: { type: page_number, total_path: $.total_pages }
`,
      'sources/drop.ts': `import { defineSource } from 'weir';
export default defineSource({
  name: 'drop',
  type: 'files',
  tables: [{ name: 'orders', path: 'landing/*.csv' }],
});
`,
      'landing/o1.csv': 'order_id,customer_id,amount\n1,3,10\n2,3,5\n3,7,1\n4,99\n',
      'models/customer_totals.sql': `{{ config(materialized='table') }}
select c.id, c.name, sum(o.amount) as total
from {{ source('api', 'customers') }} c join {{ source('drop', 'orders') }} o on o.customer_id = c.id
group by 1, 2`,
    });
    dirs.push(dir);
    const env = { API_URL: server.url, API_TOKEN: TOKEN };
    const built = await runCli(['build'], { cwd: dir, env });
    expect(built.code, built.stderr + built.stdout).toBe(0);
    const q = await runCli(
      ['query', 'select id, total from main.customer_totals order by id', '--output', 'json'],
      { cwd: dir, env },
    );
    expect(q.code, q.stderr).toBe(0);
    // sum() of BIGINT is a HUGEINT: JSON output gives it as text.
    expect(q.stdout.trim().split('\n')).toEqual(['{"id":3,"total":"15"}', '{"id":7,"total":"1"}']);

    // A new file lands alone; the loaded one is not read again.
    await writeFile(join(dir, 'landing/o2.csv'), 'order_id,customer_id,amount\n5,7,2\n');
    const again = await runCli(['ingest', '--select', 'source:drop'], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/loaded 1 of 1 read/);

    // Wrong token: WEIR-I003, the token is in no output and no file.
    const bad = await runCli(['ingest', '--select', 'source:api'], {
      cwd: dir,
      env: { ...env, API_TOKEN: 'nope-wrong-token' },
    });
    expect(bad.code, bad.stdout + bad.stderr).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('WEIR-I003');
    const everything =
      [built, q, again, bad].map((r) => r.stdout + r.stderr).join('\n') + (await allText(dir));
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain('nope-wrong-token');
  }, 120_000);
});
