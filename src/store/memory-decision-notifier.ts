/** The embedded decision notifier: one process, listeners in a Map. */
import type { DecisionNotifier, Unsubscribe } from "../domain/ports/decision-notifier.js";

/**
 * In-process fan-out for the memory store, where every decision and every
 * stream live in one process. Listeners run on a later tick, as a message
 * from Redis would arrive, so a publisher never runs a waiter's code inline.
 */
export class MemoryDecisionNotifier implements DecisionNotifier {
  private readonly listeners = new Map<string, Set<() => void>>();

  async publish(tag: string): Promise<void> {
    const set = this.listeners.get(tag);
    if (set === undefined) return;
    for (const listener of [...set]) setImmediate(listener);
  }

  async subscribe(tag: string, listener: () => void): Promise<Unsubscribe> {
    let set = this.listeners.get(tag);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(tag, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(tag) === set) this.listeners.delete(tag);
    };
  }

  /** Tags with at least one listener (for tests: nothing leaks after streams end). */
  get subscribedTags(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
