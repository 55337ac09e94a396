/**
 * Numbered, append-only schema migrations. Never edit a shipped migration: add the next number.
 * JSON payloads are TEXT; timestamps are ISO-8601 UTC strings, so text order is time order.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, node results, events, catalog',
    sql: `
      CREATE TABLE runs (
        run_id      TEXT PRIMARY KEY,
        command     TEXT NOT NULL,
        status      TEXT NOT NULL,
        args        TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        error       TEXT
      );
      CREATE INDEX runs_by_start ON runs (started_at DESC);
      CREATE INDEX runs_by_status ON runs (status, started_at DESC);

      CREATE TABLE node_results (
        run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        node_id     TEXT NOT NULL,
        asset       TEXT,
        status      TEXT NOT NULL,
        started_at  TEXT,
        finished_at TEXT,
        duration_ms REAL,
        rows        INTEGER,
        bytes       INTEGER,
        version     INTEGER,
        message     TEXT,
        error_code  TEXT,
        PRIMARY KEY (run_id, node_id)
      );
      CREATE INDEX node_results_by_asset ON node_results (asset);
      CREATE INDEX node_results_by_node ON node_results (node_id);

      CREATE TABLE events (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id  TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        node_id TEXT,
        ts      TEXT NOT NULL,
        type    TEXT NOT NULL,
        data    TEXT NOT NULL
      );
      CREATE INDEX events_by_run ON events (run_id, seq);

      CREATE TABLE catalog (
        asset      TEXT PRIMARY KEY,
        node_id    TEXT NOT NULL,
        kind       TEXT NOT NULL,
        location   TEXT,
        sql        TEXT,
        updated_at TEXT NOT NULL,
        run_id     TEXT NOT NULL
      );
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
