import type { ToolContract } from "../contract.js";
import { agentInbox, agentList, agentMessage, agentMetrics, agentSpawn, agentStatus, agentTerminate } from "./agent.js";
import { memoryDelete, memoryList, memoryRetrieve, memorySearch, memoryStats, memoryStore, memoryUsage } from "./memory.js";
import { serverBackup, serverInfo } from "./server.js";
import { swarmDestroy, swarmInit, swarmList, swarmScale, swarmStatus } from "./swarm.js";
import { taskOrchestrate } from "./task.js";
import { taskCancel, taskList, taskResults, taskStatus, taskWait } from "./task-ops.js";
import { agentAttach, agentDetach, agentUsage, taskClaim, taskComplete, taskFail, taskProgress } from "./worker.js";

export {
  agentAttach,
  agentDetach,
  agentInbox,
  agentList,
  agentMessage,
  agentMetrics,
  agentSpawn,
  agentStatus,
  agentTerminate,
  agentUsage,
  memoryDelete,
  memoryList,
  memoryRetrieve,
  memorySearch,
  memoryStats,
  memoryStore,
  memoryUsage,
  serverBackup,
  serverInfo,
  swarmDestroy,
  swarmInit,
  swarmList,
  swarmScale,
  swarmStatus,
  taskCancel,
  taskClaim,
  taskComplete,
  taskFail,
  taskList,
  taskOrchestrate,
  taskProgress,
  taskResults,
  taskStatus,
  taskWait,
};

/** Every tool swarmd serves, in the order tools/list returns them. */
export const toolContracts = [
  serverInfo,
  serverBackup,
  swarmInit,
  swarmStatus,
  swarmList,
  swarmScale,
  swarmDestroy,
  agentSpawn,
  agentList,
  agentStatus,
  agentMetrics,
  agentTerminate,
  agentMessage,
  agentInbox,
  taskOrchestrate,
  taskStatus,
  taskResults,
  taskList,
  taskCancel,
  taskWait,
  agentAttach,
  agentDetach,
  taskClaim,
  taskProgress,
  taskComplete,
  taskFail,
  agentUsage,
  memoryStore,
  memoryRetrieve,
  memoryDelete,
  memoryList,
  memorySearch,
  memoryStats,
  memoryUsage,
] as const satisfies readonly ToolContract[];

/** Each tool's contract by name: `ToolMap["swarm_init"]`. */
export type ToolMap = { [C in (typeof toolContracts)[number] as C["name"]]: C };
export type ToolName = keyof ToolMap;
