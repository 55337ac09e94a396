import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../src/engine/duckdb/duckdb-engine.js';
import { DeltaTable } from '../src/lake/delta/table.js';
import { LocalObjectStore } from '../src/lake/local-object-store.js';
import { BIN, MINIMAL_PROJECT, runCli, writeProject } from './helpers/cli.js';

const ROWS = 200_000;
const TABLES = ['t1', 't2', 't3', 't4', 't5'];

function projectFiles(): Record<string, string> {
  const files: Record<string, string> = { ...MINIMAL_PROJECT() };
  files['models/t1.sql'] = `{{ config(materialized='table') }}
select range as id, {{ var('v', 0) }} as v, md5(range::varchar) as h from range(${ROWS})
`;
  for (let i = 2; i <= 4; i++) {
    files[`models/t${i}.sql`] = `{{ config(materialized='table') }}
select id, v, md5(h || '${i}') as h from {{ ref('t${i - 1}') }}
`;
  }
  files['models/t5.sql'] = `{{ config(materialized='incremental', unique_key='id') }}
select id, v, h from {{ ref('t4') }}
`;
  return files;
}

/** Every visible version of every table must be whole: all rows, from one build only. */
async function checkTables(dir: string): Promise<Record<string, { version: number; v: number } | null>> {
  const lake = new LocalObjectStore(join(dir, '.weir/lake'));
  const engine = await createDuckDbEngine();
  const session = await engine.session();
  const seen: Record<string, { version: number; v: number } | null> = {};
  try {
    for (const t of TABLES) {
      const table = await DeltaTable.open(lake, `main/${t}`, session);
      if (!(await table.exists())) {
        seen[t] = null;
        continue;
      }
      const snap = await table.snapshot();
      const res = await session.query(
        `select count(*)::int as n, count(distinct v)::int as versions, min(v)::int as v, count(distinct id)::int as ids from (${table.scanSql(snap)})`,
      );
      const row = res.rows[0] ?? {};
      expect(row, `${t} at version ${snap.version}`).toEqual({
        n: ROWS,
        versions: 1,
        v: row['v'],
        ids: ROWS,
      });
      seen[t] = { version: snap.version, v: Number(row['v']) };
      // Every committed log entry is whole JSON.
      const logDir = join(dir, '.weir/lake/main', t, '_delta_log');
      for (const f of (await readdir(logDir)).filter((x) => x.endsWith('.json'))) {
        for (const line of (await readFile(join(logDir, f), 'utf8')).split('\n').filter(Boolean))
          JSON.parse(line);
      }
    }
  } finally {
    session.close();
    await engine.close();
  }
  return seen;
}

function buildAndKill(dir: string, v: number, afterMs: number): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'build', '--threads', '1', '--vars', `{v: ${v}}`], {
      cwd: dir,
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal);
    });
  });
}

describe('SIGKILL during a build', () => {
  it('never leaves a partially visible table, and the next build recovers', async () => {
    const dir = await writeProject(projectFiles());
    const first = await runCli(['build', '--vars', '{v: 0}'], { cwd: dir });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    let killed = 0;
    const delays = [250, 450, 650, 850, 1100, 1400];
    for (let i = 0; i < delays.length; i++) {
      const signal = await buildAndKill(dir, i + 1, delays[i] ?? 500);
      if (signal === 'SIGKILL') killed++;
      const seen = await checkTables(dir);
      // Tables commit in dependency order: a table never shows a newer build than its upstream.
      for (let t = 1; t < TABLES.length; t++) {
        const up = seen[TABLES[t - 1] ?? ''];
        const down = seen[TABLES[t] ?? ''];
        if (up && down) expect(down.v).toBeLessThanOrEqual(up.v);
      }
    }
    expect(killed).toBeGreaterThanOrEqual(3);
    const last = await runCli(['build', '--vars', '{v: 99}'], { cwd: dir });
    expect(last.code, last.stdout + last.stderr).toBe(0);
    const final = await checkTables(dir);
    for (const t of TABLES) expect(final[t]?.v).toBe(99);
    expect(existsSync(join(dir, '.weir/weir.duckdb'))).toBe(true);
    // Catalogs the killed builds were writing are cleaned up by the next build.
    expect((await readdir(join(dir, '.weir'))).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 180_000);
});
