import { connect } from "node:net";
import { requestLine } from "./requests.js";

/** SETs the keys the load generator's GETs will read, pipelined over one connection; resolves once all are acknowledged. */
export async function prefillRedis(port: number, keys: number): Promise<void> {
  const socket = connect({ port, host: "127.0.0.1" });
  await new Promise((r) => socket.once("connect", r));
  let commands = "";
  for (let i = 0; i < keys; i++) commands += requestLine({ op: "SET", keys }, i);
  await new Promise<void>((resolve, reject) => {
    // Every reply is the five bytes "+OK\r\n"; anything else would be an error reply.
    let received = 0;
    socket.on("data", (chunk: Buffer) => {
      if (chunk[0] === 45 /* - */) reject(new Error(`redis refused a SET: ${chunk.toString("latin1", 0, 200)}`));
      received += chunk.length;
      if (received >= keys * 5) resolve();
    });
    socket.once("error", reject);
    socket.write(commands);
  });
  socket.destroy();
}
