import { envelopeJson, envelopePieces } from "../protocol/envelope.js";
import { rpcError, type RpcError } from "../protocol/errors.js";
import { negotiateProtocolVersion } from "../protocol/mcp.js";
import { Serialized } from "../protocol/serialized.js";
import type { ToolRegistry } from "../tools/registry.js";
import { asRpcError, isObject, isPromiseLike, type Call, type MethodHandler, type MethodSpec, type MethodTable } from "./call.js";
import { batchTooLarge } from "./batch.js";
import { RawJson, batchItemText } from "./wire.js";

export interface McpOptions {
  readonly tools: ToolRegistry;
  readonly version: string;
  /** Mirror payload keys onto tools/call results (DESIGN §2). */
  readonly resultMirror: boolean;
  readonly batchMaxItems: number;
}

/** Only what is implemented: tools, whose list never changes while the daemon runs. */
const CAPABILITIES = { tools: { listChanged: false } };

const INSTRUCTIONS =
  "swarmd keeps swarms, agents, tasks and memory in SQLite. Call server_info to see this daemon's state; tools/list describes every tool with its input and output schema. Tool failures are JSON-RPC errors with a data.reason.";

const EMPTY = Object.freeze({});
const EMPTY_JSON = new RawJson("{}");

/** The MCP methods (initialize, ping, tools/*, notifications) plus swarmd's `authenticate`, `monitor` and `batch`. */
export function mcpMethods(options: McpOptions): MethodTable {
  const table = new Map<string, MethodSpec>();
  const add = (name: string, handler: MethodHandler, batchable = true): void => {
    table.set(name, { handler, batchable });
  };

  const initialize = (p: Record<string, unknown>, call: Call) => {
    const protocolVersion = negotiateProtocolVersion(p.protocolVersion);
    call.session.markInitialized(protocolVersion, p.clientInfo);
    return { protocolVersion, capabilities: CAPABILITIES, serverInfo: { name: "swarmd", version: options.version }, instructions: INSTRUCTIONS };
  };
  add(
    "initialize",
    (params, call) => {
      const p = isObject(params) ? params : {};
      // A token may come with the handshake (_meta["swarmd/token"]) instead of a separate authenticate call.
      const token = isObject(p._meta) ? p._meta["swarmd/token"] : undefined;
      return token === undefined ? initialize(p, call) : authenticate(call, token).then(() => initialize(p, call));
    },
    false,
  );
  add("authenticate", (params, call) =>
    authenticate(call, isObject(params) ? params.token : undefined).then((p) => ({ authenticated: true, principal: p.name, scope: p.scope })),
  );
  add("notifications/initialized", () => EMPTY);
  add("notifications/cancelled", (params, call) => {
    if (isObject(params)) call.session.cancel(params.requestId);
    return EMPTY;
  });
  // Health probes (nc, load balancers) never initialize and read a status; after initialize MCP requires `{}`.
  add("ping", (_params, call) => (call.session.initialized ? EMPTY_JSON : new RawJson('{"status":"ok","timestamp":' + Date.now() + "}")));
  add("tools/list", (params) => new RawJson(options.tools.listPage(isObject(params) ? params.cursor : undefined)));
  // redis-cli's MONITOR for swarmd: from now on this connection is also sent every request the others make.
  add(
    "monitor",
    (_params, call) => {
      call.session.monitor();
      return { monitoring: true };
    },
    false,
  );

  const envelope = (payload: unknown): RawJson =>
    new RawJson(
      payload instanceof Serialized
        ? envelopePieces(payload.json, payload.quoted, options.resultMirror)
        : envelopeJson(JSON.stringify(payload), options.resultMirror),
    );
  add("tools/call", (params, call) => {
    if (!isObject(params)) throw invalidParams("tools/call params must be an object {name, arguments}.");
    const payload = options.tools.call(params.name, params.arguments, call);
    return isPromiseLike(payload) ? Promise.resolve(payload).then(envelope) : envelope(payload);
  });

  const itemsOf = (params: unknown): unknown[] | undefined =>
    Array.isArray(params) ? params : isObject(params) && Array.isArray(params.requests) ? params.requests : undefined;
  table.set("batch", {
    handler: (params, call) => {
      const items = itemsOf(params);
      if (items === undefined) throw invalidParams("batch params must be an array of {method, params}, or {requests: [...]}.");
      if (items.length > options.batchMaxItems) throw batchTooLarge(items.length, options.batchMaxItems);
      return runBatch(table, items, call);
    },
    batchable: false,
    cost: (params) => Math.max(1, itemsOf(params)?.length ?? 1),
  });
  return table;
}

/** After this many wrong tokens in a row the connection is closed (a second later). */
const MAX_AUTH_FAILURES = 3;

/** A wrong token is answered late, later each time, so guessing is slow; the third closes the connection. */
async function authenticate(call: Call, token: unknown) {
  try {
    return call.session.authenticate(token);
  } catch (err) {
    const failures = call.session.guard.failures;
    await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** (failures - 1), 2000)));
    if (failures >= MAX_AUTH_FAILURES) call.session.closeAfter(1000);
    throw err;
  }
}

/** Items run one after another, in order, so a batch can store then read; each gets its own result or error. */
async function runBatch(table: MethodTable, items: unknown[], call: Call): Promise<RawJson> {
  const parts: string[] = [];
  for (const item of items) {
    parts.push(batchItemText(await runBatchItem(table, item, call)));
    call.session.countRequest();
  }
  return new RawJson("[" + parts.join(",") + "]");
}

async function runBatchItem(table: MethodTable, item: unknown, call: Call): Promise<{ result: unknown } | { error: RpcError }> {
  if (!isObject(item) || typeof item.method !== "string") {
    return { error: rpcError("INVALID_REQUEST", "Invalid Request: each batch item needs a string method.") };
  }
  const spec = table.get(item.method);
  if (spec === undefined) {
    return { error: rpcError("METHOD_NOT_FOUND", `Method not found: ${JSON.stringify(item.method)}.`, { method: item.method }) };
  }
  try {
    call.session.guard.authorize(item.method, item.params);
  } catch (err) {
    return { error: asRpcError(err, call) };
  }
  if (!spec.batchable) {
    return {
      error: rpcError("INVALID_REQUEST", `${item.method} cannot be an item of a batch.`, { reason: "not_allowed_in_batch" }),
    };
  }
  if (call.abortedFor !== undefined) return { error: asRpcError(call.signal.reason, call) };
  try {
    const out = spec.handler(item.params, call);
    return { result: isPromiseLike(out) ? await out : out };
  } catch (err) {
    return { error: asRpcError(err, call) };
  }
}

function invalidParams(message: string): RpcError {
  return rpcError("INVALID_PARAMS", message, { reason: "invalid_params" });
}
