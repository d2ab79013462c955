import type { Scope } from "../config/protection.js";
import { rpcError } from "../protocol/errors.js";
import type { Authenticator, Principal } from "./auth.js";
import { TokenBucket } from "./rate.js";

export interface GuardConfig {
  /** Requests per second per connection; 0: no limit. */
  readonly rateLimit: number;
  readonly rateBurst: number;
  readonly authenticator: Authenticator;
  /** The scope a tool needs (undefined: no such tool). */
  readonly toolScope: (tool: string) => Scope | undefined;
}

/** Who a connection is, and whether it may make a call now: its rate and its authorization. */
export class SessionGuard {
  principal: Principal | undefined;
  /** Failed authentication attempts in a row. */
  failures = 0;
  private readonly bucket: TokenBucket | undefined;

  constructor(private readonly config: GuardConfig) {
    this.bucket = config.rateLimit > 0 ? new TokenBucket(config.rateLimit, config.rateBurst) : undefined;
  }

  /** Throws when the call may not run now: over the connection's rate (`cost` requests), or not authorized. */
  admit(method: string, params: unknown, cost: number): void {
    const wait = this.bucket?.take(cost) ?? 0;
    if (wait > 0) {
      throw rpcError("RESOURCE_ERROR", `Rate limited: at most ${this.config.rateLimit} requests per second on a connection.`, {
        reason: "rate_limited",
        retryAfterMs: wait,
        limit: this.config.rateLimit,
      });
    }
    this.authorize(method, params);
  }

  /** Authorization alone (items of a batch, whose rate was paid by the batch). */
  authorize(method: string, params: unknown): void {
    this.config.authenticator.authorize(this.principal, method, params, this.config.toolScope);
  }

  /** Verifies a token and remembers who the connection is; a wrong token counts as a failure and throws. */
  authenticate(token: unknown): Principal {
    if (!this.config.authenticator.enabled) return (this.principal = { name: "anonymous", scope: "admin" });
    const principal = this.config.authenticator.verify(token);
    if (principal === undefined) {
      this.failures++;
      throw rpcError("SERVER_ERROR", "Invalid token.", { reason: "unauthenticated" });
    }
    this.failures = 0;
    return (this.principal = principal);
  }
}
