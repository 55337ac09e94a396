import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession } from '../src/core/engine.js';
import { isWeirError, type WeirError } from '../src/core/errors.js';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { parseStreamSettings } from '../src/ingest/config.js';
import { openConnector } from '../src/ingest/connectors.js';
import { committedCursor, landStream, type LoadReport } from '../src/ingest/landing/land.js';
import { Redactor } from '../src/ingest/redact.js';
import { DeltaTable } from '../src/lake/delta/table.js';
import { LocalObjectStore } from '../src/lake/local-object-store.js';

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

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'weir-files-'));
  dirs.push(root);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), content);
  }
  return root;
}

async function land(root: string, stream: string, table: Record<string, unknown>): Promise<LoadReport> {
  const spec = parseStreamSettings({
    sourceName: 'drop',
    streamName: stream,
    source: { type: 'files' },
    table,
    at: { file: 'sources/drop.yml', line: 2 },
  });
  const connector = openConnector(spec, { env: {}, redactor: new Redactor(), projectRoot: root });
  try {
    return await landStream(
      { lake: new LocalObjectStore(join(root, 'lake')), session, chunkRows: 4 },
      { spec, connector, runId: 'run' },
    );
  } finally {
    await connector.close();
  }
}

async function scan(root: string, path: string, order: string): Promise<Record<string, unknown>[]> {
  const t = await DeltaTable.open(new LocalObjectStore(join(root, 'lake')), path, session);
  return (await session.query(`SELECT * FROM (${t.scanSql(await t.snapshot())}) ORDER BY ${order}`))
    .rows as Record<string, unknown>[];
}

