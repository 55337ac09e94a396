import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type * as Yaml from 'yaml';
import { DiagnosticsError, formatDiagnostic, type Diagnostic } from '../core/diagnostics.js';
import { WeirError } from '../core/errors.js';
import { buildManifest, type Manifest } from '../orchestrate/manifest.js';
import { loadProject } from '../project/load-project.js';
import type { Project } from '../project/types.js';
import type { LogFormat } from '../observe/logger.js';
import { ParseCache, TemplateEngine } from '../sql/index.js';

/** The parse cache's file in the target folder (see sql/parse-cache.ts). */
const PARSE_CACHE_FILE = 'partial_parse.bin';

/** Options every project command takes (one declarative table, see main.ts). */
export interface ProjectOptions {
  readonly projectDir?: string;
  readonly profilesDir?: string;
  readonly target?: string;
  readonly vars?: string;
}

/** What most commands take on top of the project options. */
export interface CommonOptions extends ProjectOptions {
  readonly logFormat?: LogFormat;
  readonly debug?: boolean;
  readonly select?: string[];
  readonly exclude?: string[];
  readonly output?: string;
}

export interface Workspace {
  readonly project: Project;
  readonly manifest: Manifest;
  readonly templates: TemplateEngine;
  readonly vars: Record<string, unknown>;
  readonly env: Record<string, string | undefined>;
}

export function parseVars(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  // The yaml package loads only when --vars is given: its start-up is a large part of `weir compile`.
  const { parse } = createRequire(import.meta.url)('yaml') as typeof Yaml;
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new WeirError('WEIR-U003', `--vars is not valid YAML: ${(err as Error).message.split('\n')[0]}`, {
      hint: `pass a mapping, e.g. --vars '{start_date: "2024-01-01"}'`,
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WeirError('WEIR-U003', '--vars must be a YAML mapping', { hint: `e.g. --vars '{key: value}'` });
  }
  return value as Record<string, unknown>;
}

/** Reads, validates and parses the project; every problem is reported at once. */
export async function openWorkspace(
  options: ProjectOptions,
  warn: (text: string) => void,
): Promise<Workspace> {
  const root = resolve(options.projectDir ?? process.cwd());
  const vars = parseVars(options.vars);
  const env = { ...process.env };
  const { project, diagnostics } = await loadProject(root, {
    ...(options.target ? { target: options.target } : {}),
    ...(options.profilesDir ? { profilesDir: resolve(options.profilesDir) } : {}),
    vars,
    env,
  });
  // Keep going after project problems so one run reports template and ref problems too.
  const all: Diagnostic[] = [...diagnostics];
  const parseCachePath = join(project.root, project.paths.target, PARSE_CACHE_FILE);
  const parseCache = ParseCache.decode(await readFile(parseCachePath).catch(() => undefined));
  let templates: TemplateEngine;
  try {
    templates = new TemplateEngine({ projectName: project.name, macroFiles: project.macroFiles, parseCache });
  } catch (err) {
    if (!(err instanceof DiagnosticsError)) throw err;
    all.push(...err.diagnostics);
    templates = new TemplateEngine({ projectName: project.name, macroFiles: [], parseCache });
  }
  all.push(...templates.warnings);
  const built = buildManifest(project, templates, { vars: project.vars, env });
  if (parseCache.changed) await saveParseCache(parseCachePath, parseCache);
  all.push(...built.diagnostics.items);
  for (const d of all) if (d.severity === 'warning') warn(formatDiagnostic(d));
  if (all.some((d) => d.severity === 'error')) throw new DiagnosticsError(all);
  return { project, manifest: built.manifest, templates, vars: project.vars, env };
}

/**
 * Writes the parse cache through a temporary file. A cache that cannot be written (a read-only
 * project) only means parsing again next time, so failures are ignored.
 */
async function saveParseCache(path: string, cache: ParseCache): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await mkdir(resolve(path, '..'), { recursive: true });
    await writeFile(tmp, cache.encode());
    await rename(tmp, path);
  } catch {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}
