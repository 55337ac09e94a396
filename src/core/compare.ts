/**
 * Orders strings by UTF-16 code units: the same on every machine and locale, and much cheaper than
 * `localeCompare`, whose first call builds an ICU collator (about 15 ms of a CLI's start).
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
