import type { Logger } from "../log.js";

/** The per-connection state a tool may read or change. Implemented by the rpc layer's session. */
export interface ToolSession {
  readonly connectionId: number;
  /** The swarm swarm_init last created on this connection; calls that omit swarmId may mean it. */
  currentSwarmId: string | undefined;
  /** Send a JSON-RPC notification to this connection's client. */
  notify(method: string, params: object): void;
  /** Run `fn` once the connection has closed. */
  onClose(fn: () => void): void;
}

/** What every tool handler receives besides its validated arguments. */
export interface ToolContext {
  readonly session: ToolSession;
  /** Aborted when the client sends notifications/cancelled for this request, or at shutdown. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Reports progress; becomes notifications/progress when the request carried `_meta.progressToken`. */
  progress(progress: number, total?: number, message?: string): void;
}
