import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import t from "tap";
import { ConfigError, helpText, parseCli } from "../src/config/cli.js";
import { settings } from "../src/config/settings.js";
import { MAIN } from "./helpers/spawn.js";

function run(argv: string[], env: Record<string, string> = {}) {
  const c = parseCli(argv, env);
  if (c.kind !== "run") throw new Error(c.kind);
  return c.config;
}

t.test("defaults match the protocol document and DESIGN §4", async (t) => {
  const c = run([]);
  t.equal(c.port, 9500);
  t.equal(c.bind, "127.0.0.1");
  t.equal(c.db, resolve("./data/swarmd.db"), "the database path is absolute");
  t.equal(c.stdio, false);
  t.equal(c.logLevel, "info");
  t.equal(c.maxMessageBytes, 10 * 1024 * 1024);
  t.equal(c.batchMaxItems, 100);
  t.equal(c.resultMirror, true);
  t.ok(Object.isFrozen(c));
});

t.test("environment names from the protocol document and SWARMD_*; flags win over the environment", async (t) => {
  const env = { MCP_TCP_PORT: "9600", MCP_LOG_LEVEL: "debug", MCP_LOG_FILE: "/tmp/x.log", SWARMD_BIND: "0.0.0.0", SWARMD_DB: "/tmp/a.db", SWARMD_PROTECTED: "0" };
  const fromEnv = run([], env);
  t.same([fromEnv.port, fromEnv.logLevel, fromEnv.logFile, fromEnv.bind, fromEnv.db], [9600, "debug", "/tmp/x.log", "0.0.0.0", "/tmp/a.db"]);
  const fromFlags = run(["--port", "9700", "--bind=::1", "--db", "rel.db", "--log-level", "warn", "--stdio"], env);
  t.same([fromFlags.port, fromFlags.bind, fromFlags.db, fromFlags.logLevel, fromFlags.stdio], [9700, "::1", resolve("rel.db"), "warn", true]);
  t.equal(run(["--no-result-mirror"]).resultMirror, false);
  t.equal(run(["--result-mirror=false"]).resultMirror, false);
  t.equal(run([], { SWARMD_RESULT_MIRROR: "0" }).resultMirror, false);
  t.equal(run([], { SWARMD_IDLE_TIMEOUT: "1.5" }).idleTimeoutMs, 1500, "durations are seconds, held as ms");
  t.equal(run([], { MCP_TCP_PORT: "" }).port, 9500, "an empty variable counts as unset");
});

t.test("invalid configuration is one line naming the setting and what it accepts", async (t) => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [["--port", "abc"], {}, /^--port must be an integer from 0 to 65535, got "abc"$/],
    [[], { MCP_TCP_PORT: "70000" }, /^MCP_TCP_PORT must be an integer/],
    [[], { MCP_LOG_LEVEL: "loud" }, /^MCP_LOG_LEVEL must be fatal, error/],
    [["--stdio=maybe"], {}, /^--stdio must be true or false/],
    [["--max-message-bytes", "10"], {}, /^--max-message-bytes must be an integer from 1024/],
    [["--bogus"], {}, /^unknown option "--bogus"/],
    [["--port"], {}, /^option --port needs a value/],
  ];
  for (const [argv, env, message] of cases) {
    t.throws(() => parseCli(argv, env), { name: "ConfigError", message }, JSON.stringify([argv, env]));
  }
  t.ok(new ConfigError("x") instanceof Error);
});

t.test("--help lists every setting with its flag, variable and default", async (t) => {
  t.same(parseCli(["--help"], {}), { kind: "help" });
  const help = helpText("1.2.3");
  for (const s of Object.values(settings)) {
    t.match(help, s.flag.slice(2));
    t.match(help, s.env);
    t.match(help, s.shownDefault);
  }
  t.match(help, /^  SIGHUP +reopen the log file; read the tokens file and the TLS files again/m, "and what the signals do");
});

t.test("the README's configuration table lists every setting", async (t) => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  for (const s of Object.values(settings)) t.match(readme, new RegExp("\\| `" + s.flag + "`.*\\| `" + s.env + "` \\|"), s.env);
});

t.test("the binary: --help exits 0, bad configuration exits 2 with one line", async (t) => {
  const help = spawnSync(process.execPath, [MAIN, "--help"], { encoding: "utf8" });
  t.equal(help.status, 0);
  t.match(help.stdout, /Usage: swarmd/);
  const version = spawnSync(process.execPath, [MAIN, "--version"], { encoding: "utf8" });
  t.match(version.stdout, /^swarmd \d+\.\d+\.\d+\n$/);
  const bad = spawnSync(process.execPath, [MAIN], { encoding: "utf8", env: { ...process.env, MCP_TCP_PORT: "nope" } });
  t.equal(bad.status, 2);
  t.equal(bad.stderr, 'swarmd: MCP_TCP_PORT must be an integer from 0 to 65535, got "nope"\n');
  t.equal(bad.stdout, "");
});
