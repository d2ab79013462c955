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
