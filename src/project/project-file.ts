import { posix } from 'node:path';
import type { Diagnostics } from '../core/diagnostics.js';
import { didYouMean } from './close-names.js';
import { PROJECT_CODES } from './codes.js';
import { isRecord, readConfigTree, reportInvalid, type ConfigLevel } from './config.js';
import {
  isPlainRecord,
  isString,
  isStringOrStrings,
  lazySchema,
  oneOf,
  type LazySchema,
} from './lazy-schema.js';
import type { ProjectPaths } from './types.js';
import { bestIssue } from './zod-issues.js';
import { get, getPair, nodeAt, setOwn, toJs, type YNode } from './yaml-tree.js';

/** What dbt_project.yml / weir_project.yml says, validated. */
export interface ProjectFileInfo {
  name: string;
  version?: string;
  profileName?: string;
  paths: ProjectPaths;
  /** Whether docs-paths was set (dbt then searches only there, plus model paths for Weir). */
  docsConfigured: boolean;
  vars: Record<string, unknown>;
  trees: {
    models: ConfigLevel;
    seeds: ConfigLevel;
    snapshots: ConfigLevel;
    tests: ConfigLevel;
    sources: ConfigLevel;
    analyses: ConfigLevel;
  };
  onRunStart: string[];
  onRunEnd: string[];
  cleanTargets: string[];
}

/** Every top-level key dbt knows. Weir reads some, and accepts the rest without complaint. */
export const PROJECT_KEYS = [
  'name',
  'version',
  'config-version',
  'profile',
  'model-paths',
  'source-paths',
  'seed-paths',
  'data-paths',
  'macro-paths',
  'snapshot-paths',
  'test-paths',
  'analysis-paths',
  'docs-paths',
  'asset-paths',
  'function-paths',
  'target-path',
  'log-path',
  'packages-install-path',
  'clean-targets',
  'vars',
  'models',
  'seeds',
  'snapshots',
  'tests',
  'data_tests',
  'sources',
  'analyses',
  'exposures',
  'metrics',
  'semantic-models',
  'saved-queries',
  'unit_tests',
  'functions',
  'on-run-start',
  'on-run-end',
  'require-dbt-version',
  'quoting',
  'query-comment',
  'flags',
  'dispatch',
  'restrict-access',
  'dbt-cloud',
] as const;

const PROJECT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const pathList = lazySchema((z) => z.union([z.string(), z.array(z.string())]), isStringOrStrings);
const hookList = lazySchema(
  (z) => z.union([z.string(), z.array(z.string())]).nullable(),
  (v) => v === null || isStringOrStrings(v),
);

/** Types of the project file's keys, each with a plain check (see lazy-schema.ts). */
export const KEY_SCHEMAS: Readonly<Record<string, LazySchema>> = {
  name: lazySchema(
    (z) =>
      z
        .string()
        .regex(PROJECT_NAME, 'must contain only letters, digits and underscores, and not start with a digit'),
    (v) => isString(v) && PROJECT_NAME.test(v as string),
  ),
  version: lazySchema(
    (z) => z.union([z.string(), z.number()]),
    (v) => isString(v) || Number.isFinite(v),
  ),
  'config-version': lazySchema((z) => z.literal(2), oneOf([2])),
  profile: lazySchema((z) => z.string(), isString),
  'model-paths': pathList,
  'source-paths': pathList,
  'seed-paths': pathList,
  'data-paths': pathList,
  'macro-paths': pathList,
  'snapshot-paths': pathList,
  'test-paths': pathList,
  'analysis-paths': pathList,
  'docs-paths': pathList,
  'target-path': lazySchema((z) => z.string(), isString),
  'clean-targets': pathList,
  vars: lazySchema(
    (z) => z.record(z.string(), z.unknown()).nullable(),
    (v) => v === null || isPlainRecord(v),
  ),
  'on-run-start': hookList,
  'on-run-end': hookList,
};

