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
  {
    version: 3,
    name: 'orchestration: attempts, cancel requests, leases, ticks, partitions, sensor cursors, run slots',
    sql: `
      CREATE TABLE IF NOT EXISTS orch_attempts (
        attempt_id     TEXT PRIMARY KEY,
        run_id         TEXT NOT NULL,
        step_id        TEXT NOT NULL,
        attempt        INTEGER NOT NULL,
        status         TEXT NOT NULL,
        started_at     TEXT NOT NULL,
        finished_at    TEXT,
        retry_delay_ms INTEGER,
        error          TEXT,
        error_code     TEXT
      );
      CREATE INDEX IF NOT EXISTS orch_attempts_by_run ON orch_attempts (run_id, step_id, attempt);
      CREATE TABLE IF NOT EXISTS orch_cancel_requests (
        run_id       TEXT PRIMARY KEY,
        requested_at TEXT NOT NULL,
        reason       TEXT
      );
      CREATE TABLE IF NOT EXISTS orch_leases (
        name       TEXT PRIMARY KEY,
        owner      TEXT NOT NULL,
        expires_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS orch_ticks (
        pipeline     TEXT NOT NULL,
        scheduled_at TEXT NOT NULL,
        fired_at     TEXT NOT NULL,
        owner        TEXT NOT NULL,
        run_id       TEXT,
        PRIMARY KEY (pipeline, scheduled_at)
      );
      CREATE TABLE IF NOT EXISTS orch_partitions (
        owner      TEXT NOT NULL,
        key        TEXT NOT NULL,
        status     TEXT NOT NULL,
        run_id     TEXT,
        updated_at TEXT NOT NULL,
        error      TEXT,
        PRIMARY KEY (owner, key)
      );
      CREATE TABLE IF NOT EXISTS orch_sensor_cursors (
        sensor     TEXT PRIMARY KEY,
        cursor     TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS orch_run_slots (
        run_id       TEXT PRIMARY KEY,
        pipeline     TEXT NOT NULL,
        owner        TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS orch_run_slots_by_pipeline ON orch_run_slots (pipeline);
    `,
  },
  {
    version: 2,
    name: 'quality history: check results, table row counts, freshness and schema per run',
    sql: `
      CREATE TABLE IF NOT EXISTS quality_checks (
        run_id           TEXT NOT NULL,
        at               TEXT NOT NULL,
        asset            TEXT NOT NULL,
        check_id         TEXT NOT NULL,
        name             TEXT NOT NULL,
        type             TEXT NOT NULL,
        column_name      TEXT,
        severity         TEXT NOT NULL,
        origin           TEXT NOT NULL,
        status           TEXT NOT NULL,
        observed         TEXT,
        element_count    INTEGER,
        unexpected_count INTEGER,
        failures         INTEGER,
        message          TEXT NOT NULL,
        samples          TEXT NOT NULL,
        PRIMARY KEY (run_id, asset, check_id)
      );
      CREATE INDEX IF NOT EXISTS quality_checks_by_check ON quality_checks (asset, check_id, at DESC);
      CREATE TABLE IF NOT EXISTS quality_tables (
        run_id    TEXT NOT NULL,
        at        TEXT NOT NULL,
        asset     TEXT NOT NULL,
        row_count INTEGER NOT NULL,
        freshness TEXT,
        schema    TEXT NOT NULL,
        PRIMARY KEY (run_id, asset)
      );
      CREATE INDEX IF NOT EXISTS quality_tables_by_asset ON quality_tables (asset, at DESC);
    `,
  },
  {
    version: 5,
    name: 'orchestration: firings of sensors and SLA alerts, each claimed once by its unique key',
    sql: `
      CREATE TABLE IF NOT EXISTS orch_firings (
        source    TEXT NOT NULL,
        key       TEXT NOT NULL,
        fired_at  TEXT NOT NULL,
        owner     TEXT NOT NULL,
        run_id    TEXT,
        data      TEXT NOT NULL,
        PRIMARY KEY (source, key)
      );
      CREATE INDEX IF NOT EXISTS orch_firings_by_time ON orch_firings (source, fired_at DESC);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
