import { mkdir, writeFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Manifest, ManifestNode } from './manifest.js';
import type { RunSummary } from './run.js';

/**
 * dbt-compatible artifacts in the project's target folder: `manifest.json` (nodes, sources,
 * parent and child maps) and `run_results.json` (one entry per executed node), so tools that
 * read dbt artifacts read Weir's.
 */
const SCHEMA_MANIFEST = 'https://schemas.getdbt.com/dbt/manifest/v12.json';
const SCHEMA_RUN_RESULTS = 'https://schemas.getdbt.com/dbt/run-results/v6.json';

/** Writes `target/<name>` through a temporary file, so a reader never sees half of it. */
export async function writeArtifact(targetDir: string, name: string, text: string): Promise<void> {
  const path = join(targetDir, name);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/**
 * Indented JSON, BigInts as strings. A replacer function makes JSON.stringify several times
 * slower (a 1,000-model manifest: ~15 ms against ~45 ms) and BigInts are rare in artifacts, so
 * the replacer is used only when a plain stringify refuses one.
 */
function toJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
  }
}

function nodeJson(n: ManifestNode, compiled?: string): Record<string, unknown> {
  return {
    unique_id: n.id,
    name: n.name,
    resource_type: n.resourceType,
    package_name: n.packageName,
    path: n.path,
    original_file_path: n.path,
    fqn: n.fqn,
    tags: n.tags,
    config: n.config,
    depends_on: { nodes: n.dependsOn },
    schema: n.relation?.schema ?? null,
    alias: n.relation?.identifier ?? null,
    relation_name: n.relation ? `"${n.relation.schema}"."${n.relation.identifier}"` : null,
    description: n.description,
    columns: n.columns,
    raw_code: n.rawCode,
    ...(compiled !== undefined ? { compiled_code: compiled } : {}),
    ...(n.test
      ? {
          test_metadata: { name: n.test.testName, kwargs: n.test.kwargs },
          column_name: n.test.columnName ?? null,
        }
      : {}),
  };
}

export async function writeManifestJson(
  targetDir: string,
  manifest: Manifest,
  invocationId: string,
  compiled: ReadonlyMap<string, string> = new Map(),
): Promise<void> {
  await writeArtifact(targetDir, 'manifest.json', manifestJson(manifest, invocationId, compiled));
}

/** The text of `manifest.json`. */
export function manifestJson(
  manifest: Manifest,
  invocationId: string,
  compiled: ReadonlyMap<string, string> = new Map(),
): string {
  const nodes: Record<string, unknown> = {};
  const sources: Record<string, unknown> = {};
  const parentMap: Record<string, string[]> = {};
  const childMap: Record<string, string[]> = {};
  for (const n of manifest.nodes.values()) {
    (n.resourceType === 'source' ? sources : nodes)[n.id] = nodeJson(n, compiled.get(n.id));
    parentMap[n.id] = [...manifest.graph.parents(n.id)];
    childMap[n.id] = [...manifest.graph.children(n.id)];
  }
  return toJson({
    metadata: {
      dbt_schema_version: SCHEMA_MANIFEST,
      generator: 'weir',
      generated_at: new Date().toISOString(),
      invocation_id: invocationId,
      project_name: manifest.projectName,
    },
    nodes,
    sources,
    parent_map: parentMap,
    child_map: childMap,
  });
}

export async function writeRunResultsJson(
  targetDir: string,
  summary: RunSummary,
  args: Record<string, unknown>,
): Promise<void> {
  const text = toJson({
    metadata: {
      dbt_schema_version: SCHEMA_RUN_RESULTS,
      generator: 'weir',
      generated_at: new Date().toISOString(),
      invocation_id: summary.runId,
    },
    results: summary.results.map((r) => ({
      unique_id: r.nodeId,
      status: r.status,
      execution_time: r.durationMs / 1000,
      message: r.message,
      failures: r.failures ?? null,
      adapter_response: { rows_affected: r.rows, bytes_written: r.bytes, delta_version: r.version },
      ...(r.error ? { error_code: r.error.code } : {}),
      ...(r.compiledSql !== undefined ? { compiled_code: r.compiledSql } : {}),
    })),
    elapsed_time: summary.elapsedMs / 1000,
    args,
  });
  await writeArtifact(targetDir, 'run_results.json', text);
}
