import { performance } from "node:perf_hooks";
import type { BackgroundWork } from "../background.js";
import type { Clock } from "../clock.js";
import type { AgentRepo } from "../store/agent-repo.js";
import type { AssignmentRepo } from "../store/assignment-repo.js";
import type { SwarmRepo } from "../store/swarm-repo.js";
import type { TaskRepo } from "../store/task-repo.js";
import type { UnitOfWork } from "../store/unit-of-work.js";
import { isTerminal } from "./outcomes.js";

export interface RetentionReport {
  /** Top-level tasks deleted (each plan counted once, its phases with it). */
  readonly deleted: number;
  /** Every task row deleted, phases included. */
  readonly rows: number;
  /** Destroyed swarms deleted, with their agents. */
  readonly swarms: number;
  readonly durationMs: number;
  readonly longestSliceMs: number;
}

/**
 * Each slice looks at this many tasks, oldest first, and deletes the expired ones in one transaction: 2–4 ms here.
 * After each slice the pass rests for twice as long, so requests keep at least two thirds of the event loop however
 * much history expires at once: deleting is never urgent.
 */
const WINDOW = 128;
/** Destroyed swarms looked at per pass. */
const SWARMS_PER_PASS = 64;
/**
 * How often the history is looked at: a tenth of the retention, from once a second to once a minute. Deleting is not
 * urgent: what reads the history costs the same however long it is.
 */
const checkEveryMs = (retentionMs: number): number => Math.min(60_000, Math.max(1_000, retentionMs / 10));

/**
 * Deletes finished tasks once they have been finished for longer than the retention: each top-level task with its
 * phases, their assignments, and the dependency edges to and from them. A plan goes only when every phase has
 * finished. Open tasks are never touched, and neither are their dependencies' edges while they still matter: a task's
 * dependents finish with it unless it completed, and an edge to a completed task only ever said "satisfied".
 *
 * Swarms destroyed for longer than the retention go too, once their tasks have (destroying a swarm ends its tasks):
 * with their agents, the agents' messages and the swarm's counts.
 *
 * Tasks are walked in creation order and the walk stops at the first one created after the cutoff (no later task can
 * have finished before it), so a run costs the expired history plus the old tasks still open, never the whole table.
 */
export class TaskRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionReport | undefined> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: { uow: UnitOfWork; tasks: TaskRepo; assignments: AssignmentRepo; agents: AgentRepo; swarms: SwarmRepo; clock: Clock },
    private readonly background: BackgroundWork,
  ) {}

  /** Runs now and then on an unref'd timer; `deleted` hears of every run that deleted something. */
  start(retentionMs: number, deleted: (report: RetentionReport) => void): void {
    this.stopped = false;
    const tick = (): void => {
      if (this.running !== undefined) return; // a long pass is still going: one report for it
      void this.run(retentionMs).then((report) => report !== undefined && report.deleted + report.swarms > 0 && deleted(report));
    };
    this.timer = setInterval(tick, checkEveryMs(retentionMs)).unref();
    tick();
  }

  /** Stops the timer and waits for a run in progress to finish its current slice. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * One pass over the history; concurrent calls share it. A failed pass (a full disk refuses even a delete's log
   * pages, another process holds the lock) is reported once, never thrown: the next check tries again.
   */
  run(retentionMs: number): Promise<RetentionReport | undefined> {
    return (this.running ??= this.pass(this.deps.clock.now() - retentionMs)
      .then(
        (report) => {
          this.background.succeeded();
          return report;
        },
        (err: unknown) => {
          this.background.failed(err);
          return undefined;
        },
      )
      .finally(() => (this.running = undefined)));
  }

  private async pass(cutoff: number): Promise<RetentionReport> {
    const started = performance.now();
    let deleted = 0;
    let rows = 0;
    let longest = 0;
    let afterSeq = 0;
    while (!this.stopped) {
      const t0 = performance.now();
      const window = this.deps.tasks.oldest(afterSeq, WINDOW);
      const last = window.at(-1);
      if (last === undefined) break;
      afterSeq = last.seq;
      const expired = window.filter((t) => t.parentId === null && isTerminal(t.status) && t.finishedAt !== null && t.finishedAt <= cutoff);
      if (expired.length > 0) {
        const n = this.deleteTrees(expired.map((t) => t.id));
        deleted += n.trees;
        rows += n.rows;
      }
      const spent = performance.now() - t0;
      longest = Math.max(longest, spent);
      if (window.length < WINDOW || window.some((t) => t.createdAt > cutoff)) break;
      await rest(spent);
    }
    let swarms = 0;
    for (const swarmId of this.deps.swarms.destroyedBefore(cutoff, SWARMS_PER_PASS)) {
      // Its tasks go first, in the walk above; one still stored (the walk was stopped) waits for the next pass.
      if (this.stopped || this.deps.tasks.swarmHasTasks(swarmId)) continue;
      for (;;) {
        const t0 = performance.now();
        const ids = this.deps.agents.idsInSwarm(swarmId, WINDOW);
        this.deps.uow.run(() => (ids.length > 0 ? this.deps.agents.delete(ids) : this.deps.swarms.delete(swarmId)));
        const spent = performance.now() - t0;
        longest = Math.max(longest, spent);
        await rest(spent);
        if (ids.length === 0) swarms++;
        if (ids.length === 0 || this.stopped) break;
      }
    }
    return { deleted, rows, swarms, durationMs: round(performance.now() - started), longestSliceMs: round(longest) };
  }

  /** Deletes these finished top-level tasks with their phases, except plans with a phase still open. */
  private deleteTrees(ids: string[]): { trees: number; rows: number } {
    const { uow, tasks, assignments } = this.deps;
    return uow.run(() => {
      const phases = tasks.phasesOf(ids);
      const held = new Set(phases.filter((p) => !isTerminal(p.status)).map((p) => p.parentId));
      const trees = ids.filter((id) => !held.has(id));
      const doomed = [...trees, ...phases.filter((p) => !held.has(p.parentId)).map((p) => p.id)];
      assignments.deleteOfTasks(doomed);
      tasks.delete(doomed);
      return { trees: trees.length, rows: doomed.length };
    });
  }
}

/** Twice as long as the slice just run took: the event loop's share the pass leaves to requests. */
function rest(sliceMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(sliceMs * 2))));
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
