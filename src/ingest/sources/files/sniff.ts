import chardet from 'chardet';
import iconv from 'iconv-lite';

export const FILE_FORMATS = ['csv', 'json', 'ndjson', 'parquet'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** A file's format and compression from its name: `a.csv.gz` -> csv, gzip. */
export function formatOf(path: string): { format: FileFormat | undefined; gzip: boolean } {
  const lower = path.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const name = gzip ? lower.slice(0, -3) : lower;
  const ext = name.slice(name.lastIndexOf('.') + 1);
  const format: FileFormat | undefined =
    ext === 'csv' || ext === 'tsv' || ext === 'txt'
      ? 'csv'
      : ext === 'json'
        ? 'json'
        : ext === 'ndjson' || ext === 'jsonl'
          ? 'ndjson'
          : ext === 'parquet'
            ? 'parquet'
            : undefined;
  return { format, gzip };
}

/** The text encoding of a sample, as iconv-lite names it (UTF-8 when unsure or unsupported). */
export function detectEncoding(sample: Uint8Array): string {
  if (sample.length === 0) return 'utf8';
  const found = chardet.detect(sample);
  if (!found) return 'utf8';
  // ASCII is a subset of UTF-8; ISO-8859-1 text is read as windows-1252, its usual real encoding.
  const name = found === 'ISO-8859-1' ? 'windows-1252' : found;
  return iconv.encodingExists(name) ? name : 'utf8';
}

const DELIMITERS = [',', ';', '\t', '|'] as const;

/** Counts a delimiter outside double quotes. */
function countOutsideQuotes(line: string, d: string, quote: string): number {
  let n = 0;
  let inQuotes = false;
  for (const ch of line) {
    if (ch === quote) inQuotes = !inQuotes;
    else if (ch === d && !inQuotes) n++;
  }
  return n;
}

/**
 * The delimiter of a CSV sample: the candidate appearing the same number of times on most of the
 * first lines (ragged lines must not derail it), most often overall on ties.
 */
export function detectDelimiter(sample: string, quote = '"'): string {
  const lines = sample
    .split(/\r?\n/)
    .slice(0, 20)
    .filter((l) => l.trim() !== '');
  let best: { d: string; score: number; total: number } = { d: ',', score: 0, total: 0 };
  for (const d of DELIMITERS) {
    const counts = lines.map((l) => countOutsideQuotes(l, d, quote));
    const freq = new Map<number, number>();
    for (const c of counts) if (c > 0) freq.set(c, (freq.get(c) ?? 0) + 1);
    const score = Math.max(0, ...freq.values());
    const total = counts.reduce((a, b) => a + b, 0);
    if (score > best.score || (score === best.score && total > best.total)) best = { d, score, total };
  }
  return best.d;
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** A CSV cell as a JSON value: '' -> null, numbers, true/false; everything else stays text. */
export function typedCell(cell: string): string | number | boolean | null {
  if (cell === '') return null;
  if (NUMBER.test(cell)) {
    const n = Number(cell);
    if (Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n) || cell.includes('.')))
      return n;
    return cell;
  }
  if (cell === 'true' || cell === 'false') return cell === 'true';
  return cell;
}

/**
 * Whether the first CSV row is a header: unique non-empty cells that are none of number, boolean
 * or date, while some later row has such a typed cell, or every cell reads like a column name.
 */
export function looksLikeHeader(first: readonly string[], rest: readonly (readonly string[])[]): boolean {
  if (first.length === 0) return false;
  const plain = (c: string): boolean => typeof typedCell(c) === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(c);
  if (!first.every((c) => c.trim() !== '' && plain(c))) return false;
  if (new Set(first).size !== first.length) return false;
  const typedLater = rest.some((r) => r.some((c) => c !== '' && !plain(c)));
  return typedLater || first.every((c) => /^[A-Za-z_][\w .-]{0,63}$/.test(c));
}
