import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { catalogContents } from './helpers/lake.js';

/** The main job, as a new user runs it: `weir init demo && cd demo && weir build`. */
describe('weir init + weir build (end to end)', () => {
  let dir: string;
  let first: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    const parent = await mkdtemp(join(tmpdir(), 'weir-e2e-'));
    const init = await runCli(['init', 'demo'], { cwd: parent });
    expect(init.code, init.stderr).toBe(0);
    dir = join(parent, 'demo');
    first = await runCli(['build'], { cwd: dir });
  }, 180_000);

  it('builds every node of the example project and passes its tests', () => {
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    expect(first.stdout).toMatch(/Done in .*: \d+ ok, \d+ passed, 0 warned, 0 failed, 0 errored, 0 skipped/);
    expect(existsSync(join(dir, '.weir/weir.duckdb'))).toBe(true);
    expect(existsSync(join(dir, 'target/manifest.json'))).toBe(true);
    expect(existsSync(join(dir, 'target/run_results.json'))).toBe(true);
  });

  it('writes dbt-style run_results.json and manifest.json', async () => {
    const results = JSON.parse(await readFile(join(dir, 'target/run_results.json'), 'utf8')) as {
      results: { unique_id: string; status: string }[];
    };
    expect(results.results.length).toBeGreaterThan(10);
    expect(results.results.every((r) => ['success', 'pass'].includes(r.status))).toBe(true);
    const manifest = JSON.parse(await readFile(join(dir, 'target/manifest.json'), 'utf8')) as {
      nodes: Record<string, { depends_on: { nodes: string[] } }>;
      parent_map: Record<string, string[]>;
    };
    expect(Object.keys(manifest.nodes).some((k) => k.startsWith('model.'))).toBe(true);
    expect(Object.keys(manifest.parent_map).length).toBeGreaterThan(10);
  });

  it('a second build leaves every table identical (idempotent)', async () => {
    const before = await catalogContents(join(dir, '.weir/weir.duckdb'));
    expect(Object.keys(before).length).toBeGreaterThan(8);
    const second = await runCli(['build'], { cwd: dir });
    expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
    const after = await catalogContents(join(dir, '.weir/weir.duckdb'));
    expect(after).toEqual(before);
  }, 180_000);

  it('records runs and per-asset history', async () => {
    const runs = await runCli(['runs', '--output', 'json'], { cwd: dir });
    expect(runs.code, runs.stderr).toBe(0);
    const lines = runs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; command: string });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((r) => r.status === 'success' && r.command === 'build')).toBe(true);
    const history = await runCli(['history', 'marts.fct_orders', '--output', 'json'], { cwd: dir });
    expect(history.code, history.stderr).toBe(0);
    const h = JSON.parse(history.stdout) as { runs: unknown[]; versions: { version: number }[] };
    expect(h.runs.length).toBeGreaterThanOrEqual(2);
    expect(h.versions.length).toBeGreaterThanOrEqual(1);
  });

  it('shows and queries assets', async () => {
    const show = await runCli(['show', 'dim_customers', '--limit', '3', '--output', 'json'], { cwd: dir });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout.trim().split('\n')).toHaveLength(3);
    const query = await runCli(['query', 'select count(*) as n from marts.fct_orders', '--output', 'json'], {
      cwd: dir,
    });
    expect(query.code, query.stderr).toBe(0);
    expect(Number((JSON.parse(query.stdout) as { n: number }).n)).toBeGreaterThan(0);
  });

  it('prints structured JSON logs with the run id on every line', async () => {
    const res = await runCli(['build', '--log-format', 'json', '-s', 'stg_orders+'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(2);
    const runId = lines[0]?.['run_id'];
    expect(typeof runId).toBe('string');
    expect(lines.every((l) => l['run_id'] === runId)).toBe(true);
  }, 120_000);
});
