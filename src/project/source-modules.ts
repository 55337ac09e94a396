import { createRequire } from 'node:module';
import { join, posix } from 'node:path';
import type * as Jiti from 'jiti';
import type * as Yaml from 'yaml';
import { glob } from 'tinyglobby';
import type { Diagnostics } from '../core/diagnostics.js';
import { errorMessage } from '../core/errors.js';
import { ownModule } from '../core/package-root.js';

/** The ingest layer's code for a `sources/*.ts` file that fails to load (see src/ingest/README.md). */
const SOURCE_MODULE_CODE = 'WEIR-I017';
/** `defineSource` marks its result with this registry symbol (src/ingest/define-source.ts). */
const SOURCE_MARK = Symbol.for('weir.source');

/** A `sources/*.ts` file turned into the YAML it is equivalent to, read like `sources/*.yml`. */
export interface SourceModuleEntry {
  readonly rel: string;
  readonly abs: string;
  readonly kind: 'sources';
  readonly dirParts: readonly string[];
  readonly stem: string;
  readonly ext: 'yml';
  readonly isDoc: false;
  text: string;
}

/**
 * Loads `sources/**\/*.ts` with jiti (only when there is one: start-up time matters) and returns
 * each as the `sources:` YAML its `defineSource(...)` exports stand for.
 */
export async function readSourceModules(root: string, diags: Diagnostics): Promise<SourceModuleEntry[]> {
  const files = (
    await glob(['sources/**/*.ts'], {
      cwd: root,
      onlyFiles: true,
      ignore: ['**/*.d.ts', '**/*.test.ts', '**/node_modules/**'],
    })
  ).sort();
  if (files.length === 0) return [];
  const load = createRequire(import.meta.url);
  const { createJiti } = load('jiti') as typeof Jiti;
  const { stringify } = load('yaml') as typeof Yaml;
  const jiti = createJiti(import.meta.url, {
    alias: { weir: ownModule('index') },
    moduleCache: false,
    interopDefault: false,
  });
  const out: SourceModuleEntry[] = [];
  for (const rel of files) {
    const abs = join(root, rel);
    let sources: unknown[];
    try {
      const mod = await jiti.import<Record<string, unknown>>(abs);
      sources = Object.values(mod)
        .flatMap((v) => (Array.isArray(v) ? (v as unknown[]) : [v]))
        .filter(
          (v) => typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[SOURCE_MARK] === true,
        )
        .map((v) => (v as { source: unknown }).source);
    } catch (err) {
      diags.error(SOURCE_MODULE_CODE, `${rel} failed to load: ${errorMessage(err)}`, {
        at: { file: rel },
        hint: "fix the error; the file must export defineSource({...}) imported from 'weir'",
      });
      continue;
    }
    if (sources.length === 0) {
      diags.error(SOURCE_MODULE_CODE, `${rel} exports no source`, {
        at: { file: rel },
        hint: "export the result of defineSource({...}) (default or named), imported from 'weir'",
      });
      continue;
    }
    const base = posix.basename(rel);
    out.push({
      rel,
      abs,
      kind: 'sources',
      dirParts: rel.split('/').slice(1, -1),
      stem: base.slice(0, -3),
      ext: 'yml',
      isDoc: false,
      text: stringify({ version: 2, sources }),
    });
  }
  return out;
}
