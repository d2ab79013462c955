#!/usr/bin/env node
// Bundles the daemon into dist/swarmd.js (plus its checkpoint and backup workers and lazily loaded chunks) after tsc has
// type-checked and emitted dist/src. One file instead of ~200 ES modules: resolving and loading them one by one was a
// quarter of swarmd's startup. better-sqlite3 stays outside (a native addon); CommonJS dependencies get a real
// require() through the banner.
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { build } from "esbuild";

/** zod's index of 40-odd message locales, of which swarmd uses English: a third of the code parsed at startup. */
const englishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};

rmSync("dist/chunks", { recursive: true, force: true }); // chunk names carry a hash: no stale ones left behind

await build({
  entryPoints: { swarmd: "src/main.ts", "checkpoint-worker": "src/store/checkpoint-worker.ts", "backup-worker": "src/store/backup-worker.ts" },
  outdir: "dist",
  // Dynamic imports (prom-client, loaded on the first /metrics scrape) become chunks that load when used.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["better-sqlite3"],
  banner: { js: "import { createRequire as __swarmdRequire } from 'node:module';\nconst require = __swarmdRequire(import.meta.url);" },
  plugins: [englishOnly],
  sourcemap: "linked",
  logLevel: "warning",
});
