const THRESHOLD = /^\s*(!=|<>|>=|<=|==|=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/;

/** dbt's `warn_if` / `error_if`: a comparison applied to the failure count, e.g. `!= 0`, `>10`. */
export function thresholdHit(condition: string, failures: number): boolean {
  const m = THRESHOLD.exec(condition);
  if (!m) return failures !== 0;
  const n = Number(m[2]);
  switch (m[1]) {
    case '!=':
    case '<>':
      return failures !== n;
    case '>=':
      return failures >= n;
    case '<=':
      return failures <= n;
    case '>':
      return failures > n;
    case '<':
      return failures < n;
    default:
      return failures === n;
  }
}

export function isValidThreshold(condition: string): boolean {
  return THRESHOLD.test(condition);
}
