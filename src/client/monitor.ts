import { MONITOR_DROPPED, MONITOR_REQUEST, monitorDropped, monitorEvent, type MonitorEvent } from "../protocol/monitor.js";
import { ClientConnection } from "./connection.js";
import { ClientError } from "./errors.js";
import type { ResolvedClientOptions } from "./options.js";

export interface MonitorHandlers {
  /** A request served on another connection, as the daemon answered it. */
  readonly onRequest: (event: MonitorEvent) => void;
  /** This many events were lost while this side read too slowly. */
  readonly onDropped?: (count: number) => void;
  /** The daemon has started sending events. */
  readonly onStart?: (serverVersion: string | undefined) => void;
}

/**
 * Every request the daemon serves, on a connection of its own (the monitor method), until `signal` fires: then it
 * resolves. Rejects when the daemon cannot be reached, refuses (monitor needs an admin token when tokens are on: an
 * RpcError "forbidden"), or the connection is lost (ClientError CONNECTION_CLOSED).
 */
export async function monitorRequests(options: ResolvedClientOptions, handlers: MonitorHandlers, signal?: AbortSignal): Promise<void> {
  const conn = await ClientConnection.open(options, (method, params) => {
    if (method === MONITOR_REQUEST) {
      const event = monitorEvent.safeParse(params);
      if (event.success) handlers.onRequest(event.data);
    } else if (method === MONITOR_DROPPED) {
      const dropped = monitorDropped.safeParse(params);
      if (dropped.success) handlers.onDropped?.(dropped.data.count);
    }
  });
  try {
    if (signal?.aborted) return;
    try {
      await conn.request("monitor", {}, { signal });
    } catch (err) {
      if (signal?.aborted) return; // stopped before it started: still a stop, not a failure
      throw err;
    }
    handlers.onStart?.(conn.serverVersion);
    const stopped = new Promise<"stopped">((resolve) => signal?.addEventListener("abort", () => resolve("stopped"), { once: true }));
    const lost = await Promise.race([conn.closed, stopped]);
    if (lost instanceof ClientError) throw new ClientError("CONNECTION_CLOSED", "The connection to the daemon was lost.", { cause: lost });
  } finally {
    await conn.close();
  }
}
