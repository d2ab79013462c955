import type { Database } from "better-sqlite3";

type Db = Database;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Numbered schema changes, applied in order, each in its own transaction; `PRAGMA user_version` records progress. */
export const migrations: readonly Migration[] = [];

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
