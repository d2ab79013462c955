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
    // Times are integer ms since the epoch; JSON columns hold JSON text. Destroyed swarms, terminated agents and
    // finished tasks stay as history that metrics are computed from (finished tasks until a retention, if one is set).
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
  {
    version: 3,
    name: "task and agent counts kept as rows change; tasks, assignments and agents found by status",
    // History only grows, and swarm_status, task_orchestrate (its estimate) and /metrics counted it row by row: 630 ms
    // of blocked event loop per swarm_status at a million finished tasks. Triggers keep the counts, and the time
    // completed tasks took, per swarm, level (top-level task or a plan's phase) and status, whoever writes a task; the
    // existing history is counted once here. The task indexes serve task_list's and swarm_destroy's status filters.
    sql: `
      CREATE TABLE task_counts (
        swarm_id          TEXT    NOT NULL,
        top_level         INTEGER NOT NULL,
        status            TEXT    NOT NULL,
        n                 INTEGER NOT NULL,
        timed             INTEGER NOT NULL, -- of them, finished (finished_at set)
        duration_ms_total INTEGER NOT NULL, -- their finished_at - created_at, summed
        PRIMARY KEY (swarm_id, top_level, status)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO task_counts
        SELECT swarm_id, parent_id IS NULL, status, count(*), count(finished_at), coalesce(sum(finished_at - created_at), 0)
        FROM tasks GROUP BY 1, 2, 3;
      CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO task_counts VALUES (new.swarm_id, new.parent_id IS NULL, new.status, 1, new.finished_at IS NOT NULL,
          coalesce(new.finished_at - new.created_at, 0))
        ON CONFLICT DO UPDATE SET n = n + 1, timed = timed + excluded.timed, duration_ms_total = duration_ms_total + excluded.duration_ms_total;
      END;
      CREATE TRIGGER task_counts_update AFTER UPDATE OF status, finished_at ON tasks
        WHEN old.status IS NOT new.status OR old.finished_at IS NOT new.finished_at BEGIN
        UPDATE task_counts SET n = n - 1, timed = timed - (old.finished_at IS NOT NULL),
          duration_ms_total = duration_ms_total - coalesce(old.finished_at - old.created_at, 0)
          WHERE swarm_id = old.swarm_id AND top_level = (old.parent_id IS NULL) AND status = old.status;
        INSERT INTO task_counts VALUES (new.swarm_id, new.parent_id IS NULL, new.status, 1, new.finished_at IS NOT NULL,
          coalesce(new.finished_at - new.created_at, 0))
        ON CONFLICT DO UPDATE SET n = n + 1, timed = timed + excluded.timed, duration_ms_total = duration_ms_total + excluded.duration_ms_total;
      END;
      CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
        UPDATE task_counts SET n = n - 1, timed = timed - (old.finished_at IS NOT NULL),
          duration_ms_total = duration_ms_total - coalesce(old.finished_at - old.created_at, 0)
          WHERE swarm_id = old.swarm_id AND top_level = (old.parent_id IS NULL) AND status = old.status;
      END;
      CREATE INDEX tasks_by_status ON tasks (status, seq);
      CREATE INDEX tasks_by_swarm_status ON tasks (swarm_id, status, seq);
      -- SQLite uses a partial index only where a query's WHERE repeats the index's own, and "status = 'running'" does
      -- not repeat "status IN ('assigned', 'running')": the deadline queries the engine runs after every change read
      -- every assignment ever made (1 s at a million). An index over every status serves them.
      DROP INDEX assignments_active;
      CREATE INDEX assignments_by_status ON assignments (status, deadline_at);

      -- Terminated agents stay too, and swarm_status, swarm_list and scheduling read a swarm's agents: 0.76-1.0 s each for
      -- a swarm that had spawned and terminated 100,000. They now read its members by index, and counts kept as for tasks.
      CREATE TABLE agent_counts (
        swarm_id TEXT    NOT NULL,
        status   TEXT    NOT NULL,
        n        INTEGER NOT NULL,
        PRIMARY KEY (swarm_id, status)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO agent_counts SELECT swarm_id, status, count(*) FROM agents GROUP BY 1, 2;
      CREATE TRIGGER agent_counts_insert AFTER INSERT ON agents BEGIN
        INSERT INTO agent_counts VALUES (new.swarm_id, new.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER agent_counts_update AFTER UPDATE OF status, swarm_id ON agents
        WHEN old.status IS NOT new.status OR old.swarm_id IS NOT new.swarm_id BEGIN
        UPDATE agent_counts SET n = n - 1 WHERE swarm_id = old.swarm_id AND status = old.status;
        INSERT INTO agent_counts VALUES (new.swarm_id, new.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER agent_counts_delete AFTER DELETE ON agents BEGIN
        UPDATE agent_counts SET n = n - 1 WHERE swarm_id = old.swarm_id AND status = old.status;
      END;
      CREATE INDEX agents_by_swarm_status ON agents (swarm_id, status, seq);
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
