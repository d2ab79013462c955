import { createServer } from "node:net";

// The ceiling for any Node daemon: an NDJSON server that answers ping with the least work that is still correct —
// split lines, JSON.parse each to read its id, one write per chunk. Usage: node ceiling.js <port>
const port = Number(process.argv[2] ?? 0);
const server = createServer({ noDelay: true }, (socket) => {
  let rest = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    const text = rest + chunk;
    let out = "";
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      const id = (JSON.parse(text.slice(start, nl)) as { id: unknown }).id;
      out += '{"jsonrpc":"2.0","id":' + JSON.stringify(id) + ',"result":{"status":"ok","timestamp":' + Date.now() + "}}\n";
      start = nl + 1;
    }
    rest = text.slice(start);
    if (out) socket.write(out);
  });
  socket.on("error", () => {});
});
server.listen(port, "127.0.0.1", () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
