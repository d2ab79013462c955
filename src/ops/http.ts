import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { DaemonMetrics } from "./metrics.js";

export type Readiness = "starting" | "ready" | "shutting_down";

/**
 * The HTTP side port for operators and orchestrators: /health (the process answers), /ready (the database is open and
 * connections are accepted; 503 while starting or shutting down) and /metrics (Prometheus text).
 */
export class OpsServer {
  state: Readiness = "starting";
  private readonly server: Server;

  constructor(
    private readonly options: { host: string; port: number },
    private readonly metrics: DaemonMetrics,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off("error", reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "method not allowed" }, { allow: "GET, HEAD" });
    if (path === "/health") return send(res, 200, { status: "ok" });
    if (path === "/ready") return send(res, this.state === "ready" ? 200 : 503, { status: this.state });
    if (path === "/metrics") {
      try {
        const { text, contentType } = await this.metrics.text();
        res.writeHead(200, { "content-type": contentType }).end(req.method === "HEAD" ? undefined : text);
      } catch (err) {
        send(res, 500, { error: (err as Error).message });
      }
      return;
    }
    send(res, 404, { error: "not found", paths: ["/health", "/ready", "/metrics"] });
  }
}

function send(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body) + "\n");
}