export function readProjectFile(
  root: YNode | undefined,
  file: string,
  diags: Diagnostics,
  fallbackName = 'project',
): ProjectFileInfo | undefined {
  if (!root || root.kind !== 'map') {
    diags.error(PROJECT_CODES.missingKey, `${file} must be a mapping with at least a 'name'`, {
      at: { file, line: root?.loc.line ?? 1 },
      hint: 'start it with `name: my_project`',
    });
    return undefined;
  }
  const known = new Set<string>(PROJECT_KEYS);
  const valid = new Map<string, unknown>();
  for (const pair of root.pairs) {
    if (!known.has(pair.key)) {
      diags.warning(
        PROJECT_CODES.unknownProjectKey,
        `unknown key '${pair.key}' in ${file}; it is ignored.${didYouMean(pair.key, PROJECT_KEYS)}`,
        {
          at: { file, line: pair.keyLoc.line, column: pair.keyLoc.column },
          hint: 'remove it or fix its spelling',
        },
      );
      continue;
    }
    const schema = KEY_SCHEMAS[pair.key];
    const value = toJs(pair.value);
    if (schema) {
      const result = schema.safeParse(value);
      if (!result.success) {
        const issue = bestIssue(result.error);
        const culprit = issue ? nodeAt(pair.value, issue.path) : pair.value;
        reportInvalid(
          diags,
          file,
          culprit.loc,
          `'${pair.key}' in ${file}`,
          issue?.message ?? 'invalid value',
          culprit,
          projectKeyHint(pair.key),
        );
        continue;
      }
    }
    valid.set(pair.key, value);
  }

  const validName = valid.get('name');
  let name: string;
  if (typeof validName === 'string') {
    name = validName;
  } else {
    if (!getPair(root, 'name')) {
      diags.error(PROJECT_CODES.missingKey, `${file} has no 'name'`, {
        at: { file, line: 1 },
        hint: 'add `name: my_project` (letters, digits and underscores)',
      });
    }
    // Already an error; go on so that every other problem is reported too.
    name = fallbackName;
  }

  const pathsOf = (key: string, legacy: string | undefined, fallback: string[]): string[] => {
    const raw = valid.get(key) ?? (legacy ? valid.get(legacy) : undefined);
    if (raw === undefined || raw === null) return fallback;
    const list = typeof raw === 'string' ? [raw] : (raw as string[]);
    const out: string[] = [];
    for (const p of list) {
      const norm = normalizeRelPath(p);
      if (norm === undefined) {
        const node = get(root, valid.has(key) ? key : (legacy ?? key));
        diags.error(PROJECT_CODES.invalidValue, `'${key}' entry '${p}' is not a folder inside the project`, {
          at: { file, line: node?.loc.line ?? 1 },
          hint: 'use a path relative to the project root, e.g. models',
        });
        continue;
      }
      if (!out.includes(norm)) out.push(norm);
    }
    return out;
  };

  const models = pathsOf('model-paths', 'source-paths', ['models']);
  const seeds = pathsOf('seed-paths', 'data-paths', ['seeds']);
  const macros = pathsOf('macro-paths', undefined, ['macros']);
  const snapshots = pathsOf('snapshot-paths', undefined, ['snapshots']);
  const tests = pathsOf('test-paths', undefined, ['tests']);
  const analyses = pathsOf('analysis-paths', undefined, ['analyses']);
  const docsConfigured = valid.get('docs-paths') !== undefined && valid.get('docs-paths') !== null;
  const allResourcePaths = unique([...models, ...seeds, ...snapshots, ...analyses, ...macros, ...tests]);
  const docs = docsConfigured ? pathsOf('docs-paths', undefined, []) : allResourcePaths;
  const targetPath = valid.get('target-path');

  const testsTree = readConfigTree(get(root, 'tests'), 'tests', file, diags);
  const dataTestsTree = readConfigTree(get(root, 'data_tests'), 'data_tests', file, diags);
  mergeTrees(testsTree, dataTestsTree);

  const version = valid.get('version');
  const profile = valid.get('profile');
  return {
    name,
    ...(version !== undefined ? { version: String(version) } : {}),
    ...(typeof profile === 'string' ? { profileName: profile } : {}),
    paths: {
      models,
      seeds,
      macros,
      snapshots,
      tests,
      analyses,
      docs,
      target: typeof targetPath === 'string' ? targetPath : 'target',
    },
    docsConfigured,
    vars: flattenVars(valid.get('vars'), name),
    trees: {
      models: readConfigTree(get(root, 'models'), 'models', file, diags),
      seeds: readConfigTree(get(root, 'seeds'), 'seeds', file, diags),
      snapshots: readConfigTree(get(root, 'snapshots'), 'snapshots', file, diags),
      tests: testsTree,
      sources: readConfigTree(get(root, 'sources'), 'sources', file, diags),
      analyses: readConfigTree(get(root, 'analyses'), 'analyses', file, diags),
    },
    onRunStart: hooks(valid.get('on-run-start')),
    onRunEnd: hooks(valid.get('on-run-end')),
    cleanTargets: hooks(valid.get('clean-targets')),
  };
}

