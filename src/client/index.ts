// The public entry point, `swarmd/client`: what TypeScript programs import.
export { SwarmClient, type BatchOutcome, type Notification } from "./client.js";
export { SwarmAdopter, type AdopterEvent, type AdopterOptions } from "./adopter.js";
export { ClientError, RpcError, STORAGE_REFUSALS, errorCodes, type ClientErrorCode, type ErrorName } from "./errors.js";
export type { ClientOptions, ResolvedClientOptions } from "./options.js";
export type { RequestOptions } from "./connection.js";
export type { MonitorHandlers } from "./monitor.js";
export type { MonitorEvent } from "../protocol/monitor.js";
export { SwarmWorker, TaskFailure, type Assignment, type AssignmentContext, type UsageReport, type WorkerEnd, type WorkerEvent, type WorkerOptions } from "./worker.js";
export type { ToolInput, ToolPayload } from "../protocol/contract.js";
export type { ToolAnnotations, ToolDefinition } from "../protocol/mcp.js";
export type { ToolMap, ToolName } from "../protocol/tools/index.js";
