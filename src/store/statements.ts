import type { Database, Statement } from "better-sqlite3";

/** Prepares each SQL text once per connection; repositories with dynamic SQL (filters, cursors) ask it by text. */
export class Statements {
  private readonly cache = new Map<string, Statement>();

  constructor(readonly db: Database) {}

  get(sql: string): Statement {
    let stmt = this.cache.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  /** Every SQL text prepared so far (tests check the plans SQLite chose for them). */
  prepared(): string[] {
    return [...this.cache.keys()];
  }
}
