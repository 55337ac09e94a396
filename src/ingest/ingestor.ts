import { quoteIdent, type EngineSession } from '../core/engine.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { DeltaTable } from '../lake/delta/table.js';
import type { ObjectStore } from '../lake/object-store.js';
import { parseStreamSettings, type StreamSettings } from './config.js';
import { openConnector } from './connectors.js';
import {
  ConversionEngines,
  conversionOptions,
  type ConversionEngineOptions,
  type ConversionLease,
  type OpenConversionEngine,
} from './landing/conversion.js';
import { landStream, type LoadReport } from './landing/land.js';
import { Redactor } from './redact.js';
import { resolvedSchema, streamTableName, type DiscoveredStream, type StreamSpec } from './types.js';

export interface IngestorOptions {
  readonly lake: ObjectStore;
  readonly logger?: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly projectRoot: string;
  readonly checkpointInterval?: number;
  readonly chunkRows?: number;
  /**
   * Opens the engine Postgres COPY chunks are converted on (bounded threads and memory, see
   * landing/conversion.ts). Without it they are converted on the run's session, with its settings.
   */
  readonly openConversionEngine?: OpenConversionEngine;
  /** Overrides of the conversion engine's defaults (2 threads, DuckDB's memory_limit). */
  readonly conversion?: Partial<ConversionEngineOptions>;
  /** Called after a stream landed (mirror the cursor and counts to the state store); values are redacted. */
  readonly onLanded?: (landed: LandedStream) => Promise<void>;
}

export interface LandedStream {
  readonly runId: string;
  readonly spec: StreamSpec;
  readonly report: LoadReport;
  /** `raw.<s>__<t>` or `staging.<s>__<t>`: what `source()` resolves to. */
  readonly asset: string;
  /** Absolute location of that table. */
  readonly location: string;
}

export interface IngestOutcome {
  readonly status: 'success';
  readonly rows: number;
  readonly bytes: number;
  readonly version: number | null;
  readonly message: string;
  readonly report: LoadReport;
}

const VIEW_ATTEMPTS = 5;

/** Loads streams into the raw zone and publishes the asset `source()` resolves to as a view. */
export class Ingestor {
  private readonly conversion: ConversionEngines | undefined;

  constructor(private readonly options: IngestorOptions) {
    this.conversion = options.openConversionEngine
      ? new ConversionEngines(options.openConversionEngine, conversionOptions(options.conversion))
      : undefined;
  }

  async ingest(
    settings: StreamSettings,
    session: EngineSession,
    context: { runId: string },
  ): Promise<IngestOutcome> {
    const redactor = new Redactor();
    try {
      const spec = parseStreamSettings(settings);
      const connector = openConnector(spec, {
        env: this.options.env,
        redactor,
        projectRoot: this.options.projectRoot,
      });
      let report: LoadReport;
      let convert: ConversionLease | undefined;
      try {
        // Only Postgres streams arrive as bulk files DuckDB converts whole; the others are parsed in JS.
        if (spec.type === 'postgres') convert = await this.conversion?.session();
        report = await landStream(
          {
            lake: this.options.lake,
            session,
            ...(convert ? { convertSession: convert.session } : {}),
            logger: this.options.logger ?? silentLogger,
            ...(this.options.checkpointInterval
              ? { checkpointInterval: this.options.checkpointInterval }
              : {}),
            ...(this.options.chunkRows ? { chunkRows: this.options.chunkRows } : {}),
          },
          { spec, connector, runId: context.runId },
        );
      } finally {
        await connector.close();
        await convert?.release();
      }
      const schema = resolvedSchema(spec.writeDisposition);
      const path = `${schema}/${streamTableName(spec)}`;
      const location = this.options.lake.localPath(path);
      await this.publishView(session, schema, streamTableName(spec), path);
      const safe = redactor.value(report);
      await this.options.onLanded?.({
        runId: context.runId,
        spec,
        report: safe,
        asset: `${schema}.${streamTableName(spec)}`,
        location,
      });
      return {
        status: 'success',
        rows: safe.rowsLoaded,
        bytes: safe.bytes,
        version: safe.rawVersion,
        message: summarize(safe),
        report: safe,
      };
    } catch (err) {
      throw redactor.error(err);
    }
  }

  /** The streams of one source with their inferred schemas. */
  async discover(settings: StreamSettings): Promise<DiscoveredStream[]> {
    const redactor = new Redactor();
    try {
      const spec = parseStreamSettings(settings);
      const connector = openConnector(spec, {
        env: this.options.env,
        redactor,
        projectRoot: this.options.projectRoot,
      });
      try {
        return await connector.discover();
      } finally {
        await connector.close();
      }
    } catch (err) {
      throw redactor.error(err);
    }
  }

  private async publishView(
    session: EngineSession,
    schema: string,
    name: string,
    path: string,
  ): Promise<void> {
    const table = await DeltaTable.open(this.options.lake, path, session);
    const snap = await table.latestSnapshot();
    if (!snap) return;
    const sql = `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}; CREATE OR REPLACE VIEW ${quoteIdent(schema)}.${quoteIdent(name)} AS ${table.scanSql(snap)}`;
    // Other sessions create views at the same time; DuckDB reports a catalog conflict, not a wait.
    for (let attempt = 1; ; attempt++) {
      try {
        await session.exec(sql);
        return;
      } catch (err) {
        if (attempt >= VIEW_ATTEMPTS || !/conflict/i.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 20 * attempt));
      }
    }
  }
}

function summarize(r: LoadReport): string {
  if (r.status === 'up_to_date')
    return `up to date (read ${r.rowsRead}, cursor ${JSON.stringify(r.cursor?.value ?? null)})`;
  const parts = [`loaded ${r.rowsLoaded}`];
  if (r.rowsDeadLettered > 0) parts.push(`${r.rowsDeadLettered} dead-lettered`);
  if (r.rowsAlreadyLanded > 0) parts.push(`${r.rowsAlreadyLanded} already landed`);
  return `${parts.join(', ')} of ${r.rowsRead} read (load ${r.loadSeq}${r.cursor?.value !== undefined ? `, cursor ${JSON.stringify(r.cursor.value)}` : ''})`;
}
