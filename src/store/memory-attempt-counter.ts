/** The embedded attempt counter: one process, the same contract as Redis. */
import {
  type AttemptCounter,
  type AttemptSlot,
  type AttemptVerdict,
  type CounterState,
  charge,
  keepFor,
  liveState,
  refund,
} from "./attempt-counter.js";

/**
 * Keeps counters in a Map. Each method runs without yielding, so each is
 * atomic. Finished counters are swept every `sweepMs`, so memory stays
 * bounded by the addresses and sessions that failed recently.
 */
export class MemoryAttemptCounter implements AttemptCounter {
  private readonly states = new Map<string, { state: CounterState; expiresAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clock: () => number = Date.now,
    sweepMs = 60_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(this.clock()), sweepMs);
    this.sweeper.unref();
  }

  async attempt(slots: readonly AttemptSlot[], now: number): Promise<AttemptVerdict> {
    let wait = 0;
    for (const { key, policy } of slots) {
      const s = liveState(this.states.get(key)?.state, policy, now);
      if (s && s.until > now) wait = Math.max(wait, s.until - now);
    }
    if (wait > 0) return { allowed: false, retryAfterMs: wait };
    for (const { key, policy } of slots) {
      const next = charge(liveState(this.states.get(key)?.state, policy, now), policy, now);
      this.states.set(key, { state: next, expiresAt: now + keepFor(next, policy, now) });
    }
    return { allowed: true };
  }

  async forgive(slots: readonly AttemptSlot[], now: number): Promise<void> {
    for (const { key, policy } of slots) {
      const s = liveState(this.states.get(key)?.state, policy, now);
      if (!s) continue;
      const next = refund(s);
      this.states.set(key, { state: next, expiresAt: now + keepFor(next, policy, now) });
    }
  }

  /** Stops the sweeper. */
  close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(now: number): void {
    for (const [k, e] of this.states) if (e.expiresAt <= now) this.states.delete(k);
  }
}
