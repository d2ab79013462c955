import type { AgentManager } from "../agent/manager.js";
import type { BackgroundFailure } from "../background.js";
import type { Clock } from "../clock.js";
import type { AgentRepo } from "../store/agent-repo.js";
import type { AssignmentRepo } from "../store/assignment-repo.js";
import type { SwarmRepo } from "../store/swarm-repo.js";
import type { TaskRepo } from "../store/task-repo.js";
import type { UnitOfWork } from "../store/unit-of-work.js";

export interface EngineDeps {
  readonly uow: UnitOfWork;
  readonly tasks: TaskRepo;
  readonly assignments: AssignmentRepo;
  readonly agents: AgentRepo;
  readonly swarms: SwarmRepo;
  readonly agentManager: AgentManager;
  readonly clock: Clock;
  /** Scheduling or a timeout run off a timer failed (it is retried). */
  readonly reportFailure: BackgroundFailure;
}

/** What waiters outside the engine hear about (task_wait, task_claim). */
export interface EngineEvents {
  finished(taskId: string): void;
  progressed(taskId: string): void;
  /** An assignment waits for this agent's worker to claim it (pull delivery). */
  waiting(agentId: string): void;
}
