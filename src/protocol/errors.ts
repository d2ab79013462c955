/**
 * The one registry of JSON-RPC error codes swarmd sends, and the machine-readable `data.reason` values that go with
 * them. `protocol/errors.json` is generated from this table and a test keeps the two (and the README) in agreement.
 */

export interface ErrorCodeSpec {
  readonly code: number;
  /** The generic message of the JSON-RPC spec or the protocol document; our errors use a specific sentence. */
  readonly message: string;
  readonly description: string;
  /** `data.reason` values sent with this code, each with what it means. */
  readonly reasons: Readonly<Record<string, string>>;
}

export const errorCodes = {
  PARSE_ERROR: {
    code: -32700,
    message: "Parse error",
    description: "The line is not valid JSON. Sent with id null; the connection goes on.",
    reasons: {},
  },
  INVALID_REQUEST: {
    code: -32600,
    message: "Invalid Request",
    description: "The JSON is not a valid JSON-RPC 2.0 request object (id is null when it cannot be read).",
    reasons: {
      empty_batch: "An empty array was sent as a batch.",
      not_allowed_in_batch: "initialize and batch cannot be items of a batch.",
    },
  },
  METHOD_NOT_FOUND: {
    code: -32601,
    message: "Method not found",
    description: "The method does not exist. Tools are called through tools/call.",
    reasons: {},
  },
  INVALID_PARAMS: {
    code: -32602,
    message: "Invalid params",
    description: "Parameters or tool arguments failed validation; data.issues lists each field.",
    reasons: {
      invalid_params: "The method's params failed validation.",
      invalid_arguments: "The tool's arguments failed validation.",
      unknown_tool: "tools/call named a tool that does not exist.",
      invalid_cursor: "The paging cursor was not issued by this server.",
      too_deep: "A value is nested too deeply to be stored or processed.",
    },
  },
  INTERNAL_ERROR: {
    code: -32603,
    message: "Internal error",
    description: "An unexpected failure inside swarmd. Details are in the server log, never on the wire.",
    reasons: { internal: "Unexpected failure; see the server log." },
  },
  SERVER_ERROR: {
    code: -32000,
    message: "Server error",
    description: "The server cannot serve the request in its current state.",
    reasons: {
      shutting_down: "The daemon is shutting down and accepts no new requests.",
      unauthenticated: "Tokens are configured and this connection has not authenticated (or the token was wrong).",
      forbidden: "The connection's token has too small a scope for this call.",
      backup_exists: "A backup of this name exists (overwrite: true replaces it).",
      backup_running: "Another backup is being written; one runs at a time.",
      backup_failed: "The backup could not be written (data.cause says why); nothing was left behind.",
      storage_full: "The database's disk is full: the call changed nothing. Reads go on; free space on the daemon's host.",
      storage_busy: "Another process (a sqlite3 shell in a transaction, say) kept the database's write lock: the call changed nothing. Reads go on; try again.",
      connection_lost: "Sent by swarmctl bridge: the connection to the daemon broke before it answered; the request may or may not have taken effect.",
    },
  },
  AGENT_ERROR: {
    code: -32001,
    message: "Agent error",
    description: "An agent operation failed.",
    reasons: {
      not_found: "No agent has this id.",
      terminated: "The agent is terminated; nothing more can be done with it.",
      already_attached: "Another connection is the agent's worker (pass takeover: true to replace it).",
      not_attached: "This connection is not the agent's worker.",
      illegal_transition: "The agent's lifecycle does not allow this change of status.",
      not_in_swarm: "The agent is not in the swarm named.",
      unknown_message: "The message id given as since is not in this agent's inbox.",
    },
  },
  SWARM_ERROR: {
    code: -32002,
    message: "Swarm error",
    description: "A swarm operation failed.",
    reasons: {
      not_found: "No swarm has this id.",
      destroyed: "The swarm is destroyed.",
      no_active_swarm: "No swarmId was given and no swarm is active.",
      ambiguous_swarm: "No swarmId was given and several swarms are active (data.activeSwarmIds lists them).",
    },
  },
  RESOURCE_ERROR: {
    code: -32003,
    message: "Resource error",
    description: "A limit or quota was reached; data carries the limit.",
    reasons: {
      message_too_large: "A line exceeded the maximum message size; the rest of that line was discarded.",
      batch_too_large: "The batch has more items than allowed.",
      key_too_large: "A memory key is longer than allowed, in bytes.",
      namespace_too_large: "A memory namespace is longer than allowed, in bytes.",
      value_too_large: "A memory value's JSON is larger than allowed, in bytes.",
      max_agents: "The swarm's maxAgents or the daemon's MAX_AGENTS is reached (data.scope is global for the latter).",
      agent_count_above_limit: "The swarm has more agents than the limit asked for (terminateIdle may make room).",
      rate_limited: "The connection sent more requests than its rate allows; data.retryAfterMs says when to try again.",
      swarm_busy: "The swarm has as many tool calls in flight as allowed.",
      too_many_connections: "The daemon has as many connections open as allowed; this one is closed.",
    },
  },
  TASK_ERROR: {
    code: -32004,
    message: "Task error",
    description: "A task operation failed.",
    reasons: {
      not_found: "No task has this id.",
      finished: "The task already completed, failed or was cancelled.",
      not_assigned: "This connection holds no running assignment of the task.",
      ambiguous_assignment: "This connection holds several assignments of the task; pass assignmentId.",
      unknown_dependency: "A dependency names a task that does not exist (data.ids).",
      dependency_cycle: "Phases depend on each other in a cycle (data.ids).",
      unknown_phase: "A phase depends on a phase name that does not exist.",
      duplicate_phase: "Two phases have the same name.",
    },
  },
  MEMORY_ERROR: {
    code: -32005,
    message: "Memory error",
    description: "A memory operation failed.",
    reasons: { exists: "ifAbsent was set and a live entry already has this key." },
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorName = keyof typeof errorCodes;

/** Every `data.reason` declared in the registry. */
export type ErrorReason = {
  [K in ErrorName]: keyof (typeof errorCodes)[K]["reasons"];
}[ErrorName] &
  string;

export interface ErrorData {
  readonly reason?: ErrorReason;
  readonly [key: string]: unknown;
}

/**
 * The database could not take the call for now — its disk is full, or another process holds its write lock. Nothing
 * was changed, so the same call may be sent again, and a result that is the work itself should be.
 */
const STORAGE_REFUSAL_REASONS = ["storage_full", "storage_busy"] as const satisfies readonly ErrorReason[];
export type StorageRefusal = (typeof STORAGE_REFUSAL_REASONS)[number];
export const STORAGE_REFUSALS: ReadonlySet<string> = new Set(STORAGE_REFUSAL_REASONS);

/** Why the database refused, in words for messages and logs. */
export const REFUSED_BECAUSE: Record<StorageRefusal, string> = {
  storage_full: "the database's disk is full",
  storage_busy: "another process holds the database's write lock",
};

/**
 * SQLite refusing a write for want of disk space, or for a lock another connection holds (SQLITE_BUSY and its extended
 * codes): the operator's to fix or wait out, not a bug in swarmd.
 */
export function storageRefusal(err: unknown): StorageRefusal | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "SQLITE_FULL") return "storage_full";
  if (typeof code === "string" && code.startsWith("SQLITE_BUSY")) return "storage_busy";
  return undefined;
}

/** A JSON-RPC error as it travels on the wire. */
export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(
    readonly code: number,
    message: string,
    readonly data?: ErrorData,
  ) {
    super(message);
  }

  /** The registry's name for this code (`SWARM_ERROR`), or undefined for a code we do not know. */
  get codeName(): ErrorName | undefined {
    return errorNameByCode.get(this.code);
  }

  toJSON(): { code: number; message: string; data?: ErrorData } {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

const errorNameByCode = new Map<number, ErrorName>(
  (Object.keys(errorCodes) as ErrorName[]).map((name) => [errorCodes[name].code, name]),
);

/** `rpcError("SWARM_ERROR", "Swarm x does not exist.", { reason: "not_found", swarmId })` */
export function rpcError(name: ErrorName, message: string, data?: ErrorData): RpcError {
  return new RpcError(errorCodes[name].code, message, data);
}
