import type { ToolContract } from "../contract.js";
import { memoryDelete, memoryList, memoryRetrieve, memorySearch, memoryStats, memoryStore, memoryUsage } from "./memory.js";
import { serverInfo } from "./server.js";

export { memoryDelete, memoryList, memoryRetrieve, memorySearch, memoryStats, memoryStore, memoryUsage, serverInfo };

/** Every tool swarmd serves, in the order tools/list returns them. */
export const toolContracts: readonly ToolContract[] = [
  serverInfo,
  memoryStore,
  memoryRetrieve,
  memoryDelete,
  memoryList,
  memorySearch,
  memoryStats,
  memoryUsage,
];
