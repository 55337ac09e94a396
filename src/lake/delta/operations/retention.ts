const UNIT_MS: Readonly<Record<string, number>> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

export const DEFAULT_DELETED_FILE_RETENTION_MS = UNIT_MS['week'] as number;

/**
 * `delta.deletedFileRetentionDuration` (`interval 1 week`, `interval 36 hours`, ...) in ms; the
 * protocol default of one week when absent or unreadable.
 */
export function deletedFileRetentionMs(configuration: Readonly<Record<string, string>>): number {
  const text = configuration['delta.deletedFileRetentionDuration'];
  if (!text) return DEFAULT_DELETED_FILE_RETENTION_MS;
  const m = /^\s*(?:interval\s+)?(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*$/i.exec(text);
  const unit = m?.[2] ? UNIT_MS[m[2].toLowerCase()] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : DEFAULT_DELETED_FILE_RETENTION_MS;
}
