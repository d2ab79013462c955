import type { Database } from "better-sqlite3";
import type { Revision } from "./revision.js";

/**
 * One SQLite transaction per mutation, however many managers it passes through: nested `run` calls join the
 * outermost transaction (better-sqlite3 turns them into savepoints). Side effects that must not happen for work
 * that is rolled back — notifying a worker, waking a waiter — are queued with `afterCommit` and run once the
 * outermost transaction has committed (and dropped if it rolls back).
 */
export class UnitOfWork {
  private depth = 0;
  private pending: Array<() => void> = [];

  constructor(
    private readonly db: Database,
    private readonly revision: Revision,
  ) {}

  run<T>(fn: () => T): T {
    if (this.depth > 0) {
      // A savepoint: if it rolls back, so do the effects it queued.
      const mark = this.pending.length;
      try {
        return this.db.transaction(fn)();
      } catch (err) {
        this.pending.length = mark;
        this.revision.bump();
        throw err;
      }
    }
    this.depth++;
    let result: T;
    try {
      result = this.db.transaction(fn)();
    } catch (err) {
      this.pending = [];
      this.revision.bump();
      throw err;
    } finally {
      this.depth--;
    }
    const effects = this.pending;
    this.pending = [];
    for (const effect of effects) effect();
    return result;
  }

  /** Runs `effect` after the current transaction commits; at once when none is open. */
  afterCommit(effect: () => void): void {
    if (this.depth === 0) effect();
    else this.pending.push(effect);
  }
}
