/** What the load generator sends: options, keys and request lines, shared by the generator and the prefill steps. */
export interface LoadOptions {
  readonly port: number;
  readonly protocol: "ndjson" | "resp";
  readonly op: "ping" | "memory_store" | "memory_retrieve" | "agent_list" | "swarm_status" | "task_list" | "tools_list" | "PING" | "SET" | "GET";
  readonly connections: number;
  readonly depth: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly swarmId?: string;
  /** Distinct keys the memory operations spread over (default 10,000). */
  readonly keys?: number;
}

/** Every stored value: a 100-character string. */
export const VALUE = "v".repeat(100);

/** Key for request n: a fixed stride through the key space, so consecutive requests touch distant b-tree pages. */
export function keyFor(n: number, keys: number): string {
  return `k${(n * 7919) % keys}`;
}

export function requestLine(o: Pick<LoadOptions, "op" | "swarmId" | "keys">, n: number): string {
  const key = keyFor(n, o.keys ?? 10_000);
  const call = (name: string, args: object): string => `{"jsonrpc":"2.0","id":${n},"method":"tools/call","params":{"name":"${name}","arguments":${JSON.stringify(args)}}}\n`;
  switch (o.op) {
    case "ping":
      return `{"jsonrpc":"2.0","id":${n},"method":"ping"}\n`;
    case "memory_store":
      return call("memory_store", { key, value: VALUE });
    case "memory_retrieve":
      return call("memory_retrieve", { key });
    case "agent_list":
      return call("agent_list", { swarmId: o.swarmId });
    case "swarm_status":
      return call("swarm_status", { swarmId: o.swarmId });
    case "task_list":
      return call("task_list", { swarmId: o.swarmId, status: "failed", limit: 20 });
    case "tools_list":
      return `{"jsonrpc":"2.0","id":${n},"method":"tools/list"}\n`;
    case "PING":
      return "*1\r\n$4\r\nPING\r\n";
    case "SET":
      return `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${VALUE.length}\r\n${VALUE}\r\n`;
    case "GET":
      return `*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n`;
  }
}

