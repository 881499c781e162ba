/**
 * Node keeps timer delays in a 32-bit signed integer: a longer delay is not
 * kept, it is replaced by 1 ms (with a TimeoutOverflowWarning). A "wait
 * 100 000 hours" then fires at once. Every delay that can come from outside
 * (a client's RPC deadline, a store's sweep interval) goes through this first.
 */

/** The longest delay Node's timers keep: 2^31 - 1 ms, about 24.8 days. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** `ms` as a delay a timer keeps: at most MAX_TIMER_DELAY_MS, never negative or NaN. */
export function timerDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_DELAY_MS);
}
