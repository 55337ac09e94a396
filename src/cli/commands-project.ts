import { existsSync, mkdir, readFileSync, writeFile } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { ResourceType } from '../core/graph.js';
import { select } from '../core/selection.js';
import { manifestJson, writeArtifact } from '../orchestrate/artifacts.js';
import { Compiler } from '../orchestrate/compile.js';
import { assetName, targetContext, type ManifestNode } from '../orchestrate/manifest.js';
import { newRunId, tablePathOf } from '../orchestrate/run-ids.js';
import { out, warnLine } from './format.js';
import { openWorkspace, type CommonOptions } from './workspace.js';

/**
 * The commands that only read the project: `compile` and `ls`. They live apart from commands.ts so
 * that they load neither the runner (materializations, Delta, quality checks) nor DuckDB or SQLite:
 * start-up is a large part of `weir compile` (bench/compile.bench.ts).
 */

export async function commandCompile(opts: CommonOptions): Promise<void> {
  const ws = await openWorkspace(opts, warnLine);
  const { project, manifest } = ws;
  const { ids, warnings } = select(manifest.graph, {
    ...(opts.select ? { select: opts.select } : {}),
    ...(opts.exclude ? { exclude: opts.exclude } : {}),
    resourceTypes: ['model', 'snapshot', 'test', 'analysis'],
  });
  for (const w of warnings) warnLine(w);
  const invocationId = newRunId();
  const compiler = new Compiler({
    manifest,
    templates: ws.templates,
    vars: ws.vars,
    env: ws.env,
    target: targetContext(project),
    runStartedAt: new Date(),
    invocationId,
    // No database: an incremental model compiles incrementally when its table is in the lake.
    isIncremental: (n) =>
      n.relation !== null && existsSync(join(project.weir.lakeRoot, tablePathOf(n.relation), '_delta_log')),
  });
  const compiled = new Map<string, string>();
  const targetDir = join(project.root, project.paths.target);
  const files = new Map<string, string>();
  for (const id of ids) {
    const node = manifest.nodes.get(id);
    if (
      !node ||
      (node.resourceType === 'model' && node.config.materialized === 'ephemeral' && ids.length > 1)
    )
      continue;
    const sql = compiler.compile(node);
    compiled.set(id, sql);
    const file = join(
      targetDir,
      'compiled',
      project.name,
      node.resourceType === 'test' && node.test?.kind === 'generic'
        ? join(node.path, `${node.name}.sql`)
        : node.path,
    );
    files.set(file, `${sql}\n`);
  }
  const written = writeChanged(files);
  // The manifest is serialised while the thread pool writes changed SQL files, and written after them.
  const manifestText = manifestJson(manifest, invocationId, compiled);
  await written;
  await writeArtifact(targetDir, 'manifest.json', manifestText);
  // `weir compile -s one_model` prints its SQL, as dbt does; tests selected with it do not count.
  const primary = [...compiled.keys()].filter((id) => manifest.nodes.get(id)?.resourceType !== 'test');
  if (opts.output === 'json') {
    out(JSON.stringify(Object.fromEntries(compiled), null, 2));
  } else if (primary.length === 1) {
    out(compiled.get(primary[0] ?? '') ?? '');
  } else {
    out(
      `Compiled ${compiled.size} nodes into ${relative(process.cwd(), join(targetDir, 'compiled')) || '.'}`,
    );
  }
}

export async function commandLs(opts: CommonOptions & { resourceType?: string[] }): Promise<void> {
  const ws = await openWorkspace(opts, warnLine);
  const { ids, warnings } = select(ws.manifest.graph, {
    ...(opts.select ? { select: opts.select } : {}),
    ...(opts.exclude ? { exclude: opts.exclude } : {}),
    ...(opts.resourceType ? { resourceTypes: opts.resourceType as ResourceType[] } : {}),
  });
  for (const w of warnings) warnLine(w);
  const nodes = ids.map((id) => ws.manifest.nodes.get(id)).filter((n): n is ManifestNode => n !== undefined);
  switch (opts.output) {
    case 'json':
      for (const n of nodes) {
        out(
          JSON.stringify({
            unique_id: n.id,
            name: n.name,
            resource_type: n.resourceType,
            asset: assetName(n),
            path: n.path,
            tags: n.tags,
            materialized: n.config.materialized,
            depends_on: n.dependsOn,
          }),
        );
      }
      break;
    case 'path':
      for (const n of nodes) out(n.path);
      break;
    case 'asset':
      for (const n of nodes) out(assetName(n) ?? n.id);
      break;
    default:
      for (const n of nodes) out(n.resourceType === 'source' ? `${n.sourceName}.${n.name}` : n.fqn.join('.'));
  }
}

/**
 * Writes the files whose content differs from what is on disk; unchanged files keep their bytes
 * and their mtime. Rewriting a file costs far more than reading it (on ext4 a truncate-and-write
 * is flushed on close): the 1,515 files of a 1,000-model project took ~130 ms to rewrite and
 * ~15 ms to read and compare, and a recompile mostly finds them unchanged.
 */
async function writeChanged(files: ReadonlyMap<string, string>): Promise<void> {
  const changed: [string, string][] = [];
  const dirExists = new Map<string, boolean>();
  for (const [file, text] of files) {
    const dir = dirname(file);
    let exists = dirExists.get(dir);
    if (exists === undefined) dirExists.set(dir, (exists = existsSync(dir)));
    let old: string | undefined;
    if (exists) {
      try {
        old = readFileSync(file, 'utf8');
      } catch {
        // Missing or unreadable: write it (a write failure is reported).
      }
    }
    if (old !== text) changed.push([file, text]);
  }
  const dirs = new Set(changed.map(([file]) => dirname(file)));
  await Promise.all([...dirs].map((d) => makeDir(d)));
  await Promise.all(changed.map(([file, text]) => writeText(file, text)));
}

// Callback fs rather than fs/promises: the FileHandle-based promise API adds several hops a file.
function makeDir(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    mkdir(path, { recursive: true }, (err) => (err ? reject(err) : resolve()));
  });
}

function writeText(path: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    writeFile(path, text, (err) => (err ? reject(err) : resolve()));
  });
}
