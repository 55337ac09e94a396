import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type * as Jiti from 'jiti';
import type { Diagnostics } from '../core/diagnostics.js';
import { errorMessage } from '../core/errors.js';
import { ownModule } from '../core/package-root.js';
import { didYouMean } from './close-names.js';
import { PROJECT_CODES } from './codes.js';
import { lazySchema } from './lazy-schema.js';
import type { WeirConfig, WeirConfigInput } from './types.js';

/** Looked up in this order at the project root; the first one found is loaded. */
export const WEIR_CONFIG_FILES = [
  'weir.config.ts',
  'weir.config.mts',
  'weir.config.js',
  'weir.config.mjs',
] as const;

/** The default export of weir.config.ts (built on first use, see lazy-schema.ts). */
export const weirConfigSchema = lazySchema((z) =>
  z.strictObject({
    lake: z.string().min(1).optional(),
    state: z
      .strictObject({
        type: z.literal('sqlite').optional(),
        path: z.string().min(1).optional(),
      })
      .optional(),
    threads: z.number().int().positive().optional(),
    checkpointInterval: z.number().int().positive().optional(),
  }),
);

const WEIR_CONFIG_KEYS = ['lake', 'state', 'threads', 'checkpointInterval'];

export function defaultWeirConfig(root: string): WeirConfig {
  return {
    lakeRoot: join(root, '.weir', 'lake'),
    state: { type: 'sqlite', path: join(root, '.weir', 'state.sqlite') },
    checkpointInterval: 10,
  };
}

/**
 * Loads weir.config.ts when the project has one. jiti (and its TypeScript transform) is imported
 * only then, because start-up time matters for every CLI command.
 */
export async function loadWeirConfig(
  root: string,
  rootFiles: ReadonlySet<string>,
  diags: Diagnostics,
): Promise<WeirConfig> {
  const fileName = WEIR_CONFIG_FILES.find((f) => rootFiles.has(f));
  if (!fileName) return defaultWeirConfig(root);
  const file = join(root, fileName);

  let exported: unknown;
  let source = '';
  try {
    source = await readFile(file, 'utf8');
    const { createJiti } = createRequire(import.meta.url)('jiti') as typeof Jiti;
    const jiti = createJiti(import.meta.url, {
      // weir.config.ts says `import { defineConfig } from 'weir'`; a project folder need not have
      // node_modules, so 'weir' is this package's own module, source or built.
      alias: { weir: ownModule('project/define-config') },
      moduleCache: false,
      interopDefault: true,
    });
    const mod = await jiti.import<Record<string, unknown>>(file);
    exported = mod.default;
    if (typeof exported === 'function') exported = await (exported as () => unknown)();
  } catch (err) {
    diags.error(PROJECT_CODES.weirConfigLoad, `${fileName} failed to load: ${errorMessage(err)}`, {
      at: { file: fileName, ...lineOfError(err, file) },
      hint: `fix the error in ${fileName}; it must \`export default defineConfig({...})\``,
    });
    return { ...defaultWeirConfig(root), configFile: file };
  }
  if (exported === undefined) {
    diags.error(PROJECT_CODES.weirConfigLoad, `${fileName} has no default export`, {
      at: { file: fileName },
      hint: "write `export default defineConfig({ ... })` with defineConfig imported from 'weir'",
    });
    return { ...defaultWeirConfig(root), configFile: file };
  }

  const result = weirConfigSchema.safeParse(exported);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const keys =
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((k) => [...issue.path.map(String), k].join('.'))
          : [];
      const key = keys.length > 0 ? keys.join(', ') : issue.path.map(String).join('.') || '(default export)';
      const lastKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path[issue.path.length - 1];
      const line = typeof lastKey === 'string' ? findKeyLine(source, lastKey) : undefined;
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown key ${keys.map((k) => `'${k}'`).join(', ')} in ${fileName}.${didYouMean(issue.keys[0] ?? '', WEIR_CONFIG_KEYS)}`
          : `invalid '${key}' in ${fileName}: ${issue.message}`;
      diags.error(PROJECT_CODES.invalidWeirConfig, message, {
        at: { file: fileName, ...(line ? { line } : {}) },
        hint: `valid keys: lake (folder), state: { type: 'sqlite', path }, threads (positive integer), checkpointInterval (positive integer)`,
      });
    }
    return { ...defaultWeirConfig(root), configFile: file };
  }
  return resolveWeirConfig(root, result.data, file);
}

export function resolveWeirConfig(root: string, input: WeirConfigInput, configFile?: string): WeirConfig {
  const base = defaultWeirConfig(root);
  const config: WeirConfig = {
    lakeRoot:
      input.lake === undefined ? base.lakeRoot : isUri(input.lake) ? input.lake : resolve(root, input.lake),
    state: {
      type: 'sqlite',
      path: input.state?.path === undefined ? base.state.path : resolve(root, input.state.path),
    },
    checkpointInterval: input.checkpointInterval ?? base.checkpointInterval,
  };
  if (input.threads !== undefined) config.threads = input.threads;
  if (configFile !== undefined) config.configFile = configFile;
  return config;
}

function isUri(p: string): boolean {
  return /^[a-z][a-z0-9+.-]+:\/\//i.test(p);
}

function findKeyLine(source: string, key: string): number | undefined {
  const re = new RegExp(`(^|[\\s{,])['"]?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]?\\s*:`, 'm');
  const m = re.exec(source);
  if (!m) return undefined;
  return source.slice(0, m.index + (m[1] ?? '').length).split('\n').length;
}

function lineOfError(err: unknown, file: string): { line?: number } {
  const stack = err instanceof Error ? (err.stack ?? '') : '';
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}:(\\d+)`).exec(stack);
  return m?.[1] ? { line: Number(m[1]) } : {};
}
