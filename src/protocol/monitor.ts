import { z } from "zod";

/** The monitor method's notifications: one a request served on another connection, and a count of those not sent. */
export const MONITOR_REQUEST = "notifications/monitor/request";
export const MONITOR_DROPPED = "notifications/monitor/dropped";

export const monitorEvent = z.object({
  /** When it was answered, ms since the epoch. */
  at: z.number(),
  /** The connection that sent it (its id in the daemon's log), its address, and its token's name once authenticated. */
  connection: z.number(),
  remote: z.string(),
  principal: z.string().optional(),
  method: z.string(),
  /** For tools/call: the tool; `params` are then its arguments. */
  tool: z.string().optional(),
  /** The parameters as JSON, cut at 512 characters with "…"; a token is never shown. */
  params: z.string().optional(),
  /** "ok", the error's name (INVALID_PARAMS, …) or "cancelled". */
  outcome: z.string(),
  ms: z.number(),
});
export type MonitorEvent = z.infer<typeof monitorEvent>;

export const monitorDropped = z.object({ count: z.number().int().positive() });
