import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Diagnostics } from '../core/diagnostics.js';
import { errorMessage } from '../core/errors.js';
import { didYouMean } from './close-names.js';
import { PROJECT_CODES } from './codes.js';
import { reportInvalid } from './config.js';
import { isPlainRecord, isString, lazySchema, optional } from './lazy-schema.js';
import type { Target } from './types.js';
import { bestIssue } from './zod-issues.js';
import { get, nodeAt, parseYaml, setOwn, type Loc, type YNode } from './yaml-tree.js';

export interface TargetRequest {
  readonly root: string;
  /** Names of the files directly in the root (one readdir, no per-file stat). */
  readonly rootFiles: ReadonlySet<string>;
  readonly profileName: string;
  /** Whether the project named its profile (a missing one is then worth a warning). */
  readonly profileExplicit: boolean;
  readonly target?: string;
  readonly profilesDir?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function defaultTarget(root: string, name = 'dev'): Target {
  return { name, type: 'duckdb', schema: 'main', catalogPath: join(root, '.weir', 'weir.duckdb') };
}

/**
 * Finds profiles.yml the way dbt does (first of --profiles-dir, the project root,
 * $DBT_PROFILES_DIR, ~/.dbt) and reads the chosen target. Without a profile the embedded default
 * applies: DuckDB at .weir/weir.duckdb, schema main.
 */
export async function loadTarget(req: TargetRequest, diags: Diagnostics): Promise<Target> {
  const found = await findProfiles(req, diags);
  if (!found) return defaultTarget(req.root, req.target);
  const { file, text, nearProject } = found;
  const display = displayPath(req.root, file);
  const parsed = parseYaml(text);
  for (const e of parsed.errors) {
    diags.error(PROJECT_CODES.yamlSyntax, `YAML syntax error: ${e.message}`, {
      at: { file: display, line: e.loc.line, column: e.loc.column },
      hint: 'fix the YAML syntax of profiles.yml (indentation, colons, quotes)',
    });
  }
  if (parsed.errors.length > 0) return defaultTarget(req.root, req.target);

  const profile = get(parsed.root, req.profileName);
  if (!profile || profile.kind !== 'map') {
    if (nearProject || req.profileExplicit) {
      const names =
        parsed.root?.kind === 'map' ? parsed.root.pairs.map((p) => p.key).filter((k) => k !== 'config') : [];
      diags.warning(
        PROJECT_CODES.profileNotFound,
        `profile '${req.profileName}' is not in ${display}; using the default DuckDB target.${didYouMean(req.profileName, names)}`,
        {
          at: { file: display, line: 1 },
          hint: `add a '${req.profileName}:' entry with outputs, or set profile: in the project file`,
        },
      );
    }
    return defaultTarget(req.root, req.target);
  }

  const targetNode = get(profile, 'target');
  const rendered = targetNode ? renderEnvVars(targetNode, req.env, display, diags) : undefined;
  const targetName = req.target ?? (typeof rendered === 'string' && rendered !== '' ? rendered : 'dev');
  const outputs = get(profile, 'outputs');
  const output = get(outputs, targetName);
  if (!output || output.kind !== 'map') {
    const names = outputs?.kind === 'map' ? outputs.pairs.map((p) => p.key) : [];
    diags.error(
      PROJECT_CODES.targetNotFound,
      `profile '${req.profileName}' has no target '${targetName}'${names.length ? ` (it has: ${names.join(', ')})` : ''}.${didYouMean(targetName, names)}`,
      {
        at: { file: display, line: (outputs ?? profile).loc.line },
        hint: `add outputs: ${targetName}: {type: duckdb, path: ...} to the profile, or choose another --target`,
      },
    );
    return defaultTarget(req.root, targetName);
  }
  return readOutput(output, targetName, req, display, diags);
}

async function findProfiles(
  req: TargetRequest,
  diags: Diagnostics,
): Promise<{ file: string; text: string; nearProject: boolean } | undefined> {
  if (req.profilesDir !== undefined) {
    const file = join(resolve(req.profilesDir), 'profiles.yml');
    const text = await readIfExists(file, diags, req.root);
    if (text !== undefined) return { file, text, nearProject: true };
    diags.warning(PROJECT_CODES.profilesNotFound, `no profiles.yml in ${resolve(req.profilesDir)}`, {
      hint: 'check --profiles-dir, or leave it out to use the project root, $DBT_PROFILES_DIR or ~/.dbt',
    });
  }
  if (req.rootFiles.has('profiles.yml')) {
    const file = join(req.root, 'profiles.yml');
    const text = await readIfExists(file, diags, req.root);
    if (text !== undefined) return { file, text, nearProject: true };
  }
  const envDir = req.env.DBT_PROFILES_DIR;
  const home = req.env.HOME ?? req.env.USERPROFILE ?? (req.env === process.env ? homedir() : undefined);
  const dirs = [envDir, home ? join(home, '.dbt') : undefined].filter((d): d is string => !!d);
  for (const dir of dirs) {
    const file = join(resolve(dir), 'profiles.yml');
    const text = await readIfExists(file, diags, req.root);
    if (text !== undefined) return { file, text, nearProject: false };
  }
  return undefined;
}

async function readIfExists(file: string, diags: Diagnostics, root: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      diags.error(
        PROJECT_CODES.unreadableFile,
        `cannot read ${displayPath(root, file)}: ${errorMessage(err)}`,
        {
          at: { file: displayPath(root, file) },
          hint: 'check the file permissions',
        },
      );
    }
    return undefined;
  }
}

