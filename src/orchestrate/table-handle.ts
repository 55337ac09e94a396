import type { ColumnSchema, EngineSession, WrittenFile } from '../core/engine.js';
import type { HistoryEntry } from '../lake/delta/operations/history.js';
import { DeltaTable } from '../lake/delta/table.js';
import { deltaRoundTripType, writeCastSql } from '../lake/delta/schema.js';
import type { ObjectStore } from '../lake/object-store.js';

/**
 * What a commit is about to publish. A `BeforeCommit` hook sees it after the files are written
 * and before they become visible (write-audit-publish): it may refuse by throwing (the table
 * stays at its previous version) or return the files to commit instead (e.g. without the rows it
 * quarantined).
 */
export interface CommitCandidate {
  readonly table: TableHandle;
  readonly session: EngineSession;
  readonly mode: 'overwrite' | 'append' | 'replace';
  /** New data files (absolute paths in `path`). */
  readonly files: readonly WrittenFile[];
  /** Absolute paths of current files the commit removes (all of them for an overwrite). */
  readonly removed: readonly string[];
  readonly columns: readonly ColumnSchema[];
  /**
   * A relation of the session (a name, or a parenthesised query) holding exactly the rows of
   * an overwrite's new files, staged in memory; checks read it instead of the files.
   */
  readonly relation?: string;
}

export type BeforeCommit = (candidate: CommitCandidate) => Promise<readonly WrittenFile[]>;

export interface CommitOp {
  readonly operation: string;
  readonly operationParameters?: Readonly<Record<string, unknown>>;
}

/**
 * The orchestrator's view of one asset's Delta table, bound to an engine session: the few
 * operations materializations need, over the lake's DeltaTable.
 */
export class TableHandle {
  private table: DeltaTable | undefined;

  constructor(
    private readonly lake: ObjectStore,
    /** Path of the table below the lake root: `schema/name`. */
    readonly path: string,
    private readonly checkpointInterval: number,
    private readonly session: EngineSession,
    private readonly beforeCommit?: BeforeCommit,
  ) {}

  private async audit(
    mode: CommitCandidate['mode'],
    files: readonly WrittenFile[],
    removed: readonly string[],
    columns: readonly ColumnSchema[],
    relation?: string,
  ): Promise<readonly WrittenFile[]> {
    if (!this.beforeCommit) return files;
    return this.beforeCommit({
      table: this,
      session: this.session,
      mode,
      files,
      removed,
      columns,
      ...(relation !== undefined ? { relation } : {}),
    });
  }

  get location(): string {
    return this.lake.localPath(this.path);
  }

  private async open(): Promise<DeltaTable> {
    this.table ??= await DeltaTable.open(this.lake, this.path, this.session, {
      checkpointInterval: this.checkpointInterval,
    });
    return this.table;
  }

  async exists(): Promise<boolean> {
    return (await this.open()).exists();
  }

  /** Current columns with DuckDB types. */
  async columns(): Promise<ColumnSchema[]> {
    const t = await this.open();
    return t.columns(await t.snapshot());
  }

  /** Absolute paths and row counts of the current data files. */
  async files(): Promise<{ path: string; rows: number }[]> {
    const t = await this.open();
    return t.dataFiles(await t.snapshot());
  }

  async scanSql(): Promise<string> {
    const t = await this.open();
    return t.scanSql(await t.snapshot());
  }

  /** SQL reading an older version (time travel). */
  async scanSqlAt(version: number): Promise<string> {
    const t = await this.open();
    return t.scanSql(await t.snapshot({ version }));
  }

  async history(limit?: number): Promise<HistoryEntry[]> {
    return (await this.open()).history(limit);
  }

  async lastCommitParameters(): Promise<Readonly<Record<string, unknown>> | undefined> {
    const t = await this.open();
    const [last] = await t.history(1);
    return last?.operationParameters;
  }

  /**
   * Writes a query's rows as Parquet files into the table folder (not yet visible). Types Delta
   * lacks are cast first; `columns`, when given, is the exact output schema.
   */
  async write(
    session: EngineSession,
    sql: string,
    columns?: readonly ColumnSchema[],
  ): Promise<{ files: WrittenFile[]; columns: ColumnSchema[] }> {
    const described = columns ? [...columns] : await session.describe(sql);
    const castSql = `SELECT ${writeCastSql(described)} FROM (${sql}) AS __weir_w`;
    // The cast's result types follow from the Delta mapping: no second round trip to the engine.
    const finalColumns = described.map((c) => ({ name: c.name, type: deltaRoundTripType(c) }));
    const files = await session.writeParquet(castSql, {
      dir: this.location,
      prefix: 'part-',
      columns: finalColumns,
    });
    return { files: files.filter((f) => f.rows > 0), columns: finalColumns };
  }

  async overwrite(
    files: readonly WrittenFile[],
    columns: readonly ColumnSchema[],
    op: CommitOp,
  ): Promise<number> {
    return (await this.overwriteWith(files, columns, op)).version;
  }

  /**
   * Replaces every row with `files`. `relation`, when given, holds exactly the same rows in the
   * session (checks read it). Returns the version and the files committed, which differ from
   * `files` when the audit quarantined rows.
   */
  async overwriteWith(
    files: readonly WrittenFile[],
    columns: readonly ColumnSchema[],
    op: CommitOp,
    relation?: string,
  ): Promise<{ version: number; files: readonly WrittenFile[] }> {
    const t = await this.open();
    const removed = (await t.exists()) ? (await this.files()).map((f) => f.path) : [];
    const committed = await this.audit('overwrite', files, removed, columns, relation);
    const r = await t.overwrite(committed, columns, op);
    return { version: r.version, files: committed };
  }

  /** Rows of the current version (0 when the table does not exist). */
  async rowCount(): Promise<number> {
    const t = await this.open();
    if (!(await t.exists())) return 0;
    return (await this.files()).reduce((n, f) => n + f.rows, 0);
  }

  async append(
    files: readonly WrittenFile[],
    columns: readonly ColumnSchema[],
    op: CommitOp,
  ): Promise<number> {
    const t = await this.open();
    const r = await t.append(await this.audit('append', files, [], columns), columns, op);
    return r.version;
  }

  async replaceFiles(
    removeAbsolute: readonly string[],
    files: readonly WrittenFile[],
    columns: readonly ColumnSchema[],
    op: CommitOp,
  ): Promise<number> {
    const t = await this.open();
    const r = await t.replaceFiles(
      removeAbsolute,
      await this.audit('replace', files, removeAbsolute, columns),
      columns,
      op,
    );
    return r.version;
  }
}
