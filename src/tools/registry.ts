import { z } from "zod";
import { requiredScope, type ToolArgs, type ToolContract, type ToolPayload } from "../protocol/contract.js";
import { performance } from "node:perf_hooks";
import { RpcError, rpcError } from "../protocol/errors.js";
import type { ToolDefinition } from "../protocol/mcp.js";
import type { Serialized } from "../protocol/serialized.js";
import type { ToolContext } from "./context.js";
import type { SwarmGate } from "./gate.js";

/** A contract bound to the function that serves it. Handlers are thin: validated args → a manager call → a payload. */
export interface ToolBinding {
  readonly contract: ToolContract;
  readonly handler: (args: never, ctx: ToolContext) => object | Promise<object>;
}

/** What a handler returns: its payload, or the payload already serialised (see Serialized). */
export type HandlerResult<C extends ToolContract> = ToolPayload<C> | Serialized<ToolPayload<C>>;

export function bind<C extends ToolContract>(
  contract: C,
  handler: (args: ToolArgs<C>, ctx: ToolContext) => HandlerResult<C> | Promise<HandlerResult<C>>,
): ToolBinding {
  return { contract, handler: handler as ToolBinding["handler"] };
}

/** Applies `fn` to a value that may or may not be a promise, staying synchronous when it is not. */
export function after<T, U>(value: T | Promise<T>, fn: (resolved: T) => U): U | Promise<U> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

/** A -32602 for an argument the schema could not express as required (it depends on another argument). */
export function missingArgument(tool: string, path: string, why: string): RpcError {
  return rpcError("INVALID_PARAMS", `Invalid arguments for ${tool}: ${path}: ${why}.`, {
    reason: "invalid_arguments",
    tool,
    issues: [{ path, code: "invalid_type", message: why }],
  });
}

/** JSON Schema (draft-07 vocabulary, which every MCP client validator reads) without the `$schema` marker. */
function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: "draft-7", io }) as Record<string, unknown>;
  return rest;
}

export function describeTool(contract: ToolContract): ToolDefinition {
  const { title, ...hints } = contract.annotations;
  return {
    name: contract.name,
    ...(title === undefined ? {} : { title }),
    description: contract.description,
    inputSchema: jsonSchemaOf(contract.input, "input"),
    outputSchema: jsonSchemaOf(contract.output, "output"),
    annotations: { ...(title === undefined ? {} : { title }), ...hints },
  };
}

export interface RegistryOptions {
  /** Tools per tools/list page. */
  readonly pageSize: number;
  /** Per-swarm concurrency limit. */
  readonly gate?: SwarmGate | undefined;
  /** Told about every tool call: its name ("unknown" for tools that do not exist), outcome and time. */
  readonly observe?: ((tool: string, outcome: string, ms: number) => void) | undefined;
  /** Log destructive calls at info with their principal: asked per call, true while tokens make principals meaningful. */
  readonly audit?: (() => boolean) | undefined;
}

export class ToolRegistry {
  private readonly byName = new Map<string, ToolBinding>();
  /** tools/list result JSON per page, computed once: the tool set does not change while the daemon runs. */
  private readonly pages: string[] = [];
  /** Tools described ahead of the first tools/list (see warm). */
  private readonly described = new Map<string, ToolDefinition>();

  private readonly pageSize: number;
  private readonly gate: SwarmGate | undefined;
  private readonly observe: RegistryOptions["observe"];
  private readonly audit: () => boolean;

  constructor(bindings: readonly ToolBinding[], options: RegistryOptions) {
    this.pageSize = options.pageSize;
    this.gate = options.gate;
    this.observe = options.observe;
    this.audit = options.audit ?? (() => false);
    for (const b of bindings) {
      if (this.byName.has(b.contract.name)) throw new Error(`tool ${b.contract.name} is bound twice`);
      this.byName.set(b.contract.name, b);
    }
  }

  /**
   * Describes the tools one an event-loop turn, then lays out the pages, once the daemon serves: JSON Schema for all
   * of them takes ~45-85 ms, which would otherwise lengthen startup or stall the first tools/list (84 ms measured);
   * one tool is at most a few ms.
   */
  warm(): void {
    const pending = [...this.byName.values()];
    const next = (): void => {
      if (this.pages.length > 0) return;
      const binding = pending.shift();
      if (binding === undefined) return void this.pageTexts;
      this.definitionOf(binding);
      setImmediate(next);
    };
    setImmediate(next);
  }

  private definitionOf(binding: ToolBinding): ToolDefinition {
    let definition = this.described.get(binding.contract.name);
    if (definition === undefined) this.described.set(binding.contract.name, (definition = describeTool(binding.contract)));
    return definition;
  }

