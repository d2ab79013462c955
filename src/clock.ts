/** Time as the managers see it: injected, so tests can move it (TTL expiry without sleeping). */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
