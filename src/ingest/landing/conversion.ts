import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteLiteral, type Engine, type EngineSession } from '../../core/engine.js';

/**
 * The engine bulk chunks (Postgres COPY files) are converted to raw Parquet on. It is not the
 * run's engine: DuckDB's thread count, memory limit and insertion-order setting are per database,
 * so bounding the ingest there would also bound every model built at the same time.
 */
export interface ConversionEngineOptions {
  /** DuckDB threads. */
  readonly threads: number;
  /**
   * DuckDB `memory_limit` (CSV buffers, row groups waiting to be written; spills beyond it).
   * Default: DuckDB's (80% of RAM). A ceiling, not what sets the peak: 128MB or 256MB left a
   * 10-column load's RSS unchanged, while 256MB made a 41-column text table fail with "Out of
   * Memory" (each thread buffers a row group of 122,880 rows) that loads with 512MB (spilling,
   * half the speed) or without a limit.
   */
  readonly memoryLimit?: string;
}

/** Opens an engine with these options (the CLI maps it onto the embedded DuckDB). */
export type OpenConversionEngine = (options: ConversionEngineOptions) => Promise<Engine>;

/**
 * Two threads: one COPY stream comes from one Postgres backend, and two DuckDB threads convert
 * about twice as fast as it sends (1.0-1.3M vs 0.5-0.65M rows/s for 10 mixed columns on 2 cores),
 * while each thread adds a row group buffer and a CSV buffer to the peak.
 */
export const DEFAULT_CONVERSION_THREADS = 2;

export function conversionOptions(overrides: Partial<ConversionEngineOptions> = {}): ConversionEngineOptions {
  return {
    threads: overrides.threads ?? Math.min(DEFAULT_CONVERSION_THREADS, availableParallelism()),
    ...(overrides.memoryLimit ? { memoryLimit: overrides.memoryLimit } : {}),
  };
}

/**
 * Settings of the conversion database, each measured (bench/ingest-postgres.bench.ts):
 * - `preserve_insertion_order = false`: raw rows have no order; an order-preserving COPY buffers
 *   three times the row groups and runs at half the speed. Dead-letter row numbers stay exact:
 *   `row_number() OVER ()` is a streaming window, which DuckDB always runs in scan order.
 * - `allocator_bulk_deallocation_flush_threshold = '4MB'`: without jemalloc (the Node package
 *   uses glibc malloc), memory DuckDB frees after each row group or CSV buffer stays in malloc's
 *   per-thread arenas; RSS kept 300-370 MB for a 100-150 MB working set. Freeing more than this
 *   at once (releasing an 8 MB CSV buffer does; 12MB and up never triggered) makes DuckDB return
 *   free memory to the OS (`malloc_trim`, at most every 100 ms): peak RSS 360 -> 245 MB for 10M
 *   rows, for ~2.5 s more system CPU (the pages are faulted in again) and 5-10 points of the
 *   COPY limit, which the faster COPY splitter buys back.
 * - `temp_directory`: spills (a large de-duplication join, a wide table under a set memory_limit)
 *   go to the system temp folder instead of `.tmp` in the working directory.
 */
function setupSql(tempDir: string): string {
  return [
    'SET preserve_insertion_order = false',
    "SET allocator_bulk_deallocation_flush_threshold = '4MB'",
    `SET temp_directory = ${quoteLiteral(tempDir)}`,
  ].join('; ');
}

/** A session on the conversion engine; `release` closes it (and the engine after its last user). */
export interface ConversionLease {
  readonly session: EngineSession;
  release(): Promise<void>;
}

/**
 * One conversion engine for the streams loading at the same time, so its memory limit bounds
 * them together; opened by the first, closed when the last one finishes.
 */
export class ConversionEngines {
  private current: Promise<{ engine: Engine; tempDir: string }> | undefined;
  private users = 0;

  constructor(
    private readonly open: OpenConversionEngine,
    private readonly options: ConversionEngineOptions,
  ) {}

  async session(): Promise<ConversionLease> {
    this.users++;
    try {
      this.current ??= this.start();
      const { engine } = await this.current;
      const session = await engine.session();
      let released = false;
      return {
        session,
        release: async () => {
          if (released) return;
          released = true;
          session.close();
          await this.leave();
        },
      };
    } catch (err) {
      await this.leave();
      throw err;
    }
  }

  private async start(): Promise<{ engine: Engine; tempDir: string }> {
    const tempDir = await mkdtemp(join(tmpdir(), 'weir-convert-'));
    let engine: Engine | undefined;
    try {
      engine = await this.open(this.options);
      const setup = await engine.session();
      try {
        await setup.exec(setupSql(tempDir));
      } finally {
        setup.close();
      }
      return { engine, tempDir };
    } catch (err) {
      await engine?.close();
      await rm(tempDir, { recursive: true, force: true });
      throw err;
    }
  }

  private async leave(): Promise<void> {
    if (--this.users > 0) return;
    const opened = this.current;
    this.current = undefined;
    const started = await opened?.catch(() => undefined);
    if (!started) return;
    await started.engine.close();
    await rm(started.tempDir, { recursive: true, force: true });
  }
}
