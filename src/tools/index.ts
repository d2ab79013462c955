import type { MemoryManager } from "../memory/manager.js";
import { agentTools } from "./agent.js";
import type { Domain } from "./domain.js";
import { memoryTools } from "./memory.js";
import type { ToolBinding } from "./registry.js";
import { serverTools, type ServerFacts } from "./server.js";
import { swarmTools } from "./swarm.js";
import { taskTools } from "./task.js";
import { workerTools } from "./worker.js";

/** Every tool binding, in the order of protocol/tools/index.ts. */
export function allTools(deps: { server: ServerFacts; memory: MemoryManager; domain: Domain }): ToolBinding[] {
  return [
    ...serverTools(deps.server),
    ...swarmTools(deps.domain),
    ...agentTools(deps.domain),
    ...taskTools(deps.domain),
    ...workerTools(deps.domain),
    ...memoryTools(deps.memory),
  ];
}
