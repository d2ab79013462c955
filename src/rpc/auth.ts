import { createHash, timingSafeEqual } from "node:crypto";
import { SCOPES, type Scope, type TokenEntry } from "../config/protection.js";
import { rpcError } from "../protocol/errors.js";

export interface Principal {
  readonly name: string;
  readonly scope: Scope;
}

/** Served before a connection has authenticated: the handshake, health probes, and notifications. */
const OPEN = new Set(["initialize", "ping", "authenticate"]);

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/** What a change of tokens did: principals (by name) that can now authenticate, and those that no longer can. */
export interface TokenChange {
  readonly tokens: number;
  readonly added: string[];
  readonly removed: string[];
}

interface Entry {
  readonly principal: Principal;
  readonly digest: Buffer;
}

/**
 * Checks tokens against the configured ones. Every entry is compared, in constant time over equal-length digests,
 * so neither the outcome's timing nor its position in the list says anything about a secret.
 * The tokens can be replaced while connections are open (SIGHUP): a connection keeps acting as its principal only
 * while the token it authenticated with is still configured with the same name and scope.
 */
export class Authenticator {
  private entries: readonly Entry[] = [];
  private live = new Set<Principal>();

  constructor(tokens: readonly TokenEntry[]) {
    this.replace(tokens);
  }

  /** No tokens configured: every connection is trusted (loopback or a private network, see protected mode). */
  get enabled(): boolean {
    return this.entries.length > 0;
  }

  get tokens(): number {
    return this.entries.length;
  }

  replace(tokens: readonly TokenEntry[]): TokenChange {
    const before = this.entries;
    this.entries = tokens.map((t) => {
      const d = digest(t.secret);
      // Unchanged tokens keep their principal, so the connections that authenticated with them go on.
      const same = before.find((e) => e.principal.name === t.name && e.principal.scope === t.scope && e.digest.equals(d));
      return same ?? { principal: { name: t.name, scope: t.scope }, digest: d };
    });
    this.live = new Set(this.entries.map((e) => e.principal));
    const named = (entries: readonly Entry[], unless: Set<Principal>): string[] =>
      entries.filter((e) => !unless.has(e.principal)).map((e) => e.principal.name);
    return { tokens: this.entries.length, added: named(this.entries, new Set(before.map((e) => e.principal))), removed: named(before, this.live) };
  }

  verify(token: unknown): Principal | undefined {
    if (typeof token !== "string") return undefined;
    const given = digest(token);
    let found: Principal | undefined;
    for (const entry of this.entries) if (timingSafeEqual(entry.digest, given) && found === undefined) found = entry.principal;
    return found;
  }

  /**
   * Throws unless `principal` may call `method`: before authentication only the open methods; afterwards any method
   * but tools/call, whose tool says what scope it needs (`toolScope`; read < write < admin).
   */
  authorize(principal: Principal | undefined, method: string, params: unknown, toolScope: (tool: string) => Scope | undefined): void {
    if (!this.enabled || OPEN.has(method) || method.startsWith("notifications/")) return;
    if (principal === undefined) {
      throw rpcError("SERVER_ERROR", 'Not authenticated: call authenticate {token} first, or pass it in initialize as _meta["swarmd/token"].', {
        reason: "unauthenticated",
      });
    }
    if (!this.live.has(principal)) {
      throw rpcError("SERVER_ERROR", "Not authenticated: the daemon's tokens changed and this connection's is no longer accepted; call authenticate {token} again.", {
        reason: "unauthenticated",
      });
    }
    if (principal.scope === "admin") return;
    if (method === "monitor") {
      // Every other connection's arguments — memory values, task descriptions — are the admin's to see.
      throw rpcError("SERVER_ERROR", `${principal.name} has ${principal.scope} scope; monitor needs an admin token.`, {
        reason: "forbidden",
        principal: principal.name,
        scope: principal.scope,
        required: "admin",
      });
    }
    if (method !== "tools/call") return;
    const tool = (params as { name?: unknown } | undefined)?.name;
    // An unknown tool is left to tools/call, which names it in a -32602.
    const needed = typeof tool === "string" ? toolScope(tool) : undefined;
    if (needed === undefined || SCOPES.indexOf(principal.scope) >= SCOPES.indexOf(needed)) return;
    const why = needed === "admin" ? "needs an admin token" : "changes state";
    throw rpcError("SERVER_ERROR", `${principal.name} has ${principal.scope} scope; ${String(tool)} ${why}.`, {
      reason: "forbidden",
      principal: principal.name,
      scope: principal.scope,
      required: needed,
      tool,
    });
  }
}
