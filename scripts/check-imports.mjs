#!/usr/bin/env node
// Fails on import cycles and on imports that break the layering of DESIGN §1.
// Usage: node scripts/check-imports.mjs [srcDir]   (default: src)
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const root = resolve(process.argv[2] ?? "src");
const managers = ["swarm", "agent", "task", "memory"];

/** Layer (first folder under src/, or "." for top-level files) → layers it must not import. */
const forbidden = {
  protocol: ["*"], // the contract imports nothing of ours
  transport: ["*"],
  store: ["*"],
  client: ["*"], // the library users import: the contract and line framing, nothing of the server
  rpc: [...managers, "store", "client", "cli"],
  tools: ["rpc", "transport", "client", "cli"],
  ...Object.fromEntries(managers.map((m) => [m, ["rpc", "transport", "tools", "client", "cli"]])),
};
/** Layers every layer may import (besides itself), even those marked "*". */
const shared = { protocol: [], transport: [], store: ["protocol"], client: ["protocol", "transport"] };

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  });
}

const importRe = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function importsOf(file) {
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found = [];
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    found.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
  }
  return found;
}

function layerOf(file) {
  const rel = relative(root, file).split(sep);
  return rel.length > 1 ? rel[0] : ".";
}

const graph = new Map(files(root).map((f) => [f, importsOf(f)]));
const problems = [];

for (const [file, deps] of graph) {
  const from = layerOf(file);
  for (const dep of deps) {
    if (!graph.has(dep)) {
      problems.push(`${relative(root, file)} imports ${relative(root, dep)}, which does not exist`);
      continue;
    }
    const to = layerOf(dep);
    if (to === from) continue;
    const rule = forbidden[from] ?? [];
    const banned = rule.includes("*") ? !(shared[from] ?? []).includes(to) : rule.includes(to);
    if (banned) problems.push(`layering: ${relative(root, file)} (${from}/) must not import ${relative(root, dep)} (${to}/)`);
  }
}

// Cycles: depth-first search with colours; each cycle reported once.
const state = new Map();
const stack = [];
const seen = new Set();
function visit(file) {
  state.set(file, "active");
  stack.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (!graph.has(dep)) continue;
    if (state.get(dep) === "active") {
      const cycle = stack.slice(stack.indexOf(dep)).map((f) => relative(root, f));
      const key = [...cycle].sort().join(" ");
      if (!seen.has(key)) {
        seen.add(key);
        problems.push(`cycle: ${[...cycle, cycle[0]].join(" -> ")}`);
      }
    } else if (!state.has(dep)) visit(dep);
  }
  stack.pop();
  state.set(file, "done");
}
for (const file of graph.keys()) if (!state.has(file)) visit(file);

if (problems.length > 0) {
  for (const p of problems) process.stderr.write(p + "\n");
  process.stderr.write(`${problems.length} import problem(s) in ${root}\n`);
  process.exit(1);
}
process.stdout.write(`imports ok: ${graph.size} files, no cycles, layering respected\n`);
