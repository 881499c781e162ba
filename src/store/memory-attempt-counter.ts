/** The embedded attempt counter: one process, the same contract as Redis. */
import {
  type CounterState,
  charge,
  checksAllowed,
  keepFor,
  liveState,
  refund,
} from "../domain/attempt-delays.js";
import type {
  AttemptCounter,
  AttemptPolicy,
  AttemptSlot,
  AttemptVerdict,
  CheckLease,
  LostEnd,
} from "../domain/ports/attempt-counter.js";
import { sweepEvery, TtlMap } from "./ttl-map.js";

/** The longest wait `beginCheck` names for a place in flight (its contract: at most a second). */
const BUSY_WAIT_MAX_MS = 1000;

/**
 * Keeps counters in a TTL map. Each method runs without yielding, so each is
 * atomic. A counter lives as long as it matters (`keepFor`), so memory stays
 * bounded by the addresses and sessions that failed recently; the checks in
 * flight of a slot live as long as their longest lease.
 */
export class MemoryAttemptCounter implements AttemptCounter {
  private readonly states = new TtlMap<string, CounterState>();
  /** Slot key → lease id → when that lease ends. */
  private readonly checks = new TtlMap<string, Map<string, number>>();
  private readonly stopSweeping: () => void;

  constructor(clock: () => number = Date.now, sweepMs = 60_000) {
    this.stopSweeping = sweepEvery(sweepMs, clock, [this.states, this.checks]);
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
    for (const { key, policy } of slots) this.charge(key, policy, now);
    return { allowed: true };
  }

  async forgive(slots: readonly AttemptSlot[], now: number): Promise<void> {
    for (const { key, policy } of slots) {
      const s = liveState(this.states.get(key, now), policy, now);
      if (!s) continue;
      const next = refund(s, now);
      if (next === undefined) this.states.delete(key);
      else this.states.set(key, next, now + keepFor(next, policy, now));
    }
  }

  async beginCheck(
    slots: readonly AttemptSlot[],
    lease: CheckLease,
    now: number,
    lost: readonly LostEnd[] = [],
  ): Promise<AttemptVerdict> {
    const leases = slots.map(({ key }) => this.leases(key, now));
    for (const end of lost) {
      for (const [i, { key, policy }] of slots.entries()) {
        if (leases[i]?.delete(end.id) && end.failed) this.charge(key, policy, now);
      }
    }
    const live = slots.map(({ key, policy }) => liveState(this.states.get(key, now), policy, now));
    const closed = slots.map((_, i) => (live[i]?.failures ?? 0) > 0 || (leases[i]?.size ?? 0) > 0);
    let wait = 0;
    let full = 0;
    for (const [i, { policy, gates }] of slots.entries()) {
      if (gates !== undefined && !gates.some((g) => closed[g])) continue;
      const s = live[i];
      const held = leases[i] ?? new Map<string, number>();
      if (s && s.until > now) wait = Math.max(wait, s.until - now);
      else if (held.size >= checksAllowed(s, policy)) {
        const first = Math.min(...held.values());
        full = Math.max(full, Math.min(BUSY_WAIT_MAX_MS, first - now));
      }
    }
    if (wait > 0) return { allowed: false, retryAfterMs: wait };
    if (full > 0) return { allowed: false, retryAfterMs: full };
    const ends = now + Math.max(1, lease.ms);
    for (const [i, { key }] of slots.entries()) {
      const held = leases[i] ?? new Map<string, number>();
      held.set(lease.id, ends);
      const kept = this.checks.expiryOf(key);
      this.checks.set(key, held, Math.max(ends, kept !== undefined && kept > now ? kept : 0));
    }
    return { allowed: true };
  }

  async endCheck(
    slots: readonly AttemptSlot[],
    leaseId: string,
    failed: boolean,
    now: number,
  ): Promise<void> {
    for (const { key, policy } of slots) {
      const leases = this.checks.get(key, now);
      if (leases?.delete(leaseId) && leases.size === 0) this.checks.delete(key);
      if (failed) this.charge(key, policy, now);
    }
  }

  /** Stops the sweeper. */
  close(): void {
    this.stopSweeping();
  }

  private charge(key: string, policy: AttemptPolicy, now: number): void {
    const next = charge(liveState(this.states.get(key, now), policy, now), policy, now);
    this.states.set(key, next, now + keepFor(next, policy, now));
  }

  /** The slot's leases that have not ended at `now` (the ended ones dropped). */
  private leases(key: string, now: number): Map<string, number> {
    const leases = this.checks.get(key, now) ?? new Map<string, number>();
    for (const [id, ends] of leases) if (ends <= now) leases.delete(id);
    return leases;
  }
}
