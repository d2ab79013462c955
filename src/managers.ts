import { AgentManager } from "./agent/manager.js";
import { BackgroundWork, type BackgroundFailure } from "./background.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config/settings.js";
import { MiB } from "./config/spec.js";
import { MemoryManager } from "./memory/manager.js";
import { AgentRepo } from "./store/agent-repo.js";
import { AssignmentRepo } from "./store/assignment-repo.js";
import type { Store } from "./store/db.js";
import { MemoryCache } from "./store/memory-cache.js";
import { MemoryRepo } from "./store/memory-repo.js";
import { Revision } from "./store/revision.js";
import { SwarmRepo } from "./store/swarm-repo.js";
import { TaskRepo } from "./store/task-repo.js";
import { UnitOfWork } from "./store/unit-of-work.js";
import { SwarmManager } from "./swarm/manager.js";
import { TaskEngine } from "./task/engine.js";
import { TaskManager } from "./task/manager.js";
import { TaskRetention } from "./task/retention.js";

export interface Managers {
  readonly memory: MemoryManager;
  readonly agents: AgentManager;
  readonly swarms: SwarmManager;
  readonly tasks: TaskManager;
  readonly engine: TaskEngine;
  readonly retention: TaskRetention;
}

/**
 * The managers over one store, wired to each other; no sockets, no JSON-RPC. `reportFailure` hears about their own
 * background work (the TTL sweep, scheduling off a timer) that failed and will be tried again.
 */
export function createManagers(store: Store, config: Config, clock: Clock, reportFailure: BackgroundFailure): Managers {
  const revision = new Revision();
  const uow = new UnitOfWork(store.db, revision);
  const repos = {
    swarms: new SwarmRepo(store.db, revision),
    agents: new AgentRepo(store.db, revision),
    tasks: new TaskRepo(store.db),
    assignments: new AssignmentRepo(store.db, revision),
  };
  const cache = new MemoryCache(config.memoryCacheMb * MiB);
  // A rolled-back batch undoes upserts the cache already holds.
  store.writes.onRollback(() => cache.clear());
  const memory = new MemoryManager({
    repo: new MemoryRepo(store.db, cache),
    writes: store.writes,
    clock,
    reportFailure,
    limits: {
      maxKeyBytes: config.memoryMaxKeyBytes,
      maxNamespaceBytes: config.memoryMaxNamespaceBytes,
      maxValueBytes: config.memoryMaxValueBytes,
    },
  });
  const agents = new AgentManager({ uow, agents: repos.agents, assignments: repos.assignments, swarms: repos.swarms, revision, clock, maxAgents: config.maxAgents, reportFailure });
  const engine = new TaskEngine({ uow, ...repos, agentManager: agents, clock, reportFailure });
  const tasks = new TaskManager({ uow, tasks: repos.tasks, assignments: repos.assignments, swarms: repos.swarms, agentManager: agents, engine, clock });
  const swarms = new SwarmManager({ uow, swarms: repos.swarms, agents: repos.agents, tasks: repos.tasks, agentManager: agents, engine, clock, maxAgents: config.maxAgents });
  const retention = new TaskRetention({ uow, ...repos, clock }, new BackgroundWork("task retention", reportFailure));
  return { memory, agents, swarms, tasks, engine, retention };
}