/** The layout of a project whose project file could not be read (dbt's defaults, no configs). */
export function defaultProjectInfo(name: string, file: string, diags: Diagnostics): ProjectFileInfo {
  const paths: ProjectPaths = {
    models: ['models'],
    seeds: ['seeds'],
    macros: ['macros'],
    snapshots: ['snapshots'],
    tests: ['tests'],
    analyses: ['analyses'],
    docs: ['models', 'seeds', 'snapshots', 'analyses', 'macros', 'tests'],
    target: 'target',
  };
  const tree = (section: string): ConfigLevel => readConfigTree(undefined, section, file, diags);
  return {
    name,
    paths,
    docsConfigured: false,
    vars: {},
    trees: {
      models: tree('models'),
      seeds: tree('seeds'),
      snapshots: tree('snapshots'),
      tests: tree('tests'),
      sources: tree('sources'),
      analyses: tree('analyses'),
    },
    onRunStart: [],
    onRunEnd: [],
    cleanTargets: [],
  };
}

function projectKeyHint(key: string): string {
  if (key === 'name') return 'use a name like my_project (letters, digits and underscores)';
  if (key.endsWith('-paths'))
    return `write ${key} as a list of folders, e.g. ${key}: ["${key.split('-')[0]}s"]`;
  if (key === 'config-version') return 'use config-version: 2 or remove the key';
  if (key === 'vars') return 'write vars: as a mapping of names to values';
  return `fix the value of '${key}'`;
}

/** A project-relative posix folder, or undefined when it leaves the project. */
export function normalizeRelPath(p: string): string | undefined {
  const slashed = p.replaceAll('\\', '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:\//.test(slashed)) return undefined;
  const norm = posix.normalize(slashed).replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../')) return undefined;
  return norm === '.' ? '' : norm;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

function hooks(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  return typeof value === 'string' ? [value] : (value as string[]);
}

/** dbt vars may be global or scoped under the project name; both land in one namespace here. */
function flattenVars(value: unknown, projectName: string): Record<string, unknown> {
  if (!isRecord(value)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== projectName) setOwn(out, k, v);
  const scoped = value[projectName];
  if (isRecord(scoped)) Object.assign(out, scoped);
  else if (scoped !== undefined) out[projectName] = scoped;
  return out;
}

function mergeTrees(into: ConfigLevel, from: ConfigLevel): void {
  Object.assign(into.configs, from.configs);
  for (const [key, child] of from.children) {
    const existing = into.children.get(key);
    if (existing) mergeTrees(existing, child);
    else into.children.set(key, child);
  }
}
