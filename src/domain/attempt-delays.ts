/**
 * The delay rules of the attempt counters (see ./ports/attempt-counter.ts),
 * as pure functions: the memory counter runs them, the Lua script in
 * src/store/attempt-counter-scripts.ts computes the same.
 */
import type { AttemptPolicy } from "./ports/attempt-counter.js";

/** One counter's state: window start, failures in the window, and the end of its delay (ms). */
export interface CounterState {
  readonly start: number;
  readonly failures: number;
  readonly until: number;
  /** `until` before the last charge, so a refund undoes that charge exactly. */
  readonly previousUntil: number;
}

/**
 * The delay after the `failures`-th failure in a window: none within the free
 * allowance, then base · 2^(k−1) for the k-th failure beyond it, capped.
 * The Lua script in attempt-counter-scripts.ts computes the same.
 */
export function delayAfter(failures: number, p: AttemptPolicy): number {
  const k = failures - p.free;
  if (k <= 0) return 0;
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (k - 1));
}

/** A state as of `now`: a window that ended and whose delay is over starts afresh. */
export function liveState(
  s: CounterState | undefined,
  p: AttemptPolicy,
  now: number,
): CounterState | undefined {
  if (s === undefined) return undefined;
  return now >= s.start + p.windowMs && now >= s.until ? undefined : s;
}

/** The state after charging one failure. */
export function charge(s: CounterState | undefined, p: AttemptPolicy, now: number): CounterState {
  const failures = (s?.failures ?? 0) + 1;
  const delay = delayAfter(failures, p);
  return {
    start: s?.start ?? now,
    failures,
    until: delay === 0 ? 0 : now + delay,
    previousUntil: s?.until ?? 0,
  };
}

/**
 * The state after refunding one charge: the count and the delay go back to
 * what they were, so a success neither adds a delay nor lifts one that
 * earlier failures earned (else a guesser could clear delays by mixing in a
 * code of their own). The window goes back too: when no failure is left
 * (and no delay runs) there is no counter, so a refunded charge that opened
 * the window does not pin its start, and the next failure opens a window of
 * its own, as if the success never happened.
 */
export function refund(s: CounterState, now: number): CounterState | undefined {
  const failures = Math.max(0, s.failures - 1);
  if (failures === 0 && s.previousUntil <= now) return undefined;
  return { ...s, failures, until: s.previousUntil };
}

/**
 * How many checks may be in flight at once on a counter that charges only
 * failures (`beginCheck` in ./ports/attempt-counter.ts): the failures left
 * before the next delay starts, the one that starts it included; one once
 * the allowance is spent (each further failure starts a delay). So the
 * failures and the checks in flight together never pass the point where a
 * delay starts.
 */
export function checksAllowed(s: CounterState | undefined, p: AttemptPolicy): number {
  return Math.max(1, p.free + 1 - (s?.failures ?? 0));
}

/** How long the store must keep a state (ms from `now`, at least 1). */
export function keepFor(s: CounterState, p: AttemptPolicy, now: number): number {
  return Math.max(1, Math.max(s.start + p.windowMs, s.until) - now);
}
