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
   * window (for `beginCheck`, or a check in flight): a per-account or global
   * delay then slows those who have failed, never a caller with a clean
   * record (docs/verification-page.md). The slot is charged either way.
   */
  readonly gates?: readonly number[];
}

/** An attempt let through (and charged), or refused until a delay ends. */
export type AttemptVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * A check in flight (see `AttemptCounter.beginCheck`): a random id, and how
 * long it holds its place if it is never ended (a lost reply, a crash).
 */
export interface CheckLease {
  readonly id: string;
  readonly ms: number;
}

/** The end of a check that could not be delivered (the store failed): delivered with a later `beginCheck`. */
export interface LostEnd {
  readonly id: string;
  readonly failed: boolean;
}

/**
 * Counters as the stores keep them, used in one of two ways.
 *
 * Charge first (`attempt`, then `forgive`): an attempt is charged *before*
 * the caller finds out whether it succeeds, and refunded when it did, so a
 * burst of concurrent attempts cannot all slip past a check that only counts
 * failures after the fact. Used for rates, where every request counts and
 * nothing is refunded (device authorizations, registrations, metadata
 * fetches).
 *
 * Failures only (`beginCheck`, then `endCheck`): nothing is charged before
 * the check; the check holds a place in flight on each of its slots, and
 * only a failed check is charged. A lost reply, a failed store call or a
 * crash can then never leave a charge on a right answer: the most it leaves
 * is a place in flight, which frees itself when its lease ends. Used for
 * every limit on guessing: user codes and sign-ins
 * (docs/verification-page.md), client authentication
 * (docs/hostile-input.md).
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
  /**
   * In one atomic step over `slots` (they share one hash tag): refuses
   * (records nothing) while a slot that applies waits out a delay, with the
   * longest such wait; or while a slot that applies already has as many
   * checks in flight as it has failures left before its next delay (the
   * free allowance less the failures so far, and one after a delay), with
   * the wait until the first of them ends, at most a second. A slot applies
   * when it has no `gates`, or when one of its gate slots has a failure or
   * a check in flight (a check in flight may be a failure yet: charging
   * first counted it at once). Otherwise records `lease` as a check in
   * flight on every slot until `now + lease.ms`. Nothing is charged: so at
   * any moment the failures and the checks in flight together stay within
   * each slot's allowance, and concurrent guesses cannot outrun it.
   *
   * First, in the same step, it delivers `lost`, ends of checks on these
   * same slots that could not be delivered before: on each slot whose lease
   * is still held, the lease is removed and, if its check failed, that
   * failure charged. An end that did run (only its reply was lost) finds its
   * leases gone and charges nothing again; a lease that ended on its own has
   * nothing left to deliver.
   */
  beginCheck(
    slots: readonly AttemptSlot[],
    lease: CheckLease,
    now: number,
    lost?: readonly LostEnd[],
  ): Promise<AttemptVerdict>;
  /**
   * Ends a check begun by `beginCheck` on the same slots, in one atomic
   * step: removes the lease `leaseId` from every slot (if it has not ended
   * on its own) and, when `failed`, charges one failure to every slot and
   * sets its next delay, as `attempt` would.
   */
  endCheck(
    slots: readonly AttemptSlot[],
    leaseId: string,
    failed: boolean,
    now: number,
  ): Promise<void>;
}
