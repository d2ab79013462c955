import type { ToolInput, ToolPayload } from "../protocol/contract.js";
import type { ToolMap, ToolName } from "../protocol/tools/index.js";
import type { RequestOptions } from "./connection.js";

type In<N extends ToolName> = ToolInput<ToolMap[N]>;
type Out<N extends ToolName> = ToolPayload<ToolMap[N]>;

/**
 * One method per tool, named after it (swarm_init → swarmInit), with argument and result types from the same zod
 * contracts the server validates with.
 */
export abstract class TypedTools {
  abstract call<N extends ToolName>(tool: N, args: In<N>, options?: RequestOptions): Promise<Out<N>>;

  serverInfo(args: In<"server_info"> = {}, options?: RequestOptions): Promise<Out<"server_info">> {
    return this.call("server_info", args, options);
  }
  serverBackup(args: In<"server_backup"> = {}, options?: RequestOptions): Promise<Out<"server_backup">> {
    return this.call("server_backup", args, options);
  }
  swarmInit(args: In<"swarm_init"> = {}, options?: RequestOptions): Promise<Out<"swarm_init">> {
    return this.call("swarm_init", args, options);
  }
  swarmStatus(args: In<"swarm_status"> = {}, options?: RequestOptions): Promise<Out<"swarm_status">> {
    return this.call("swarm_status", args, options);
  }
  swarmList(args: In<"swarm_list"> = {}, options?: RequestOptions): Promise<Out<"swarm_list">> {
    return this.call("swarm_list", args, options);
  }
  swarmScale(args: In<"swarm_scale">, options?: RequestOptions): Promise<Out<"swarm_scale">> {
    return this.call("swarm_scale", args, options);
  }
  swarmDestroy(args: In<"swarm_destroy">, options?: RequestOptions): Promise<Out<"swarm_destroy">> {
    return this.call("swarm_destroy", args, options);
  }
  agentSpawn(args: In<"agent_spawn">, options?: RequestOptions): Promise<Out<"agent_spawn">> {
    return this.call("agent_spawn", args, options);
  }
  agentList(args: In<"agent_list"> = {}, options?: RequestOptions): Promise<Out<"agent_list">> {
    return this.call("agent_list", args, options);
  }
  agentStatus(args: In<"agent_status">, options?: RequestOptions): Promise<Out<"agent_status">> {
    return this.call("agent_status", args, options);
  }
  agentMetrics(args: In<"agent_metrics"> = {}, options?: RequestOptions): Promise<Out<"agent_metrics">> {
    return this.call("agent_metrics", args, options);
  }
  agentTerminate(args: In<"agent_terminate">, options?: RequestOptions): Promise<Out<"agent_terminate">> {
    return this.call("agent_terminate", args, options);
  }
  agentMessage(args: In<"agent_message">, options?: RequestOptions): Promise<Out<"agent_message">> {
    return this.call("agent_message", args, options);
  }
  agentInbox(args: In<"agent_inbox">, options?: RequestOptions): Promise<Out<"agent_inbox">> {
    return this.call("agent_inbox", args, options);
  }
  taskOrchestrate(args: In<"task_orchestrate">, options?: RequestOptions): Promise<Out<"task_orchestrate">> {
    return this.call("task_orchestrate", args, options);
  }
  taskStatus(args: In<"task_status"> = {}, options?: RequestOptions): Promise<Out<"task_status">> {
    return this.call("task_status", args, options);
  }
  taskResults(args: In<"task_results">, options?: RequestOptions): Promise<Out<"task_results">> {
    return this.call("task_results", args, options);
  }
  taskList(args: In<"task_list"> = {}, options?: RequestOptions): Promise<Out<"task_list">> {
    return this.call("task_list", args, options);
  }
  taskCancel(args: In<"task_cancel">, options?: RequestOptions): Promise<Out<"task_cancel">> {
    return this.call("task_cancel", args, options);
  }
  taskWait(args: In<"task_wait">, options?: RequestOptions): Promise<Out<"task_wait">> {
    return this.call("task_wait", args, options);
  }
  agentAttach(args: In<"agent_attach">, options?: RequestOptions): Promise<Out<"agent_attach">> {
    return this.call("agent_attach", args, options);
  }
  agentDetach(args: In<"agent_detach">, options?: RequestOptions): Promise<Out<"agent_detach">> {
    return this.call("agent_detach", args, options);
  }
  taskClaim(args: In<"task_claim">, options?: RequestOptions): Promise<Out<"task_claim">> {
    return this.call("task_claim", args, options);
  }
  taskProgress(args: In<"task_progress">, options?: RequestOptions): Promise<Out<"task_progress">> {
    return this.call("task_progress", args, options);
  }
  taskComplete(args: In<"task_complete">, options?: RequestOptions): Promise<Out<"task_complete">> {
    return this.call("task_complete", args, options);
  }
  taskFail(args: In<"task_fail">, options?: RequestOptions): Promise<Out<"task_fail">> {
    return this.call("task_fail", args, options);
  }
  agentUsage(args: In<"agent_usage">, options?: RequestOptions): Promise<Out<"agent_usage">> {
    return this.call("agent_usage", args, options);
  }
  memoryStore(args: In<"memory_store">, options?: RequestOptions): Promise<Out<"memory_store">> {
    return this.call("memory_store", args, options);
  }
  memoryRetrieve(args: In<"memory_retrieve">, options?: RequestOptions): Promise<Out<"memory_retrieve">> {
    return this.call("memory_retrieve", args, options);
  }
  memoryDelete(args: In<"memory_delete">, options?: RequestOptions): Promise<Out<"memory_delete">> {
    return this.call("memory_delete", args, options);
  }
  memoryList(args: In<"memory_list"> = {}, options?: RequestOptions): Promise<Out<"memory_list">> {
    return this.call("memory_list", args, options);
  }
  memorySearch(args: In<"memory_search">, options?: RequestOptions): Promise<Out<"memory_search">> {
    return this.call("memory_search", args, options);
  }
  memoryStats(args: In<"memory_stats"> = {}, options?: RequestOptions): Promise<Out<"memory_stats">> {
    return this.call("memory_stats", args, options);
  }
  memoryUsage(args: In<"memory_usage">, options?: RequestOptions): Promise<Out<"memory_usage">> {
    return this.call("memory_usage", args, options);
  }
}
