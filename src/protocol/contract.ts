import type { z } from "zod";
import type { ToolAnnotations } from "./mcp.js";

export type { ToolAnnotations };

/**
 * A tool's contract, declared once and shared by the server (validation, tools/list, protocol/ generation) and the
 * client (typed helpers). Inputs are plain objects so that they convert to JSON Schema faithfully; forms that real
 * clients send differently (COMPAT.md) are extra optional properties normalised by the tool's handler.
 */
export interface ToolContract<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject, N extends string = string> {
  readonly name: N;
  readonly description: string;
  readonly input: I;
  readonly output: O;
  readonly annotations: ToolAnnotations;
  /** Only an admin token may call it (when tokens are configured): it acts on the daemon's host, not on swarm state. */
  readonly adminOnly?: boolean;
}

/** The smallest token scope that may call the tool: read-only tools are open to `read`, the rest need `write`. */
export function requiredScope(contract: ToolContract): "read" | "write" | "admin" {
  if (contract.adminOnly === true) return "admin";
  return contract.annotations.readOnlyHint === true ? "read" : "write";
}

export function defineTool<const N extends string, I extends z.ZodObject, O extends z.ZodObject>(contract: ToolContract<I, O, N>): ToolContract<I, O, N> {
  return contract;
}

/** What a caller may send (defaults not yet applied). */
export type ToolInput<C extends ToolContract> = z.input<C["input"]>;
/** What a handler receives after validation (defaults applied). */
export type ToolArgs<C extends ToolContract> = z.output<C["input"]>;
/** What the tool returns, as `structuredContent`. */
export type ToolPayload<C extends ToolContract> = z.output<C["output"]>;