  /** Computed on first use, from what warm() described by then. */
  private get pageTexts(): string[] {
    if (this.pages.length > 0) return this.pages;
    const definitions = [...this.byName.values()].map((b) => this.definitionOf(b));
    this.described.clear();
    const pageCount = Math.max(1, Math.ceil(definitions.length / this.pageSize));
    for (let page = 0; page < pageCount; page++) {
      const next = page + 1 < pageCount ? { nextCursor: encodeCursor(page + 1) } : {};
      this.pages.push(JSON.stringify({ tools: definitions.slice(page * this.pageSize, (page + 1) * this.pageSize), ...next }));
    }
    return this.pages;
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  contract(name: string): ToolContract | undefined {
    return this.byName.get(name)?.contract;
  }

  /** The token scope a tool needs; undefined for a tool that does not exist. */
  scopeOf(name: string): ReturnType<typeof requiredScope> | undefined {
    const contract = this.contract(name);
    return contract && requiredScope(contract);
  }

  /** The JSON text of the tools/list result for `cursor` (absent: the first page). */
  listPage(cursor: unknown): string {
    const pages = this.pageTexts;
    if (cursor === undefined || cursor === null) return pages[0] as string;
    const page = typeof cursor === "string" ? pages[decodeCursor(cursor) ?? -1] : undefined;
    if (page === undefined) {
      throw rpcError("INVALID_PARAMS", "The cursor is not one this server issued.", { reason: "invalid_cursor", cursor });
    }
    return page;
  }

  /** Validates the arguments and runs the tool; returns its payload. */
  call(name: unknown, args: unknown, ctx: ToolContext): object | Promise<object> {
    const started = performance.now();
    const binding = typeof name === "string" ? this.byName.get(name) : undefined;
    const label = binding?.contract.name ?? "unknown";
    const done = (outcome: string): void => this.observe?.(label, outcome, performance.now() - started);
    try {
      const out = this.run(binding, name, args, ctx);
      if (!(out instanceof Promise)) {
        done("ok");
        return out;
      }
      return out.then(
        (value) => {
          done("ok");
          return value;
        },
        (err: unknown) => {
          done(err instanceof RpcError ? (err.codeName ?? "error") : "error");
          throw err;
        },
      );
    } catch (err) {
      done(err instanceof RpcError ? (err.codeName ?? "error") : "error");
      throw err;
    }
  }

  private run(binding: ToolBinding | undefined, name: unknown, args: unknown, ctx: ToolContext): object | Promise<object> {
    if (binding === undefined) {
      throw rpcError("INVALID_PARAMS", `Unknown tool ${JSON.stringify(name)}; tools/list names the tools.`, {
        reason: "unknown_tool",
        tool: name,
      });
    }
    const parsed = binding.contract.input.safeParse(args ?? {});
    if (!parsed.success) {
      throw rpcError("INVALID_PARAMS", `Invalid arguments for ${binding.contract.name}: ${summarise(parsed.error)}`, {
        reason: "invalid_arguments",
        tool: binding.contract.name,
        issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), code: i.code, message: i.message })),
      });
    }
    const { contract } = binding;
    if (contract.annotations.destructiveHint && this.audit()) ctx.log.info({ tool: contract.name, target: targetOf(parsed.data) }, "destructive tool call");
    const release = this.gate?.enter(parsed.data, ctx.session) ?? (() => {});
    let out: object | Promise<object>;
    try {
      out = binding.handler(parsed.data as never, ctx);
    } catch (err) {
      release();
      throw err;
    }
    if (out instanceof Promise) return out.finally(release);
    release();
    return out;
  }
}

/** The ids a call is about, for the audit log (never values). */
function targetOf(args: unknown): Record<string, unknown> {
  const a = args as Record<string, unknown>;
  return Object.fromEntries(["swarmId", "agentId", "taskId", "key", "namespace"].filter((k) => a[k] !== undefined).map((k) => [k, a[k]]));
}

function summarise(error: z.ZodError): string {
  const first = error.issues[0];
  if (first === undefined) return "rejected.";
  const where = first.path.length > 0 ? first.path.join(".") + ": " : "";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : "";
  return `${where}${first.message}${more}.`;
}

function encodeCursor(page: number): string {
  return Buffer.from(`tools:${page}`).toString("base64url");
}

/** Page index for a cursor, or undefined when it is not one we issued. */
function decodeCursor(cursor: string): number | undefined {
  const m = /^tools:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return m ? Number(m[1]) : undefined;
}
