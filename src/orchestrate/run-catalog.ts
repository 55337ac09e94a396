import { quoteIdent, type Engine, type EngineSession } from '../core/engine.js';
import { Mutex } from './lock.js';

/** A relation as the run's engine names it. */
export interface RelationName {
  readonly schema: string;
  readonly identifier: string;
}

/** What the run's engine holds under an asset's name. */
type Held =
  | { readonly kind: 'view' }
  /** An in-memory table; `backing` is set when the name is a typing view over a hidden table. */
  | { readonly kind: 'table'; readonly bytes: number; readonly backing?: string };

/** A table whose last committed version had more rows than this is streamed to Parquet only. */
export const HOT_TABLE_MAX_PREVIOUS_ROWS = 1_000_000;
/** An in-memory copy larger than this is dropped after its commit. */
export const HOT_TABLE_MAX_BYTES = 64 * 1024 * 1024;
/** All in-memory copies of one engine together stay below this. */
export const HOT_TABLES_MAX_BYTES = 512 * 1024 * 1024;

export function qualified(rel: RelationName): string {
  return `${quoteIdent(rel.schema)}.${quoteIdent(rel.identifier)}`;
}

/**
 * The run engine's catalog: what each asset name currently is there, and the one lock every
 * catalog change goes through (runs of a backfill share the engine, and DuckDB refuses
 * concurrent writes to one catalog entry).
 *
 * An asset is either a view (over its Delta snapshot, or a view model's SQL) or, for a table
 * built in this engine, an in-memory copy of exactly the rows just committed. Downstream
 * models and tests then read memory instead of binding and scanning Parquet again; the Delta
 * table stays the only thing published (the query catalog always points at the lake).
 */
export class RunCatalog {
  private static readonly byEngine = new WeakMap<Engine, RunCatalog>();

  constructor(
    private readonly limits = { tableBytes: HOT_TABLE_MAX_BYTES, totalBytes: HOT_TABLES_MAX_BYTES },
  ) {}

  static of(engine: Engine): RunCatalog {
    let catalog = RunCatalog.byEngine.get(engine);
    if (!catalog) {
      catalog = new RunCatalog();
      RunCatalog.byEngine.set(engine, catalog);
    }
    return catalog;
  }

  private readonly ddl = new Mutex();
  private readonly held = new Map<string, Held>();
  private hotBytes = 0;

  /** Estimated bytes of the in-memory copies held. */
  get heldBytes(): number {
    return this.hotBytes;
  }
  private seq = 0;

  /** A fresh name for a table being built, in the asset's schema, never seen by SQL of models. */
  stagingName(rel: RelationName): RelationName {
    return { schema: rel.schema, identifier: `__weir_new_${rel.identifier}_${++this.seq}` };
  }

  /** Whether a new in-memory copy may be built (the budget is not spent). */
  hasRoom(): boolean {
    return this.hotBytes < this.limits.totalBytes;
  }

  /** `CREATE OR REPLACE VIEW`, first dropping an in-memory table of that name. */
  defineView(session: EngineSession, rel: RelationName, sql: string): Promise<void> {
    return this.ddl.run(async () => {
      await execAll(session, [
        ...this.dropsFor(rel, 'table'),
        `CREATE OR REPLACE VIEW ${qualified(rel)} AS ${sql}`,
      ]);
      this.hold(rel, { kind: 'view' });
    });
  }

  /**
   * Publishes a staged table under the asset's name, through a typing view when `typedSelect`
   * (a select list over the staged table) is given. Returns false when it is too large to keep:
   * the caller then `discard`s it and defines the usual view over the snapshot.
   */
  adoptTable(
    session: EngineSession,
    rel: RelationName,
    staged: RelationName,
    bytes: number,
    typedSelect: string | undefined,
  ): Promise<boolean> {
    return this.ddl.run(async () => {
      if (bytes > this.limits.tableBytes || this.hotBytes + bytes > this.limits.totalBytes) return false;
      const publish =
        typedSelect === undefined
          ? `ALTER TABLE ${qualified(staged)} RENAME TO ${quoteIdent(rel.identifier)}`
          : `CREATE OR REPLACE VIEW ${qualified(rel)} AS SELECT ${typedSelect} FROM ${qualified(staged)}`;
      const drops = this.dropsFor(rel, typedSelect === undefined ? 'any' : 'table');
      if (typedSelect === undefined && !this.held.has(qualified(rel))) {
        // Nothing this catalog made holds the name: rename at once (one statement less per table),
        // and drop first only if something else (an ingested source's view) does.
        try {
          await session.exec(publish);
        } catch {
          await execAll(session, [...drops, publish]);
        }
      } else {
        await execAll(session, [...drops, publish]);
      }
      this.hold(rel, {
        kind: 'table',
        bytes,
        ...(typedSelect === undefined ? {} : { backing: qualified(staged) }),
      });
      return true;
    });
  }

  /** Drops a staged table that will not be published. */
  discard(session: EngineSession, staged: RelationName): Promise<void> {
    return this.ddl.run(() => session.exec(`DROP TABLE IF EXISTS ${qualified(staged)}`));
  }

  /** Runs any other catalog change under the lock. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.ddl.run(fn);
  }

  /**
   * The statements dropping what the engine holds under `rel`: an in-memory table (with its typing
   * view and hidden table), and with `any` also a view, so a table can be renamed to the name. A
   * view left in place is replaced by `CREATE OR REPLACE VIEW`.
   */
  private dropsFor(rel: RelationName, what: 'table' | 'any'): string[] {
    const name = qualified(rel);
    const held = this.held.get(name);
    if (!held || held.kind === 'view') return what === 'any' ? [`DROP VIEW IF EXISTS ${name}`] : [];
    return held.backing
      ? [`DROP VIEW IF EXISTS ${name}`, `DROP TABLE IF EXISTS ${held.backing}`]
      : [`DROP TABLE IF EXISTS ${name}`];
  }

  /** Records what `rel` holds now, once the statements making it so have run. */
  private hold(rel: RelationName, what: Held): void {
    const name = qualified(rel);
    const before = this.held.get(name);
    if (before?.kind === 'table') this.hotBytes -= before.bytes;
    if (what.kind === 'table') this.hotBytes += what.bytes;
    this.held.set(name, what);
  }
}

/** Statements in one round trip to the engine (each still its own transaction). */
function execAll(session: EngineSession, statements: readonly string[]): Promise<void> {
  return session.exec(statements.join(';\n'));
}
