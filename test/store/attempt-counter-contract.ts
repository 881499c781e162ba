/**
 * The AttemptCounter contract: one suite for memory, Redis and Redis Cluster,
 * so the Lua scripts and the TypeScript rules in src/domain/attempt-delays.ts cannot
 * drift apart. Times are passed in, so nothing here waits on a clock.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  AttemptCounter,
  AttemptPolicy,
  AttemptSlot,
} from "../../src/domain/ports/attempt-counter.js";

const T0 = 1_800_000_000_000;

/** A fresh counter key in the `{code}` slot, as the limiter builds them. */
const slot = (policy: Partial<AttemptPolicy> = {}): AttemptSlot => ({
  key: `test:ratelimit:{code}:ip:${randomBytes(6).toString("hex")}`,
  policy: { free: 2, baseDelayMs: 1000, maxDelayMs: 4000, windowMs: 60_000, ...policy },
});

export function attemptCounterContract(
  name: string,
  open: () => Promise<AttemptCounter>,
  close: () => Promise<void> = async () => {},
): void {
  describe(`AttemptCounter contract: ${name}`, () => {
    let counter: AttemptCounter;
    beforeAll(async () => {
      counter = await open();
    });
    afterAll(close);

    const allowed = async (slots: AttemptSlot[], at: number) =>
      (await counter.attempt(slots, T0 + at)).allowed;
    const wait = async (slots: AttemptSlot[], at: number) => {
      const v = await counter.attempt(slots, T0 + at);
      return v.allowed ? 0 : v.retryAfterMs;
    };

    it("lets the free failures through, and one more that starts the first delay", async () => {
      const s = [slot({ free: 2 })];
      expect([await allowed(s, 0), await allowed(s, 0), await allowed(s, 0)]).toEqual([
        true,
        true,
        true,
      ]);
      expect(await wait(s, 0)).toBe(1000);
      expect(await wait(s, 400)).toBe(600);
      expect(await allowed(s, 1000)).toBe(true);
    });

    it("doubles each delay and caps it", async () => {
      const s = [slot({ free: 0, baseDelayMs: 1000, maxDelayMs: 4000 })];
      let at = 0;
      const delays: number[] = [];
      for (let i = 0; i < 5; i++) {
        expect(await allowed(s, at)).toBe(true);
        const d = await wait(s, at);
        delays.push(d);
        at += d;
      }
      expect(delays).toEqual([1000, 2000, 4000, 4000, 4000]);
    });

    it("charges nothing for a refused attempt", async () => {
      const s = [slot({ free: 1 })];
      await allowed(s, 0);
      await allowed(s, 0); // second failure: 1 s delay
      for (let i = 0; i < 10; i++) expect(await allowed(s, 1 + i)).toBe(false);
      expect(await allowed(s, 1000)).toBe(true);
      expect(await wait(s, 1000)).toBe(2000); // the third failure, not the thirteenth
    });

    it("refunds a success exactly: it neither adds a delay nor resets the count", async () => {
      const s = [slot({ free: 0 })];
      expect(await allowed(s, 0)).toBe(true); // failure 1 → 1 s
      expect(await allowed(s, 1000)).toBe(true); // a success …
      await counter.forgive(s, T0 + 1000); // … refunded
      expect(await allowed(s, 1000)).toBe(true); // failure 2 → 2 s, as if the success never happened
      expect(await wait(s, 1000)).toBe(2000);
    });

    it("a success inside the allowance leaves no trace", async () => {
      const s = [slot({ free: 1 })];
      for (let i = 0; i < 5; i++) {
        expect(await allowed(s, 0)).toBe(true);
        await counter.forgive(s, T0);
      }
      expect(await allowed(s, 0)).toBe(true);
      expect(await allowed(s, 0)).toBe(true);
      expect(await allowed(s, 0)).toBe(false);
    });

    it("forgets a counter when its window is over", async () => {
      const s = [slot({ free: 1, windowMs: 10_000 })];
      await allowed(s, 0);
      await allowed(s, 0);
      expect(await allowed(s, 9_999)).toBe(true); // the delay is over; the window is not
      expect(await wait(s, 9_999)).toBe(2000);
      // A new window: the free failure and the one after it again, then the first delay.
      expect(await allowed(s, 12_000)).toBe(true);
      expect(await allowed(s, 12_000)).toBe(true);
      expect(await wait(s, 12_000)).toBe(1000);
    });

    it("refuses when any slot waits, and then charges none of them", async () => {
      const blocked = slot({ free: 0 });
      const other = slot({ free: 1 });
      expect(await allowed([blocked], 0)).toBe(true);
      expect(await wait([other, blocked], 0)).toBe(1000);
      expect(await allowed([other], 0)).toBe(true);
      expect(await allowed([other], 0)).toBe(true);
      expect(await allowed([other], 0)).toBe(false);
    });

    it("answers with the longest wait of the slots that wait", async () => {
      const short = slot({ free: 0, baseDelayMs: 1000 });
      const long = slot({ free: 0, baseDelayMs: 3000 });
      expect(await allowed([short, long], 0)).toBe(true);
      expect(await wait([short, long], 0)).toBe(3000);
    });

    it("lets exactly free + 1 of a burst of concurrent attempts through", async () => {
      const s = [slot({ free: 4 })];
      const verdicts = await Promise.all(Array.from({ length: 20 }, () => counter.attempt(s, T0)));
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(5);
    });

    it("keeps counters apart", async () => {
      const a = [slot({ free: 0 })];
      const b = [slot({ free: 0 })];
      expect(await allowed(a, 0)).toBe(true);
      expect(await allowed(a, 0)).toBe(false);
      expect(await allowed(b, 0)).toBe(true);
    });

    it("a gated slot's delay binds only a caller whose gate slot has a failure (issue 9, item 6)", async () => {
      const global = { ...slot({ free: 0 }), gates: [0] };
      const guesser = slot({ free: 10 });
      const honest = slot({ free: 10 });
      expect(await allowed([guesser, global], 0)).toBe(true); // starts the global delay
      expect(await wait([guesser, global], 100)).toBe(900); // the guesser has failed: held
      expect(await allowed([honest, global], 100)).toBe(true); // a clean record: let through
      await counter.forgive([honest, global], T0 + 100); // it was right: clean again
      expect(await allowed([honest, global], 200)).toBe(true);
      // A gate on several slots: any one of them with a failure closes it.
      const person = slot({ free: 10 });
      const both = { ...slot({ free: 0 }), gates: [0, 1] };
      expect(await allowed([slot({ free: 10 }), person, both], 0)).toBe(true);
      expect(await allowed([slot({ free: 10 }), person, both], 0)).toBe(false);
      expect(await allowed([slot({ free: 10 }), slot({ free: 10 }), both], 0)).toBe(true);
    });

    it("forgiving a counter that does not exist is harmless", async () => {
      const s = [slot({ free: 0 })];
      await counter.forgive(s, T0);
      expect(await allowed(s, 0)).toBe(true);
      expect(await allowed(s, 0)).toBe(false);
    });
  });
}
