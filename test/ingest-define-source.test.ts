import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession } from '../src/core/engine.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { defineSource, envVar } from '../src/index.js';
import { streamSettingsOf } from '../src/ingest/config.js';
import { Ingestor } from '../src/ingest/ingestor.js';
import { LocalObjectStore } from '../src/lake/local-object-store.js';
import { loadProject } from '../src/project/load-project.js';
import type { SourceTable } from '../src/project/types.js';
import { MINIMAL_PROJECT, writeProject } from './helpers/cli.js';

let engine: Engine;
let session: EngineSession;
const dirs: string[] = [];

beforeAll(async () => {
  engine = await createDuckDbEngine();
  session = await engine.session();
});
afterAll(async () => {
  session?.close();
  await engine?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const TS_SOURCE = `import { defineSource, envVar } from 'weir';

export default defineSource({
  name: 'drop',
  type: 'files',
  tags: ['files'],
  tables: [
    { name: 'orders', path: 'data/*.csv', primary_key: 'id', csv: { delimiter: ';' } },
    { name: 'events', path: 'data/*.ndjson' },
  ],
});

export const api = defineSource({
  name: 'api',
  type: 'rest',
  connection: { base_url: 'http://127.0.0.1:1', auth: { type: 'bearer', token: envVar('API_TOKEN') } },
  tables: [{ name: 'users', endpoint: { path: '/users', paginator: { type: 'page_number' } } }],
});
`;

const YML_SOURCE = `version: 2
sources:
  - name: drop
    type: files
    tags: [files]
    tables:
      - name: orders
        path: data/*.csv
        primary_key: id
        csv: { delimiter: ';' }
      - name: events
        path: data/*.ndjson
`;

describe('defineSource', () => {
  it('gives the same YAML-equivalent entry and renders env vars only when connecting', () => {
    const d = defineSource({
      name: 's',
      type: 'postgres',
      connection: { url: envVar('PG_URL') },
      tables: [{ name: 't' }],
    });
    expect(d.source).toEqual({
      name: 's',
      type: 'postgres',
      connection: { url: "{{ env_var('PG_URL') }}" },
      tables: [{ name: 't' }],
    });
    expect(envVar('X', 'd')).toBe("{{ env_var('X', 'd') }}");
  });

  it('loads sources/*.ts into the project like sources/*.yml, and the streams ingest', async () => {
    const data = { 'data/orders.csv': 'id;amount\n1;10\n2;20\n', 'data/e.ndjson': '{"k":1}\n' };
    const tsDir = await writeProject({ ...MINIMAL_PROJECT(), 'sources/drop.ts': TS_SOURCE, ...data });
    const ymlDir = await writeProject({ ...MINIMAL_PROJECT(), 'sources/drop.yml': YML_SOURCE, ...data });
    dirs.push(tsDir, ymlDir);
    const fromTs = await loadProject(tsDir);
    const fromYml = await loadProject(ymlDir);
    expect(fromTs.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const pick = (s: SourceTable) => ({
      id: s.uniqueId,
      schema: s.schema,
      identifier: s.identifier,
      tags: s.tags,
      ingest: s.ingest,
    });
    const ts = fromTs.project.sources.filter((s) => s.sourceName === 'drop');
    expect(ts.map(pick)).toEqual(fromYml.project.sources.map(pick));
    expect(ts.map((s) => s.at.file)).toEqual(['sources/drop.ts', 'sources/drop.ts']);
    const api = fromTs.project.sources.find((s) => s.sourceName === 'api');
    // The template, not a value: manifests never hold the secret.
    expect(JSON.stringify(api?.ingest)).toContain("{{ env_var('API_TOKEN') }}");

    const orders = ts.find((s) => s.name === 'orders');
    if (!orders) throw new Error('no orders stream');
    const ingestor = new Ingestor({
      lake: new LocalObjectStore(join(tsDir, '.weir/lake')),
      env: {},
      projectRoot: tsDir,
    });
    const out = await ingestor.ingest(streamSettingsOf(orders), session, { runId: 'r1' });
    expect(out).toMatchObject({ status: 'success', rows: 2 });
    const rows = await session.query('SELECT id, amount FROM staging.drop__orders ORDER BY id');
    expect(rows.rows).toEqual([
      { id: 1, amount: 10 },
      { id: 2, amount: 20 },
    ]);
  });

  it('reports a sources/*.ts file that fails to load or exports no source (WEIR-I017)', async () => {
    const dir = await writeProject({
      ...MINIMAL_PROJECT(),
      'sources/broken.ts': "throw new Error('boom in module');\n",
      'sources/empty.ts': 'export const x = 1;\n',
    });
    dirs.push(dir);
    const { diagnostics } = await loadProject(dir);
    const mine = diagnostics.filter((d) => d.code === 'WEIR-I017').map((d) => [d.at?.file, d.message]);
    expect(mine).toEqual([
      ['sources/broken.ts', expect.stringContaining('boom in module')],
      ['sources/empty.ts', 'sources/empty.ts exports no source'],
    ]);
  });
});