function displayPath(root: string, file: string): string {
  const rel = relative(root, file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel.split('\\').join('/');
}

const DIGITS = /^\d+$/;

/** A target of profiles.yml, with a plain check (see lazy-schema.ts). */
export const OUTPUT_SCHEMA = lazySchema(
  (z) =>
    z
      .object({
        type: z.string(),
        path: z.string().optional(),
        schema: z.string().optional(),
        database: z.string().optional(),
        threads: z.union([z.number().int().positive(), z.string().regex(DIGITS)]).optional(),
        extensions: z.array(z.union([z.string(), z.object({ name: z.string() }).loose()])).optional(),
        settings: z.record(z.string(), z.unknown()).optional(),
      })
      .loose(),
  (v) =>
    isPlainRecord(v) &&
    isString(v.type) &&
    optional(isString)(v.path) &&
    optional(isString)(v.schema) &&
    optional(isString)(v.database) &&
    optional(
      (t) => (Number.isSafeInteger(t) && (t as number) > 0) || (isString(t) && DIGITS.test(t as string)),
    )(v.threads) &&
    optional(
      (list) =>
        Array.isArray(list) && list.every((e) => isString(e) || (isPlainRecord(e) && isString(e.name))),
    )(v.extensions) &&
    optional(isPlainRecord)(v.settings),
);

function readOutput(
  output: YNode,
  name: string,
  req: TargetRequest,
  file: string,
  diags: Diagnostics,
): Target {
  const value = renderEnvVars(output, req.env, file, diags);
  const result = OUTPUT_SCHEMA.safeParse(value);
  if (!result.success) {
    const issue = bestIssue(result.error);
    if (issue) {
      const key = issue.path.map(String).join('.') || name;
      const node = nodeAt(output, issue.path);
      reportInvalid(
        diags,
        file,
        node.loc,
        `'${key}' in target '${name}'`,
        issue.message,
        node,
        'see the dbt-duckdb profile docs',
      );
    }
    return defaultTarget(req.root, name);
  }
  const o = result.data;
  if (o.type !== 'duckdb') {
    const at = get(output, 'type')?.loc ?? output.loc;
    diags.error(
      PROJECT_CODES.unsupportedAdapter,
      `target '${name}' has type '${o.type}': only duckdb targets are supported on the embedded engine`,
      {
        at: { file, line: at.line, column: at.column },
        hint: 'use type: duckdb with a path, e.g. path: .weir/weir.duckdb',
      },
    );
    return defaultTarget(req.root, name);
  }
  const target: Target = {
    name,
    type: 'duckdb',
    schema: o.schema ?? 'main',
    catalogPath: catalogPathOf(req.root, o.path, req.env),
  };
  if (o.database !== undefined) target.database = o.database;
  if (o.threads !== undefined) target.threads = Number(o.threads);
  if (o.extensions) target.extensions = o.extensions.map((e) => (typeof e === 'string' ? e : e.name));
  if (o.settings) target.settings = o.settings;
  return target;
}

function catalogPathOf(
  root: string,
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (path === undefined || path === '') return join(root, '.weir', 'weir.duckdb');
  // In-memory and MotherDuck-style locations are not files.
  if (path === ':memory:' || /^[a-z][a-z0-9+.-]*:/i.test(path)) return path;
  if (path === '~' || path.startsWith('~/')) {
    const home = env.HOME ?? homedir();
    return join(home, path.slice(1));
  }
  return resolve(root, path);
}

const ENV_VAR =
  /\{\{\s*env_var\(\s*(['"])(.*?)\1\s*(?:,\s*(?:(['"])(.*?)\3|([^)\s]+))\s*)?\)\s*(?:\|\s*([a-z_]+)\s*)?\}\}/g;

/**
 * Renders `{{ env_var('X') }}` and `{{ env_var('X', 'default') }}` in every string of a node. A
 * string that is one env_var call with `| int` / `| as_number` / `| as_bool` becomes that type.
 */
export function renderEnvVars(
  node: YNode,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
  diags: Diagnostics,
): unknown {
  switch (node.kind) {
    case 'scalar':
      return typeof node.value === 'string'
        ? renderString(node.value, env, file, node.loc, diags)
        : node.value;
    case 'seq':
      return node.items.map((item) => renderEnvVars(item, env, file, diags));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const p of node.pairs) setOwn(out, p.key, renderEnvVars(p.value, env, file, diags));
      return out;
    }
  }
}

export function renderString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
  loc: Loc,
  diags: Diagnostics,
): unknown {
  if (!text.includes('env_var')) return text;
  let whole: { value: string; filter: string | undefined } | undefined;
  const out = text.replace(
    ENV_VAR,
    (
      match: string,
      _q: string,
      name: string,
      _q2: string | undefined,
      quotedDefault: string | undefined,
      bareDefault: string | undefined,
      filter: string | undefined,
    ) => {
      const fromEnv = env[name];
      const value = fromEnv ?? quotedDefault ?? bareDefault;
      if (value === undefined) {
        diags.error(
          PROJECT_CODES.missingEnvVar,
          `environment variable '${name}' is not set and has no default`,
          {
            at: { file, line: loc.line, column: loc.column },
            hint: `export ${name}=..., or give a default: {{ env_var('${name}', 'value') }}`,
          },
        );
        return '';
      }
      if (match === text) whole = { value, filter };
      return value;
    },
  );
  if (whole?.filter) {
    const f = whole.filter;
    if (f === 'int' || f === 'as_number' || f === 'float') {
      const n = Number(whole.value);
      if (!Number.isNaN(n)) return f === 'int' ? Math.trunc(n) : n;
    }
    if (f === 'as_bool') return /^(true|1|yes)$/i.test(whole.value.trim());
  }
  return out;
}
