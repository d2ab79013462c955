import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { renderProtocolFiles } from "./protocol-files.js";

// Usage: node dist/scripts/gen-protocol.js [--check]
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "protocol");
const check = process.argv.includes("--check");
const files = await renderProtocolFiles();
const stale: string[] = [];
const existing = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? existing(join(dir, d.name)) : [relative(root, join(dir, d.name))]));
for (const name of existing(root)) {
  if (files.has(name)) continue;
  if (check) stale.push(`${name} (no longer generated)`);
  else rmSync(join(root, name));
}
for (const [name, content] of files) {
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
process.exit(0);
