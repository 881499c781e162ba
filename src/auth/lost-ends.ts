/**
 * Ends of checks the store did not take (it failed, or its reply was lost),
 * kept until the same slots' next check delivers them or their lease is over
 * (then there is nothing left to deliver): see `AttemptCounter.beginCheck`
 * in src/domain/ports/attempt-counter.ts. Only this instance's; a bounded
 * map, filled only while the store fails.
 */
import type { LostEnd } from "../domain/ports/attempt-counter.js";

/** Slot sets with ends waiting to be delivered, and ends per set, kept at most (oldest dropped). */
const LOST_MAX_SLOTS = 1024;
const LOST_MAX_PER_SLOT = 64;

/** A lost end and when its lease is over (ms). */
export type HeldEnd = LostEnd & { readonly until: number };

export class LostEnds {
  private readonly bySlots = new Map<string, HeldEnd[]>();

  /** `key` names the slots of the check (their keys joined). */
  add(key: string, end: LostEnd, until: number): void {
    const list = this.bySlots.get(key) ?? [];
    this.bySlots.delete(key); // re-inserted last: the map drops the set longest untouched
    list.push({ id: end.id, failed: end.failed, until });
    this.bySlots.set(key, list.slice(-LOST_MAX_PER_SLOT));
    for (const oldest of this.bySlots.keys()) {
      if (this.bySlots.size <= LOST_MAX_SLOTS) break;
      this.bySlots.delete(oldest);
    }
  }

  /** The ends still worth delivering, taken out (put them back with `add` if not delivered). */
  take(key: string, now: number): HeldEnd[] {
    const list = this.bySlots.get(key);
    if (list === undefined) return [];
    this.bySlots.delete(key);
    return list.filter((e) => e.until > now);
  }
}
