import { rpcError } from "../protocol/errors.js";

export interface PhaseSpec {
  readonly name: string;
  readonly description?: string | undefined;
  readonly requiredCapabilities?: readonly string[] | undefined;
  readonly parallelism?: number | undefined;
  readonly dependsOn?: readonly string[] | undefined;
  readonly input?: unknown;
}

/**
 * Checks a task's phases and returns them in an order where every phase comes after the phases it depends on, each
 * with its final dependency list. With `sequential`, a phase that names no dependencies waits for the one before it.
 */
export function orderPhases(phases: readonly PhaseSpec[], sequential: boolean): Array<PhaseSpec & { deps: string[] }> {
  const names = new Set<string>();
  for (const p of phases) {
    if (names.has(p.name)) throw rpcError("TASK_ERROR", `Two phases are named ${JSON.stringify(p.name)}.`, { reason: "duplicate_phase", phase: p.name });
    names.add(p.name);
  }
  const withDeps = phases.map((p, i) => {
    const deps = p.dependsOn !== undefined ? [...p.dependsOn] : sequential && i > 0 ? [(phases[i - 1] as PhaseSpec).name] : [];
    for (const d of deps) {
      if (!names.has(d)) throw rpcError("TASK_ERROR", `Phase ${p.name} depends on unknown phase ${JSON.stringify(d)}.`, { reason: "unknown_phase", phase: p.name, dependsOn: d });
    }
    return { ...p, deps };
  });
  const byName = new Map(withDeps.map((p) => [p.name, p]));
  const ordered: Array<PhaseSpec & { deps: string[] }> = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw rpcError("TASK_ERROR", `Phases depend on each other in a cycle: ${cycle.join(" → ")}.`, { reason: "dependency_cycle", ids: cycle });
    }
    state.set(name, "visiting");
    const phase = byName.get(name) as PhaseSpec & { deps: string[] };
    for (const d of phase.deps) visit(d, [...path, name]);
    state.set(name, "done");
    ordered.push(phase);
  };
  for (const p of withDeps) visit(p.name, []);
  return ordered;
}
