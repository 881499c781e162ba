/**
 * The attempt counter port: failure counters with growing delays, shared by
 * every instance through the store. It limits user-code guessing (RFC 8628
 * §5.1) and password guessing on the verification page. The delay rules:
 * ../attempt-delays.ts.
 */

/** How one counter (per address, per session, global …) slows its callers. */
export interface AttemptPolicy {
  /** Failures allowed in a window before any delay applies. */
  readonly free: number;
  /** The first delay; each further failure doubles it. */
  readonly baseDelayMs: number;
  /** The longest single delay. */
  readonly maxDelayMs: number;
  /** A counter is forgotten this long after its first failure (a fixed window). */
  readonly windowMs: number;
}

/** One counter an attempt is charged to. */
export interface AttemptSlot {
  /** The store key, already prefixed (`ratelimit:{…}:…`). */
  readonly key: string;
  readonly policy: AttemptPolicy;
  /**
   * When set, this slot's delay refuses an attempt only if one of the slots
   * at these indexes (of the same attempt) already has a failure in its
   * window: a per-account or global delay then slows those who have failed,
   * never a caller with a clean record (docs/verification-page.md). The slot
   * is charged either way.
   */
  readonly gates?: readonly number[];
}

/** An attempt let through (and charged), or refused until a delay ends. */
export type AttemptVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * Counters as the stores keep them. An attempt is charged *before* the caller
 * finds out whether it succeeds, and refunded (`forgive`) when it did: so a
 * burst of concurrent guesses cannot all slip past a check that only counts
 * failures after the fact.
 */
export interface AttemptCounter {
  /**
   * In one atomic step: if any slot is still waiting out a delay (and its
   * gates, if any, are closed by a failure), refuses (nothing is charged)
   * with the longest such wait; otherwise charges one attempt to every slot
   * and sets each slot's next delay.
   */
  attempt(slots: readonly AttemptSlot[], now: number): Promise<AttemptVerdict>;
  /** Refunds an attempt that turned out not to be a failure. */
  forgive(slots: readonly AttemptSlot[], now: number): Promise<void>;
}