async function failure(p: Promise<unknown>): Promise<WeirError> {
  try {
    await p;
  } catch (err) {
    if (isWeirError(err)) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

const MIXED_CSV = [
  'id,name,amount,created',
  '1,alpha,10.5,2024-01-01',
  '2,"beta, with comma",20,2024-01-02',
  '3,gamma',
  '4,"multi',
  'line",40,2024-01-04',
  '5,"bad"quote,50,2024-01-05',
  '',
  '6,zeta,60,2024-01-06,extra',
  '7,eta,70,2024-01-07',
].join('\n');

const MIXED_NDJSON = [
  '{"id": 1, "tags": ["a"], "user": {"name": "ann"}}',
  '{"id": 2, "tags": [], "user": {"name": "bob"}}',
  '{"id": 3, broken',
  '',
  '[1, 2]',
  '{"id": 4, "user": {"name": "cy"}}',
  'not json at all',
].join('\n');

describe('files source', () => {
  it('loads a mixed CSV: good rows land, ragged and malformed lines are dead-lettered with their line', async () => {
    const root = await project({ 'in/mixed.csv': MIXED_CSV });
    const r = await land(root, 'mixed', { path: 'in/*.csv' });
    expect(r.rowsRead).toBe(r.rowsLoaded + r.rowsDeadLettered);
    expect(r).toMatchObject({ rowsRead: 7, rowsLoaded: 4, rowsDeadLettered: 3 });
    const rows = await scan(root, 'raw/drop__mixed', 'id');
    expect(rows.map((x) => [x['id'], x['name'], x['amount']])).toEqual([
      [1, 'alpha', 10.5],
      [2, 'beta, with comma', 20],
      [4, 'multi\nline', 40],
      [7, 'eta', 70],
    ]);
    expect(String(rows[0]?.['created'])).toContain('2024-01-01');
    const dlq = await scan(root, 'dlq/drop__mixed', 'location');
    expect(dlq.map((d) => [d['location'], d['reason'], d['payload']])).toEqual([
      ['in/mixed.csv:4', 'ragged line: 2 fields where the header has 4', '3,gamma'],
      [
        'in/mixed.csv:7',
        expect.stringMatching(/^malformed CSV: Invalid Closing Quote/),
        '5,"bad"quote,50,2024-01-05',
      ],
      ['in/mixed.csv:9', 'ragged line: 5 fields where the header has 4', '6,zeta,60,2024-01-06,extra'],
    ]);
  });

  it('loads a mixed NDJSON file: malformed and non-object lines are dead-lettered with their line', async () => {
    const root = await project({ 'in/events.ndjson': MIXED_NDJSON });
    const r = await land(root, 'events', { path: 'in/events.ndjson' });
    expect(r).toMatchObject({ rowsRead: 6, rowsLoaded: 3, rowsDeadLettered: 3 });
    const rows = await scan(root, 'raw/drop__events', 'id');
    expect(rows.map((x) => [x['id'], x['user__name'], x['tags']])).toEqual([
      [1, 'ann', '["a"]'],
      [2, 'bob', '[]'],
      [4, 'cy', null],
    ]);
    const dlq = await scan(root, 'dlq/drop__events', 'location');
    expect(dlq.map((d) => [d['location'], String(d['reason']).split(':')[0]])).toEqual([
      ['in/events.ndjson:3', 'malformed JSON'],
      ['in/events.ndjson:5', 'not a JSON object'],
      ['in/events.ndjson:7', 'malformed JSON'],
    ]);
  });

  it('detects delimiter, header and encoding; reads gzip, JSON with a selector and Parquet', async () => {
    const latin = iconv.encode(
      'nom;ville;montant\nJosé;Besançon;12\nRenée;Orléans;7\nÇa;Nîmes;3\n',
      'win1252',
    );
    const root = await project({
      'csv/latin1.csv': latin,
      'csv/noheader.csv': '1,2024-01-01,x\n2,2024-01-02,y\n',
      'csv/tabs.tsv.gz': gzipSync('a\tb\n1\t2\n3\t4\n'),
      'json/doc.json': JSON.stringify({ meta: { n: 2 }, results: [{ k: 1 }, { k: 2 }] }),
      'json/lines.ndjson.gz': gzipSync('{"k": 3}\n{"k": 4}\n'),
    });
    const l = await land(root, 'latin', { path: 'csv/latin1.csv' });
    expect(l.rowsLoaded).toBe(3);
    expect(
      (await scan(root, 'raw/drop__latin', 'montant')).map((x) => [x['nom'], x['ville'], x['montant']]),
    ).toEqual([
      ['Ça', 'Nîmes', 3],
      ['Renée', 'Orléans', 7],
      ['José', 'Besançon', 12],
    ]);
    await land(root, 'noheader', { path: 'csv/noheader.csv' });
    expect(
      (await scan(root, 'raw/drop__noheader', 'column_1')).map((x) => [x['column_1'], x['column_3']]),
    ).toEqual([
      [1, 'x'],
      [2, 'y'],
    ]);
    await land(root, 'tabs', { path: 'csv/*.tsv.gz' });
    expect((await scan(root, 'raw/drop__tabs', 'a')).map((x) => [x['a'], x['b']])).toEqual([
      [1, 2],
      [3, 4],
    ]);
    await land(root, 'docs', { path: 'json/*.{json,ndjson.gz}', json: { data_selector: '$.results[*]' } });
    expect((await scan(root, 'raw/drop__docs', 'k')).map((x) => x['k'])).toEqual([1, 2, 3, 4]);

    await mkdir(join(root, 'pq', 'day=1'), { recursive: true });
    await session.exec(
      `COPY (SELECT range AS id, 'n' || range AS name, DATE '2024-01-01' + range::INT AS d FROM range(5)) TO '${join(root, 'pq', 'day=1', 'part-1.parquet')}' (FORMAT parquet)`,
    );
    const p = await land(root, 'pq', { path: 'pq/**/*.parquet' });
    expect(p).toMatchObject({ rowsRead: 5, rowsLoaded: 5 });
    const pq = await scan(root, 'raw/drop__pq', 'id');
    expect(pq.map((x) => x['name'])).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
  });

  it('loads each file once; a touched file is skipped, a changed file is loaded again as a new version', async () => {
    const root = await project({ 'in/a.csv': 'id,v\n1,a\n2,b\n', 'in/b.csv': 'id,v\n3,c\n' });
    const first = await land(root, 'once', { path: 'in/*.csv' });
    expect(first).toMatchObject({ status: 'loaded', rowsLoaded: 3 });
    const cursor = await committedCursor(
      await DeltaTable.open(new LocalObjectStore(join(root, 'lake')), 'raw/drop__once', session),
    );
    expect(Object.keys(cursor?.files ?? {})).toEqual(['in/a.csv', 'in/b.csv']);
    expect(cursor?.files?.['in/a.csv']).toMatch(/^[0-9a-f]{64}:13:\d+$/);

    expect(await land(root, 'once', { path: 'in/*.csv' })).toMatchObject({
      status: 'up_to_date',
      rowsRead: 0,
    });
    // Same bytes, new mtime: the checksum says nothing changed.
    const later = new Date(Date.now() + 60_000);
    await utimes(join(root, 'in/a.csv'), later, later);
    const touched = await land(root, 'once', { path: 'in/*.csv' });
    expect(touched).toMatchObject({ rowsRead: 0, rowsLoaded: 0 });

    await writeFile(join(root, 'in/b.csv'), 'id,v\n3,c2\n4,d\n');
    await writeFile(join(root, 'in/c.csv'), 'id,v\n5,e\n');
    const changed = await land(root, 'once', { path: 'in/*.csv' });
    expect(changed).toMatchObject({ status: 'loaded', rowsRead: 3, rowsLoaded: 3 });
    const rows = await scan(root, 'raw/drop__once', '_load_id, id');
    expect(rows.map((x) => [x['id'], x['v']])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [3, 'c2'],
      [4, 'd'],
      [5, 'e'],
    ]);
    expect(new Set(rows.map((x) => x['_load_id'])).size).toBe(2);
    expect(await land(root, 'once', { path: 'in/*.csv' })).toMatchObject({ status: 'up_to_date' });
  });

  it('discovers the columns of the first matched file', async () => {
    const root = await project({
      'in/a.csv': 'id,name,at\n1,x,2024-01-01T00:00:00Z\n2,,2024-01-02T00:00:00Z\n',
    });
    const spec = parseStreamSettings({
      sourceName: 'drop',
      streamName: 'a',
      source: { type: 'files' },
      table: { path: 'in/*.csv' },
      at: { file: 'sources/drop.yml' },
    });
    const connector = openConnector(spec, { env: {}, redactor: new Redactor(), projectRoot: root });
    expect(await connector.discover()).toEqual([
      {
        name: 'a',
        columns: [
          { name: 'id', type: 'BIGINT' },
          { name: 'name', type: 'VARCHAR' },
          { name: 'at', type: 'TIMESTAMP WITH TIME ZONE' },
        ],
      },
    ]);
  });

  it('fails clearly on an unknown extension, a corrupt gzip file and bad settings', async () => {
    const root = await project({ 'in/a.xlsx': 'zz', 'gz/a.csv.gz': 'not gzip at all' });
    const e1 = await failure(land(root, 'x', { path: 'in/*' }));
    expect(e1.code).toBe('WEIR-I010');
    expect(e1.message).toContain('in/a.xlsx');
    expect(e1.hint).toContain('format:');
    const e2 = await failure(land(root, 'y', { path: 'gz/*.gz' }));
    expect(e2.code).toBe('WEIR-I010');
    expect(e2.message).toContain('gz/a.csv.gz');
    const e3 = await failure(land(root, 'z', { path: 'in/*', format: 'xml' }));
    expect(e3.code).toBe('WEIR-I001');
    expect(e3.message).toContain("'format'");
  });
});
