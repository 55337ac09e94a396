import type { z } from 'zod';

export interface IssueAt {
  readonly message: string;
  readonly path: readonly PropertyKey[];
}

/**
 * The most specific problem in a zod error. A union reports only "Invalid input"; the branch issue
 * that got deepest into the value says what is actually wrong (`tags: [1]`: item 0 is not a string).
 */
export function bestIssue(error: z.ZodError): IssueAt | undefined {
  let best: IssueAt | undefined;
  const visit = (issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]): void => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      for (const branch of issue.errors) for (const inner of branch) visit(inner, path);
      return;
    }
    if (!best || path.length > best.path.length) best = { message: issue.message, path };
  };
  for (const issue of error.issues) visit(issue, []);
  return best;
}
