import type { Clock } from "../../src/clock.js";

/** A clock that moves only when told to: TTL tests without sleeping. */
export class ManualClock implements Clock {
  constructor(private current = Date.now()) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
