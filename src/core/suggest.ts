import { distance } from 'fastest-levenshtein';

/** Edits allowed at most, whatever the length: beyond this a "suggestion" is noise. */
const MAX_DISTANCE = 3;
/** Share of the longer string that must survive the edits (commander uses the same 0.4 floor). */
const MIN_SIMILARITY = 0.4;
/** Shorter strings than this are contained in too many names to be a useful substring match. */
const MIN_SUBSTRING = 3;

/**
 * The candidates closest to a misspelt `name`, best first: an exact or case-insensitive match,
 * then by edit distance (an adjacent transposition such as `tga`/`tag` counts as one edit), then
 * names containing it or contained in it. Only reasonably close names are returned, so an empty
 * array means "nothing worth suggesting".
 */
export function suggest(name: string, candidates: Iterable<string>, max = 3): string[] {
  if (max <= 0) return [];
  const wanted = name.toLowerCase();
  const scored: Array<{ candidate: string; rank: number; score: number }> = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    const lower = candidate.toLowerCase();
    if (lower === wanted) {
      scored.push({ candidate, rank: 0, score: candidate === name ? 0 : 1 });
      continue;
    }
    const d = editDistance(wanted, lower);
    const longest = Math.max(wanted.length, lower.length);
    if (d <= MAX_DISTANCE && (longest - d) / longest > MIN_SIMILARITY) {
      scored.push({ candidate, rank: 1, score: d });
      continue;
    }
    const shortest = Math.min(wanted.length, lower.length);
    if (shortest >= MIN_SUBSTRING && (lower.includes(wanted) || wanted.includes(lower))) {
      scored.push({ candidate, rank: 2, score: longest - shortest });
    }
  }
  scored.sort(
    (a, b) =>
      a.rank - b.rank ||
      a.score - b.score ||
      (a.candidate < b.candidate ? -1 : a.candidate > b.candidate ? 1 : 0),
  );
  return scored.slice(0, max).map((s) => s.candidate);
}

/** Levenshtein, except that one swap of adjacent characters costs 1 (the commonest typo). */
function editDistance(a: string, b: string): number {
  const d = distance(a, b);
  if (d !== 2 || a.length !== b.length) return d;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (first >= 0) {
      return i === first + 1 && a[first] === b[i] && a[i] === b[first] && a.slice(i + 1) === b.slice(i + 1)
        ? 1
        : d;
    }
    first = i;
  }
  return d;
}
