#!/usr/bin/env node
import { ConfigError, helpText, parseCli, type CliCommand } from "./config/cli.js";
import { Daemon, StartError } from "./daemon.js";
import { createLogger } from "./log.js";
import { StoreOpenError } from "./store/db.js";
import { RestoreError, restoreDatabase } from "./store/restore.js";
import { VERSION } from "./version.js";

/** The swarmd command: configuration → daemon → signals. Exit codes: 0 clean stop, 1 failure, 2 bad configuration. */
async function main(): Promise<void> {
  let command: CliCommand;
  try {
    command = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`swarmd: ${err.message}\n`);
    process.exit(2);
  }
  if (command.kind === "help") {
    process.stdout.write(helpText(VERSION));
    return;
  }
  if (command.kind === "version") {
    process.stdout.write(`swarmd ${VERSION}\n`);
    return;
  }

  if (command.kind === "restore") return restore(command.backup, command.config.db);

  const { config } = command;
  const { log, reopen } = createLogger({ level: config.logLevel, file: config.logFile, format: config.logFormat });
  process.on("uncaughtException", (err) => {
    log.fatal({ err }, "uncaught exception; exiting");
    process.exit(1);
  });

  const daemon = new Daemon({ config, log });
  // SIGHUP reopens the log file, as logrotate expects (its default moves the file away and creates a new one), and
  // reads the tokens file and TLS files again. With none of them configured SIGHUP keeps its default: a closed
  // terminal ends the process.
  if (reopen !== undefined || config.authTokensFile !== undefined || config.tlsCert !== undefined) {
    process.on("SIGHUP", () => {
      if (reopen !== undefined) {
        reopen();
        log.info({ file: config.logFile }, "log file reopened (SIGHUP)");
      }
      daemon.reload();
    });
  }
  try {
    await daemon.start();
  } catch (err) {
    // A failure the daemon explained (a port in use, a database another swarmd holds, a bad TLS file) is one line;
    // anything else keeps its stack.
    const explained = err instanceof StartError || err instanceof StoreOpenError;
    const reason = err instanceof Error ? err.message : String(err);
    log.fatal(explained ? {} : { err }, reason);
    if (config.logFile) process.stderr.write(`swarmd: ${reason}\n`);
    await daemon.close();
    process.exit(1);
  }

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) {
      log.warn({ why }, "second signal: exiting without waiting");
      process.exit(1);
    }
    stopping = true;
    log.info({ why }, "shutting down");
    daemon.close().then(
      () => process.exit(daemon.exitCode),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  void daemon.stopRequested.then(stop);
}

/** `swarmd restore`: one line on success (stdout) or failure (stderr, exit 1). */
async function restore(backup: string, db: string): Promise<void> {
  try {
    const done = await restoreDatabase(backup, db);
    const kept = done.keptAt === undefined ? "" : `; the database it replaced is kept at ${done.keptAt}`;
    process.stdout.write(`restored ${backup} into ${db} (${done.bytes} bytes, schema version ${done.schemaVersion})${kept}\n`);
  } catch (err) {
    if (!(err instanceof RestoreError)) throw err;
    process.stderr.write(`swarmd: cannot restore: ${err.message}\n`);
    process.exit(1);
  }
}

void main();
