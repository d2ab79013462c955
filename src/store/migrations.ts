import type { Database } from "better-sqlite3";

type Db = Database;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Numbered schema changes, applied in order, each in its own transaction; `PRAGMA user_version` records progress. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "memory",
    // WITHOUT ROWID: a lookup or an upsert touches one b-tree. Expiry is an integer in ms; the partial index serves
    // the sweep and the expired count without covering the many entries that never expire.
    sql: `
      CREATE TABLE memory (
        namespace  TEXT    NOT NULL,
        key        TEXT    NOT NULL,
        value      TEXT    NOT NULL,
        size       INTEGER NOT NULL,
        tags       TEXT,
        version    INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (namespace, key)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX memory_expires_at ON memory (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: "swarms, agents, messages, tasks, assignments",
    // Times are integer ms since the epoch; JSON columns hold JSON text. Nothing is deleted: destroyed swarms,
    // terminated agents and finished tasks stay as history that metrics are computed from.
    sql: `
      CREATE TABLE swarms (
        id                  TEXT    PRIMARY KEY,
        name                TEXT    NOT NULL,
        topology            TEXT    NOT NULL,
        strategy            TEXT    NOT NULL,
        max_agents          INTEGER NOT NULL,
        consensus_threshold REAL    NOT NULL,
        status              TEXT    NOT NULL,
        created_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL,
        destroyed_at        INTEGER
      ) STRICT;
      CREATE INDEX swarms_by_status ON swarms (status, created_at);

      CREATE TABLE agents (
        id                 TEXT    PRIMARY KEY,
        swarm_id           TEXT    NOT NULL REFERENCES swarms (id),
        seq                INTEGER NOT NULL,
        type               TEXT    NOT NULL,
        name               TEXT    NOT NULL,
        status             TEXT    NOT NULL,
        capabilities       TEXT    NOT NULL,
        capacity           INTEGER NOT NULL,
        config             TEXT,
        resources          TEXT,
        runtime            TEXT    NOT NULL,
        created_at         INTEGER NOT NULL,
        updated_at         INTEGER NOT NULL,
        last_active_at     INTEGER,
        terminated_at      INTEGER,
        termination_reason TEXT,
        -- Counters kept with each finished assignment, so listing agents never aggregates history.
        tasks_completed    INTEGER NOT NULL DEFAULT 0,
        tasks_failed       INTEGER NOT NULL DEFAULT 0,
        busy_ms            INTEGER NOT NULL DEFAULT 0,
        task_ms_total      INTEGER NOT NULL DEFAULT 0,
        response_ms_total  INTEGER NOT NULL DEFAULT 0,
        recent_outcomes    TEXT    NOT NULL DEFAULT ''
      ) STRICT;
      CREATE INDEX agents_by_swarm ON agents (swarm_id, seq);
      CREATE INDEX agents_by_status ON agents (status);

      CREATE TABLE agent_messages (
        seq          INTEGER PRIMARY KEY,
        id           TEXT    NOT NULL UNIQUE,
        agent_id     TEXT    NOT NULL REFERENCES agents (id),
        swarm_id     TEXT    NOT NULL,
        body         TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        delivered_at INTEGER
      ) STRICT;
      CREATE INDEX agent_messages_by_agent ON agent_messages (agent_id, seq);

      CREATE TABLE tasks (
        id                    TEXT    PRIMARY KEY,
        seq                   INTEGER NOT NULL UNIQUE,
        swarm_id              TEXT    NOT NULL REFERENCES swarms (id),
        kind                  TEXT    NOT NULL, -- task: assigned to agents; plan: completes with its phases
        parent_id             TEXT    REFERENCES tasks (id),
        phase                 TEXT,
        description           TEXT    NOT NULL,
        input                 TEXT,
        priority              INTEGER NOT NULL,
        strategy              TEXT    NOT NULL,
        required_capabilities TEXT    NOT NULL,
        parallelism           INTEGER NOT NULL,
        aggregation           TEXT    NOT NULL,
        failure_threshold     REAL    NOT NULL,
        timeout_ms            INTEGER NOT NULL,
        max_attempts          INTEGER NOT NULL,
        backoff_ms            INTEGER NOT NULL,
        backoff_multiplier    REAL    NOT NULL,
        status                TEXT    NOT NULL,
        attempts              INTEGER NOT NULL DEFAULT 0,
        pending_reason        TEXT,
        not_before            INTEGER,
        result                TEXT,
        error                 TEXT,
        created_at            INTEGER NOT NULL,
        updated_at            INTEGER NOT NULL,
        started_at            INTEGER,
        finished_at           INTEGER
      ) STRICT;
      CREATE INDEX tasks_by_swarm ON tasks (swarm_id, seq);
      CREATE INDEX tasks_by_parent ON tasks (parent_id);
      CREATE INDEX tasks_open ON tasks (status, priority, seq) WHERE status IN ('pending', 'assigned', 'running');

      CREATE TABLE task_dependencies (
        task_id    TEXT NOT NULL REFERENCES tasks (id),
        depends_on TEXT NOT NULL REFERENCES tasks (id),
        PRIMARY KEY (task_id, depends_on)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX task_dependents ON task_dependencies (depends_on);

      CREATE TABLE assignments (
        id               TEXT    PRIMARY KEY,
        task_id          TEXT    NOT NULL REFERENCES tasks (id),
        agent_id         TEXT    NOT NULL REFERENCES agents (id),
        attempt          INTEGER NOT NULL,
        status           TEXT    NOT NULL,
        result           TEXT,
        error            TEXT,
        progress         REAL,
        progress_message TEXT,
        assigned_at      INTEGER NOT NULL,
        started_at       INTEGER,
        deadline_at      INTEGER,
        finished_at      INTEGER
      ) STRICT;
      CREATE INDEX assignments_by_task ON assignments (task_id, attempt);
      CREATE INDEX assignments_by_agent ON assignments (agent_id, status);
      CREATE INDEX assignments_active ON assignments (status, deadline_at) WHERE status IN ('assigned', 'running');
    `,
  },
];

export const LATEST_SCHEMA_VERSION = migrations.length === 0 ? 0 : (migrations[migrations.length - 1] as Migration).version;

export class SchemaTooNewError extends Error {
  override readonly name = "SchemaTooNewError";
}

/** Brings the schema up to date and returns its version. Refuses a database written by a newer swarmd. */
export function migrate(db: Db): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > LATEST_SCHEMA_VERSION) {
    throw new SchemaTooNewError(
      `the database schema is version ${current}, newer than this swarmd understands (${LATEST_SCHEMA_VERSION}); upgrade swarmd`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return LATEST_SCHEMA_VERSION;
}
