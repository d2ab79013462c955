/**
 * The file of a worker thread's entry module that lives beside this one: `.ts` when running from source (tests), `.js`
 * when built — under dist/src/store by tsc, or beside dist/swarmd.js in the bundle, which has an entry point for each.
 */
export function workerUrl(name: "checkpoint-worker" | "backup-worker"): URL {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return new URL(`./${name}.${ext}`, import.meta.url);
}
