import type { Topology } from "../protocol/agent-types.js";

export interface TopologyNode {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly status: string;
}

export interface TopologyEdge {
  readonly source: string;
  readonly target: string;
}

/**
 * Edges between a swarm's agents (in spawn order, terminated ones excluded), recomputed from the current members
 * whenever asked, so they follow agents joining and leaving:
 * - mesh: every pair;
 * - star: the hub (first coordinator, else first agent) to every other;
 * - ring: a cycle in spawn order;
 * - hierarchical: root (first coordinator, else first agent) → the first agent of each other type (its lead) → the
 *   rest of that type; other agents of the root's own type hang off the root.
 */
export function topologyEdges(topology: Topology, nodes: readonly TopologyNode[]): TopologyEdge[] {
  const edges: TopologyEdge[] = [];
  const link = (a: TopologyNode, b: TopologyNode): void => void edges.push({ source: a.id, target: b.id });
  if (nodes.length < 2) return edges;
  const root = nodes.find((n) => n.type === "coordinator") ?? (nodes[0] as TopologyNode);
  switch (topology) {
    case "mesh":
      for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) link(nodes[i] as TopologyNode, nodes[j] as TopologyNode);
      break;
    case "star":
      for (const n of nodes) if (n !== root) link(root, n);
      break;
    case "ring":
      for (let i = 0; i < nodes.length; i++) {
        if (nodes.length === 2 && i === 1) break; // two agents: one edge, not the same pair twice
        link(nodes[i] as TopologyNode, nodes[(i + 1) % nodes.length] as TopologyNode);
      }
      break;
    case "hierarchical": {
      const leads = new Map<string, TopologyNode>();
      for (const n of nodes) {
        if (n === root) continue;
        const lead = n.type === root.type ? root : leads.get(n.type);
        if (lead === undefined) {
          leads.set(n.type, n);
          link(root, n);
        } else link(lead, n);
      }
      break;
    }
  }
  return edges;
}

/** Levels of the graph: the longest chain from the root, counted in agents. */
export function coordinationLayers(topology: Topology, nodes: readonly TopologyNode[], edges: readonly TopologyEdge[]): number {
  if (nodes.length === 0) return 0;
  if (topology === "mesh" || topology === "ring" || nodes.length === 1) return 1;
  if (topology === "star") return 2;
  const children = new Map<string, string[]>();
  for (const e of edges) children.set(e.source, [...(children.get(e.source) ?? []), e.target]);
  const depth = (id: string): number => 1 + Math.max(0, ...(children.get(id) ?? []).map(depth));
  const targets = new Set(edges.map((e) => e.target));
  return Math.max(...nodes.filter((n) => !targets.has(n.id)).map((n) => depth(n.id)));
}

/**
 * Each agent's parent where the topology has a direction: star (the hub) and hierarchical (the root, or its type's
 * lead). Mesh and ring are peers: no agent has one.
 */
export function parentsOf(topology: Topology, nodes: readonly TopologyNode[]): Map<string, string> {
  const parents = new Map<string, string>();
  if (topology !== "star" && topology !== "hierarchical") return parents;
  for (const e of topologyEdges(topology, nodes)) parents.set(e.target, e.source);
  return parents;
}
