/** The embedded attempt counter: one process, the same contract as Redis. */
import { type CounterState, charge, keepFor, liveState, refund } from "../domain/attempt-delays.js";
import type {
  AttemptCounter,
  AttemptSlot,
  AttemptVerdict,
} from "../domain/ports/attempt-counter.js";
import { sweepEvery, TtlMap } from "./ttl-map.js";

/**
 * Keeps counters in a TTL map. Each method runs without yielding, so each is
 * atomic. A counter lives as long as it matters (`keepFor`), so memory stays
 * bounded by the addresses and sessions that failed recently.
 */
export class MemoryAttemptCounter implements AttemptCounter {
  private readonly states = new TtlMap<string, CounterState>();
  private readonly stopSweeping: () => void;

  constructor(clock: () => number = Date.now, sweepMs = 60_000) {
    this.stopSweeping = sweepEvery(sweepMs, clock, [this.states]);
  }

  async attempt(slots: readonly AttemptSlot[], now: number): Promise<AttemptVerdict> {
    const live = slots.map(({ key, policy }) => liveState(this.states.get(key, now), policy, now));
    let wait = 0;
    for (const [i, s] of live.entries()) {
      if (!s || s.until <= now) continue;
      const gates = slots[i]?.gates;
      const applies = gates === undefined || gates.some((g) => (live[g]?.failures ?? 0) > 0);
      if (applies) wait = Math.max(wait, s.until - now);
    }
    if (wait > 0) return { allowed: false, retryAfterMs: wait };
    for (const { key, policy } of slots) {
      const next = charge(liveState(this.states.get(key, now), policy, now), policy, now);
      this.states.set(key, next, now + keepFor(next, policy, now));
    }
    return { allowed: true };
  }

  async forgive(slots: readonly AttemptSlot[], now: number): Promise<void> {
    for (const { key, policy } of slots) {
      const s = liveState(this.states.get(key, now), policy, now);
      if (!s) continue;
      const next = refund(s);
      this.states.set(key, next, now + keepFor(next, policy, now));
    }
  }

  /** Stops the sweeper. */
  close(): void {
    this.stopSweeping();
  }
}
