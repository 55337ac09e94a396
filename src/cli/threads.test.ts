import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { Project } from '../project/types.js';
import { defaultThreads, threadsFor } from './threads.js';

const project = (weir?: number, target?: number): Project =>
  ({ weir: { threads: weir }, target: { threads: target } }) as unknown as Project;

describe('threads', () => {
  it('defaults to the cores plus two', () => {
    expect(defaultThreads()).toBe(availableParallelism() + 2);
    expect(threadsFor(project())).toBe(availableParallelism() + 2);
  });

  it('takes --threads over weir.config.ts over the profile', () => {
    expect(threadsFor(project(3, 5), 7)).toBe(7);
    expect(threadsFor(project(3, 5))).toBe(3);
    expect(threadsFor(project(undefined, 5))).toBe(5);
  });
});
