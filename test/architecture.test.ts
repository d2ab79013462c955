import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { tempDir } from "./helpers/daemon.js";

const CHECK = new URL("../scripts/check-imports.mjs", import.meta.url).pathname;

function check(dir: string) {
  return spawnSync(process.execPath, [CHECK, dir], { encoding: "utf8" });
}

t.test("src/ has no import cycles and respects the layering", async (t) => {
  const r = check("src");
  t.equal(r.status, 0, r.stderr);
});

t.test("the checker catches a cycle and a layering violation", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "transport"));
  mkdirSync(join(dir, "rpc"));
  writeFileSync(join(dir, "a.ts"), 'import { b } from "./b.js";\nexport const a = b;\n');
  writeFileSync(join(dir, "b.ts"), 'import type { a } from "./a.js";\nexport const b = 1;\n');
  writeFileSync(join(dir, "rpc", "x.ts"), "export const x = 1;\n");
  writeFileSync(join(dir, "transport", "t.ts"), 'import { x } from "../rpc/x.js";\nexport const t = x;\n');
  const r = check(dir);
  t.equal(r.status, 1);
  t.match(r.stderr, /cycle: a\.ts -> b\.ts -> a\.ts|cycle: b\.ts -> a\.ts -> b\.ts/);
  t.match(r.stderr, /layering: transport\/t\.ts \(transport\/\) must not import rpc\/x\.ts/);
});

t.test("every source file stays under ~300 lines", async (t) => {
  const { readdirSync, readFileSync, statSync } = await import("node:fs");
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  for (const f of walk("src").filter((f) => f.endsWith(".ts"))) {
    const lines = readFileSync(f, "utf8").split("\n").length;
    t.ok(lines <= 320, `${f}: ${lines} lines`);
  }
});
