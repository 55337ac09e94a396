import { distance } from 'fastest-levenshtein';
import { compareText } from '../core/compare.js';

/** Up to `max` candidates that look like a typo of `name`, closest first. */
export function closeNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const lower = name.toLowerCase();
  const limit = Math.max(2, Math.floor(name.length / 3));
  const scored: { c: string; d: number }[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c)) continue;
    seen.add(c);
    const d = distance(lower, c.toLowerCase());
    if (d <= limit || (lower.length >= 4 && c.toLowerCase().includes(lower))) scored.push({ c, d });
  }
  scored.sort((a, b) => a.d - b.d || compareText(a.c, b.c));
  return scored.slice(0, max).map((s) => s.c);
}

/** ` Did you mean 'x' or 'y'?` or an empty string. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const close = closeNames(name, candidates);
  if (close.length === 0) return '';
  const quoted = close.map((c) => `'${c}'`);
  const list =
    quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
  return ` Did you mean ${list}?`;
}
