import type { MonitorEvent } from "../../client/index.js";
import type { Command } from "./context.js";

/** One event as a line: time (UTC), connection, who, what, how it ended, how long it took. */
function line(e: MonitorEvent): string {
  const who = [String(e.connection), e.remote, e.principal].filter(Boolean).join(" ");
  const what = [e.method, e.tool, e.params].filter(Boolean).join(" ");
  return `${new Date(e.at).toISOString().slice(11, 23)} [${who}] ${what} ${e.outcome} ${e.ms.toFixed(1)} ms\n`;
}

export const monitor: Command = {
  name: "monitor",
  usage: "monitor",
  summary: "Show every request the daemon serves as it serves it, until Ctrl-C (needs an admin token)",
  interruptible: true,
  holdsConnection: true,
  async run(ctx) {
    await ctx.client.monitor(
      {
        onStart: (version) => process.stderr.write(`swarmctl: monitoring ${version === undefined ? "" : `swarmd ${version} `}(Ctrl-C to stop)\n`),
        onRequest: (event) => ctx.print(event, () => line(event)),
        onDropped: (count) => process.stderr.write(`swarmctl: ${count} requests not shown: this output fell behind\n`),
      },
      { signal: ctx.signal },
    );
    return 0;
  },
};
