import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderProtocolFiles } from "./protocol-files.js";

// Usage: node dist/scripts/gen-protocol.js [--check]
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "protocol");
const check = process.argv.includes("--check");
const stale: string[] = [];
for (const [name, content] of renderProtocolFiles()) {
  const path = join(root, name);
  let current: string | undefined;
  try {
    current = readFileSync(path, "utf8");
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  if (check) stale.push(name);
  else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    process.stdout.write(`wrote protocol/${name}\n`);
  }
}
if (stale.length > 0) {
  process.stderr.write(`protocol/ is stale (${stale.join(", ")}); run: npm run gen:protocol\n`);
  process.exit(1);
}
