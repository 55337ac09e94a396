// Kept apart from config.ts (zod): the CLI registers its ingest commands on every start and needs
// only this, so `weir build` does not load the validation schemas.

/** The settings of one stream as the project layer read them from `sources/*.yml` (or defineSource). */
export interface StreamSettings {
  readonly sourceName: string;
  readonly streamName: string;
  /** Source-level keys (`type`, `connection`, defaults for the tables). */
  readonly source: Readonly<Record<string, unknown>>;
  /** Table-level keys (`incremental`, `primary_key`, connector settings...). */
  readonly table: Readonly<Record<string, unknown>>;
  readonly at: { readonly file: string; readonly line?: number };
}

/** The settings of a declared source table (a `SourceTable` of the project, by shape). */
export function streamSettingsOf(s: {
  readonly sourceName: string;
  readonly name: string;
  readonly ingest?: {
    readonly source?: Readonly<Record<string, unknown>>;
    readonly table?: Readonly<Record<string, unknown>>;
  };
  readonly at: StreamSettings['at'];
}): StreamSettings {
  return {
    sourceName: s.sourceName,
    streamName: s.name,
    source: s.ingest?.source ?? {},
    table: s.ingest?.table ?? {},
    at: s.at,
  };
}
