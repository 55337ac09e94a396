import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownModule, packageRoot, runningFromSource } from './package-root.js';

describe('packageRoot', () => {
  it("is the folder of Weir's own package.json, whatever depth the caller runs at", () => {
    const root = packageRoot();
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };
    expect(pkg.name).toBe('weir');
    expect(existsSync(join(root, 'templates', 'ecommerce'))).toBe(true);
  });

  it('points own modules at the tree the code runs from (sources under the test runner)', () => {
    expect(runningFromSource()).toBe(true);
    expect(ownModule('index')).toBe(join(packageRoot(), 'src', 'index.ts'));
    expect(ownModule('project/define-config')).toBe(
      join(packageRoot(), 'src', 'project', 'define-config.ts'),
    );
  });
});
