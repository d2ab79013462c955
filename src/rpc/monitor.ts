import { MONITOR_DROPPED, MONITOR_REQUEST, type MonitorEvent } from "../protocol/monitor.js";
import type { Connection } from "../transport/connection.js";
import { isObject } from "./call.js";
import { notificationLine } from "./wire.js";

/** A connection that asked to see every request the daemon serves (the `monitor` method). */
export type MonitorSink = Pick<Connection, "id" | "remote" | "backedUp" | "whenDrained" | "send">;

/** The connection a request came on. */
type Requester = Pick<Connection, "id" | "remote">;

/** Characters of a request's parameters (their JSON) that a monitor is shown; the rest is cut off with "…". */
const PARAMS_SHOWN = 512;

/**
 * The monitors, and what each is told: one event per request served on any other connection — redis-cli MONITOR for
 * swarmd. A monitor that does not keep up loses events rather than holding the daemon or piling up memory; once it has
 * caught up it is told how many.
 */
export class Monitors {
  private readonly sinks = new Map<MonitorSink, { dropped: number }>();

  /** Checked on every request: with no monitor, serving one costs nothing more. */
  get active(): boolean {
    return this.sinks.size > 0;
  }

  add(sink: MonitorSink): void {
    if (!this.sinks.has(sink)) this.sinks.set(sink, { dropped: 0 });
  }

  remove(sink: MonitorSink): void {
    this.sinks.delete(sink);
  }

  has(sink: MonitorSink): boolean {
    return this.sinks.has(sink);
  }

  /** One request served on connection `from` (authenticated as `principal`): shown to every monitor but `from`. */
  served(from: Requester, principal: string | undefined, method: string, params: unknown, outcome: string, ms: number): void {
    let event: string | undefined;
    for (const [sink, state] of this.sinks) {
      if (sink === from) continue;
      if (sink.backedUp) {
        if (state.dropped++ === 0) sink.whenDrained(() => this.tellDropped(sink));
        continue;
      }
      this.tellDropped(sink);
      event ??= notificationLine(MONITOR_REQUEST, describe(from, principal, method, params, outcome, ms));
      sink.send(event);
    }
  }

  /** Once a monitor has caught up (or before its next event): how many events it lost meanwhile. */
  private tellDropped(sink: MonitorSink): void {
    const state = this.sinks.get(sink);
    if (state === undefined || state.dropped === 0) return;
    if (sink.backedUp) return sink.whenDrained(() => this.tellDropped(sink));
    sink.send(notificationLine(MONITOR_DROPPED, { count: state.dropped }));
    state.dropped = 0;
  }
}

function describe(from: Requester, principal: string | undefined, method: string, params: unknown, outcome: string, ms: number): MonitorEvent {
  const p = isObject(params) ? params : undefined;
  const tool = method === "tools/call" && typeof p?.name === "string" ? p.name : undefined;
  const shown = tool !== undefined ? p?.arguments : withoutToken(method, p ?? params);
  let text = shown === undefined ? undefined : JSON.stringify(shown);
  if (text !== undefined && text.length > PARAMS_SHOWN) text = `${text.slice(0, PARAMS_SHOWN)}…`;
  return {
    at: Date.now(),
    connection: from.id,
    remote: from.remote,
    ...(principal === undefined ? {} : { principal }),
    method,
    ...(tool === undefined ? {} : { tool }),
    ...(text === undefined ? {} : { params: text }),
    outcome,
    ms: Math.round(ms * 1000) / 1000,
  };
}

/** A token is never shown: authenticate's parameters are left out, initialize's _meta["swarmd/token"] hidden. */
function withoutToken(method: string, params: unknown): unknown {
  if (method === "authenticate") return undefined;
  if (method !== "initialize" || !isObject(params) || !isObject(params._meta) || !("swarmd/token" in params._meta)) return params;
  return { ...params, _meta: { ...params._meta, "swarmd/token": "<hidden>" } };
}
