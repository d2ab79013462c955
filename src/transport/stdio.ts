import type { Readable, Writable } from "node:stream";
import { StreamConnection, type Connection } from "./connection.js";

/**
 * The protocol on a readable/writable pair — stdin/stdout for MCP hosts that launch servers as child processes.
 * The same framing and write coalescing as TCP; the connection closes when the input ends and replies are written.
 */
export function stdioConnection(input: Readable, output: Writable, limits: { maxMessageBytes: number; outputSoftLimit: number; outputHardLimit: number }): Connection {
  const conn: StreamConnection = new StreamConnection({
    kind: "stdio",
    remote: "stdio",
    input,
    output,
    ...limits,
    finish: () => conn.handleClose(),
    kill: () => {
      input.destroy();
      conn.handleClose();
    },
  });
  // EPIPE: the host went away; there is no one left to answer.
  output.on("error", (err) => {
    conn.onerror(err);
    conn.handleClose();
  });
  input.on("error", (err) => conn.onerror(err));
  return conn;
}
