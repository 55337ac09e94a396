import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Diagnostics } from '../core/diagnostics.js';
import { loadTarget, renderString, type TargetRequest } from './profiles.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-profiles-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function request(over: Partial<TargetRequest> = {}): TargetRequest {
  return {
    root: join(dir, 'proj'),
    rootFiles: new Set(),
    profileName: 'shop',
    profileExplicit: true,
    env: {},
    ...over,
  };
}

const PROFILE = `
shop:
  target: "{{ env_var('WEIR_TARGET', 'dev') }}"
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('DB_DIR') }}/dev.duckdb"
      schema: analytics
      threads: "{{ env_var('THREADS', '4') | int }}"
      extensions: [httpfs, {name: spatial}]
      settings: {memory_limit: 2GB}
    prod:
      type: postgres
      host: db
`;

describe('profiles.yml', () => {
  it('reads the target from the project root and renders env_var', async () => {
    await mkdir(join(dir, 'proj'));
    await writeFile(join(dir, 'proj', 'profiles.yml'), PROFILE);
    const diags = new Diagnostics();
    const target = await loadTarget(
      request({ rootFiles: new Set(['profiles.yml']), env: { DB_DIR: 'data' } }),
      diags,
    );
    expect(diags.items).toEqual([]);
    expect(target).toEqual({
      name: 'dev',
      type: 'duckdb',
      schema: 'analytics',
      catalogPath: join(dir, 'proj', 'data', 'dev.duckdb'),
      threads: 4,
      extensions: ['httpfs', 'spatial'],
      settings: { memory_limit: '2GB' },
    });
  });

  it('reports a missing env var without default at its line', async () => {
    await mkdir(join(dir, 'proj'));
    await writeFile(join(dir, 'proj', 'profiles.yml'), PROFILE);
    const diags = new Diagnostics();
    await loadTarget(request({ rootFiles: new Set(['profiles.yml']) }), diags);
    expect(diags.items).toMatchObject([{ code: 'WEIR-P031', at: { file: 'profiles.yml', line: 7 } }]);
    expect(diags.items[0]?.message).toContain('DB_DIR');
  });

  it('rejects a non-duckdb target', async () => {
    await writeFile(join(dir, 'profiles.yml'), PROFILE);
    const diags = new Diagnostics();
    const target = await loadTarget(
      request({ profilesDir: dir, target: 'prod', env: { DB_DIR: 'x' } }),
      diags,
    );
    expect(diags.items).toHaveLength(1);
    expect(diags.items[0]).toMatchObject({ code: 'WEIR-P030', severity: 'error', at: { line: 13 } });
    expect(diags.items[0]?.message).toContain('only duckdb targets are supported on the embedded engine');
    expect(target.name).toBe('prod');
  });

  it('reports an unknown target with the ones that exist', async () => {
    await writeFile(join(dir, 'profiles.yml'), PROFILE);
    const diags = new Diagnostics();
    await loadTarget(request({ profilesDir: dir, target: 'prd', env: { DB_DIR: 'x' } }), diags);
    expect(diags.items[0]?.code).toBe('WEIR-P034');
    expect(diags.items[0]?.message).toContain("Did you mean 'prod'?");
  });

  it('falls back to $DBT_PROFILES_DIR, then ~/.dbt, then the default target', async () => {
    await mkdir(join(dir, 'envdir'));
    await mkdir(join(dir, 'home', '.dbt'), { recursive: true });
    const simple = (schema: string) =>
      `shop:\n  outputs:\n    dev:\n      type: duckdb\n      schema: ${schema}\n`;
    await writeFile(join(dir, 'envdir', 'profiles.yml'), simple('from_env'));
    await writeFile(join(dir, 'home', '.dbt', 'profiles.yml'), simple('from_home'));
    const home = join(dir, 'home');
    const d = new Diagnostics();
    expect(
      (await loadTarget(request({ env: { DBT_PROFILES_DIR: join(dir, 'envdir'), HOME: home } }), d)).schema,
    ).toBe('from_env');
    expect((await loadTarget(request({ env: { HOME: home } }), d)).schema).toBe('from_home');
    const fallback = await loadTarget(request({ env: {} }), d);
    expect(fallback).toEqual({
      name: 'dev',
      type: 'duckdb',
      schema: 'main',
      catalogPath: join(dir, 'proj', '.weir', 'weir.duckdb'),
    });
    expect(d.items).toEqual([]);
  });

  it('uses the default target when the profile is absent, with a warning for a named profile', async () => {
    await writeFile(join(dir, 'profiles.yml'), 'other:\n  outputs: {}\n');
    const diags = new Diagnostics();
    const target = await loadTarget(request({ profilesDir: dir }), diags);
    expect(target.schema).toBe('main');
    expect(diags.items).toMatchObject([{ code: 'WEIR-P033', severity: 'warning' }]);
  });
});

describe('env_var rendering', () => {
  const at = { line: 1, column: 1 };
  it('renders defaults, bare defaults and filters', () => {
    const d = new Diagnostics();
    expect(renderString(`{{ env_var("A") }}-{{ env_var('B', 'b') }}`, { A: 'a' }, 'p.yml', at, d)).toBe(
      'a-b',
    );
    expect(renderString(`{{ env_var('N', 8) | int }}`, {}, 'p.yml', at, d)).toBe(8);
    expect(renderString(`{{ env_var('F') | as_bool }}`, { F: 'true' }, 'p.yml', at, d)).toBe(true);
    expect(renderString('plain', {}, 'p.yml', at, d)).toBe('plain');
    expect(d.items).toEqual([]);
  });
});
