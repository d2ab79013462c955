/**
 * A counter that moves whenever agent, assignment or swarm rows may have changed: every write through their
 * repositories, and every rollback (which can undo writes already counted). Views derived from those rows (the agent
 * listing) stay valid while it stands still.
 */
export class Revision {
  private n = 0;

  get value(): number {
    return this.n;
  }

  bump(): void {
    this.n++;
  }
}
