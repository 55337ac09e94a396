import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The folder of Weir's own package.json. Found by walking up from this module rather than by a
 * fixed `../..`: the CLI runs from a bundle (dist/bin and its chunks), the library from dist/, and
 * tests from src/, each at a different depth.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'weir') return (root = dir);
    }
    const up = dirname(dir);
    if (up === dir)
      throw new Error(`Weir's package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Whether this code runs from TypeScript sources (tests, jiti) rather than the built dist/. */
export function runningFromSource(): boolean {
  return extname(fileURLToPath(import.meta.url)) === '.ts';
}

/**
 * A module of Weir's own, from the tree this code runs from: `src/<path>.ts` from sources,
 * `dist/<path>.js` when built (bundled or not). `path` has no extension, e.g. `index` or
 * `project/define-config`. Falls back to the other tree when the first is absent.
 */
export function ownModule(path: string): string {
  const src = join(packageRoot(), 'src', `${path}.ts`);
  const dist = join(packageRoot(), 'dist', `${path}.js`);
  const [first, second] = runningFromSource() ? [src, dist] : [dist, src];
  return existsSync(first) ? first : second;
}
