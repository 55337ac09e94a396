import { ingestError } from './errors.js';
import { renderConnection, type StreamSettings } from './config.js';
import type { Redactor } from './redact.js';
import { PostgresSource, type PostgresConnection } from './sources/postgres/postgres-source.js';
import { FilesSource } from './sources/files/files-source.js';
import { RestSource } from './sources/rest/rest-source.js';
import { SOURCE_TYPES, type SourceConnector, type StreamSpec } from './types.js';

export interface ConnectorContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly redactor: Redactor;
  /** Absolute project root (relative file globs resolve against it). */
  readonly projectRoot: string;
}

/** Opens the connector of a stream's source; connection templates are rendered here, and only here. */
export function openConnector(spec: StreamSpec, ctx: ConnectorContext): SourceConnector {
  const at: StreamSettings['at'] = spec.at;
  const connection = renderConnection(spec.connection, ctx.env, (s) => ctx.redactor.add(s), at) as Record<
    string,
    unknown
  >;
  for (const v of Object.values(connection)) if (typeof v === 'string') ctx.redactor.addUrl(v);
  switch (spec.type) {
    case 'postgres':
      return new PostgresSource(connection as PostgresConnection, ctx.redactor, spec.sourceName);
    case 'rest':
      return new RestSource(connection, ctx.redactor, spec);
    case 'files':
      return new FilesSource(spec, ctx.projectRoot);
    default:
      throw ingestError(
        'unknownType',
        `source ${spec.sourceName}: type '${spec.type}' has no connector in this build`,
        {
          at: spec.at,
          hint: `use one of: ${SOURCE_TYPES.join(', ')} (see docs/ingestion.md for what is supported)`,
        },
      );
  }
}
