import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DiagnosticsError, formatDiagnostic } from '../core/diagnostics.js';
import { WeirError } from '../core/errors.js';
import type { QualityStore } from '../core/quality-store.js';
import type { Manifest } from '../orchestrate/manifest.js';
import type { ContractSet } from '../orchestrate/audit.js';
import type { Project } from '../project/types.js';

/*
 * Quality plumbing of the CLI: the run clock, the quality history store, contracts. SQLite and the
 * contract parser are imported lazily so that `weir compile` never loads them.
 */

/** Where the official ODCS JSON schema may be found: WEIR_ODCS_SCHEMA, or the project's copy. */
export const ODCS_SCHEMA_FILE = 'contracts/odcs-json-schema.json';

/** The run's clock: WEIR_NOW (an ISO time) pins it, so history can be replayed in tests and backfills. */
export function qualityClock(env: Record<string, string | undefined> = process.env): () => Date {
  const pinned = env['WEIR_NOW'];
  if (!pinned) return () => new Date();
  const t = Date.parse(pinned);
  if (!Number.isFinite(t)) {
    throw new WeirError('WEIR-Q042', `WEIR_NOW='${pinned}' is not an ISO date-time`, {
      hint: 'e.g. WEIR_NOW=2024-03-01T06:00:00Z, or unset it to use the system clock',
    });
  }
  return () => new Date(t);
}

export async function openQualityStore(project: Project): Promise<QualityStore> {
  const { openSqliteQualityStore } = await import('../state/sqlite/sqlite-quality-store.js');
  return openSqliteQualityStore(project.weir.state.path);
}

async function readOfficialSchema(
  project: Project,
  env: Record<string, string | undefined>,
): Promise<object | undefined> {
  const configured = env['WEIR_ODCS_SCHEMA'];
  const path = configured ? resolve(project.root, configured) : join(project.root, ODCS_SCHEMA_FILE);
  if (!configured && !existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as object;
  } catch (err) {
    throw new WeirError('WEIR-Q022', `cannot read the ODCS JSON schema ${path}: ${(err as Error).message}`, {
      hint: 'point WEIR_ODCS_SCHEMA at odcs-json-schema-v3.1.0.json from bitol-io/open-data-contract-standard',
    });
  }
}

/** Parses and binds the project's contracts; errors stop the command (all at once), warnings print. */
export async function projectContracts(
  project: Project,
  manifest: Manifest,
  warn: (text: string) => void,
  env: Record<string, string | undefined> = process.env,
): Promise<ContractSet> {
  const { loadContracts } = await import('../orchestrate/audit.js');
  const officialSchema = await readOfficialSchema(project, env);
  const set = loadContracts(manifest, project.contracts, officialSchema ? { officialSchema } : {});
  const errors = set.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new DiagnosticsError(errors);
  for (const d of set.diagnostics) warn(formatDiagnostic(d));
  return set;
}
