/** Waiting on an observable condition in tests, never on a fixed sleep. */
import { sleep } from "./handoff-server.js";

export interface UntilOptions {
  /** Give up (throw) after this long. Default 10 s. */
  readonly timeoutMs?: number;
  /** Check again after this long. Default 50 ms. */
  readonly everyMs?: number;
  /** A check that throws counts as false (a server still down) instead of failing. Default false. */
  readonly ignoreErrors?: boolean;
}

/** Resolves once `check` is true; a check that throws counts as false (a server still down). */
export async function until(
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, everyMs = 50 }: UntilOptions = {},
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > end) throw new Error(`condition not reached in ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
