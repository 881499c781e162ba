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

    it("a gated slot's delay binds only a caller whose gate slot has a failure", async () => {
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

    it("a refunded charge that opened the window leaves no window: the next failure opens its own", async () => {
      const s = [slot({ free: 1, windowMs: 10_000 })];
      expect(await allowed(s, 0)).toBe(true); // a success …
      await counter.forgive(s, T0); // … refunded: no counter is left
      expect(await allowed(s, 5_000)).toBe(true); // failure 1 opens the window at 5 s
      expect(await allowed(s, 5_000)).toBe(true); // failure 2 → 1 s
      // At 11 s the window that opened at 5 s still runs: failure 3 → 2 s. Had the
      // refunded success pinned the window at 0, it would be over and this the first again.
      expect(await allowed(s, 11_000)).toBe(true);
      expect(await wait(s, 11_000)).toBe(2000);
    });

    it("forgiving a counter that does not exist is harmless", async () => {
      const s = [slot({ free: 0 })];
      await counter.forgive(s, T0);
      expect(await allowed(s, 0)).toBe(true);
      expect(await allowed(s, 0)).toBe(false);
    });

    // Failures only: beginCheck, then endCheck (user codes, sign-ins, client authentication).
    const lease = (ms = 5000) => ({ id: randomBytes(9).toString("base64url"), ms });
    const check = async (s: AttemptSlot[], at: number, failed: boolean) => {
      const l = lease();
      const v = await counter.beginCheck(s, l, T0 + at);
      if (v.allowed) await counter.endCheck(s, l.id, failed, T0 + at);
      return v.allowed ? 0 : v.retryAfterMs;
    };

    it("checks: a right answer is never charged, however many", async () => {
      const s = [slot({ free: 1 })];
      for (let i = 0; i < 10; i++) expect(await check(s, 0, false)).toBe(0);
      expect(await check(s, 0, true)).toBe(0); // failure 1: free
      expect(await check(s, 0, true)).toBe(0); // failure 2: starts 1 s
      expect(await check(s, 0, false)).toBe(1000); // refused, right or wrong
    });

    it("checks in series: free + 1 failures, then a delay; then one per delay, each doubling", async () => {
      const s = [slot({ free: 2, baseDelayMs: 1000, maxDelayMs: 4000 })];
      for (let i = 0; i < 3; i++) expect(await check(s, 0, true)).toBe(0);
      expect(await check(s, 400, true)).toBe(600);
      expect(await check(s, 1000, true)).toBe(0);
      expect(await check(s, 1000, false)).toBe(2000);
      // The same delays as charging first (`attempt`) gives.
      const a = [slot({ free: 2, baseDelayMs: 1000, maxDelayMs: 4000 })];
      for (let i = 0; i < 3; i++) await allowed(a, 0);
      expect(await wait(a, 400)).toBe(600);
    });

    it("checks in parallel: at most free + 1 in flight, so concurrent guesses cannot outrun the allowance", async () => {
      const s = [slot({ free: 4, baseDelayMs: 1000 })];
      const leases = Array.from({ length: 20 }, () => lease());
      const verdicts = await Promise.all(leases.map((l) => counter.beginCheck(s, l, T0)));
      const admitted = leases.filter((_, i) => verdicts[i]?.allowed);
      expect(admitted).toHaveLength(5);
      for (const v of verdicts) {
        if (!v.allowed) expect(v.retryAfterMs).toBeGreaterThan(0);
        if (!v.allowed) expect(v.retryAfterMs).toBeLessThanOrEqual(1000);
      }
      await Promise.all(admitted.map((l) => counter.endCheck(s, l.id, true, T0)));
      // Five failures with four free: the first delay, and no more failures than that.
      expect(await check(s, 0, false)).toBe(1000);
      expect(await check(s, 1000, true)).toBe(0);
      expect(await check(s, 1000, true)).toBe(2000); // the sixth failure, not the twenty-first
    });

    it("checks: failures and checks in flight together stay within the allowance", async () => {
      const s = [slot({ free: 2 })];
      expect(await check(s, 0, true)).toBe(0); // one failure: two places left
      const [a, b, c] = [lease(), lease(), lease()];
      expect((await counter.beginCheck(s, a, T0)).allowed).toBe(true);
      expect((await counter.beginCheck(s, b, T0)).allowed).toBe(true);
      expect((await counter.beginCheck(s, c, T0)).allowed).toBe(false);
      await counter.endCheck(s, a.id, true, T0); // two failures, b in flight: none left
      expect((await counter.beginCheck(s, c, T0)).allowed).toBe(false);
      await counter.endCheck(s, b.id, false, T0); // b was right: its place is free again
      expect((await counter.beginCheck(s, c, T0)).allowed).toBe(true);
    });

    it("checks: a lease never ended frees its place when it ends; a late end still charges", async () => {
      const s = [slot({ free: 0, baseDelayMs: 1000 })];
      const lost = lease(500);
      expect((await counter.beginCheck(s, lost, T0)).allowed).toBe(true);
      expect(await check(s, 100, false)).toBe(400); // its place is taken until 500
      expect(await check(s, 500, false)).toBe(0); // and free again then, nothing charged
      await counter.endCheck(s, lost.id, true, T0 + 600); // its end arrives late: a failure
      expect(await check(s, 600, false)).toBe(1000);
    });

    it("checks: a lost end, delivered with the next check, frees its place or charges its failure, once", async () => {
      const s = [slot({ free: 0, baseDelayMs: 1000 })];
      const [a, b, c, d] = [lease(), lease(), lease(), lease()];
      expect((await counter.beginCheck(s, a, T0)).allowed).toBe(true); // a's end (right) is lost
      const freed = await counter.beginCheck(s, b, T0, [{ id: a.id, failed: false }]);
      expect(freed.allowed).toBe(true);
      await counter.endCheck(s, b.id, false, T0);
      expect((await counter.beginCheck(s, c, T0)).allowed).toBe(true); // c's end (wrong) is lost
      const charged = await counter.beginCheck(s, d, T0, [{ id: c.id, failed: true }]);
      expect(charged).toEqual({ allowed: false, retryAfterMs: 1000 });
      // The same end again (its first delivery's reply was lost): not charged twice.
      const again = await counter.beginCheck(s, d, T0 + 1000, [{ id: c.id, failed: true }]);
      expect(again.allowed).toBe(true);
      await counter.endCheck(s, d.id, false, T0 + 1000);
      // A lease that ended on its own has nothing left to deliver.
      const e = lease(100);
      expect((await counter.beginCheck(s, e, T0 + 1000)).allowed).toBe(true);
      const late = await counter.beginCheck(s, lease(), T0 + 1100, [{ id: e.id, failed: true }]);
      expect(late.allowed).toBe(true);
    });

    it("checks are refused while a delay from charged attempts runs, and record nothing", async () => {
      const s = [slot({ free: 0, baseDelayMs: 1000 })];
      expect(await allowed(s, 0)).toBe(true); // a failure charged first: 1 s
      for (let i = 0; i < 5; i++) expect(await check(s, 10 * i, false)).toBe(1000 - 10 * i);
      expect(await check(s, 1000, false)).toBe(0);
      expect(await check(s, 1000, false)).toBe(0);
    });

    // Several slots in one step, with gates (user codes and sign-ins, docs/verification-page.md).
    it("checks on several slots: a failure charges every slot once, a right answer none", async () => {
      const [a, b] = [slot({ free: 1 }), slot({ free: 3 })];
      for (let i = 0; i < 10; i++) expect(await check([a, b], 0, false)).toBe(0);
      expect(await check([a, b], 0, true)).toBe(0);
      expect(await check([a, b], 0, true)).toBe(0); // a: failure 2 starts 1 s
      expect(await check([a, b], 0, false)).toBe(1000);
      expect(await check([b], 0, true)).toBe(0); // b: failure 3 (its own, free)
      expect(await check([b], 0, true)).toBe(0); // b: failure 4 starts 1 s
      expect(await check([b], 0, false)).toBe(1000);
    });

    it("checks on several slots in parallel: the slot with the fewest places left bounds them all", async () => {
      const [wide, narrow] = [slot({ free: 10 }), slot({ free: 2 })];
      expect(await check([wide, narrow], 0, true)).toBe(0); // narrow: 2 places left
      const leases = Array.from({ length: 20 }, () => lease());
      const verdicts = await Promise.all(
        leases.map((l) => counter.beginCheck([wide, narrow], l, T0)),
      );
      const admitted = leases.filter((_, i) => verdicts[i]?.allowed);
      expect(admitted).toHaveLength(2);
      // The refused recorded nothing: the wide slot alone has 11 - 1 - 2 = 8 places.
      const alone = Array.from({ length: 20 }, () => lease());
      const wideVerdicts = await Promise.all(alone.map((l) => counter.beginCheck([wide], l, T0)));
      expect(wideVerdicts.filter((v) => v.allowed)).toHaveLength(8);
    });

    it("checks: a gated slot's delay and places hold only a caller whose gate slot has a failure or a check in flight", async () => {
      const global = { ...slot({ free: 0, baseDelayMs: 1000 }), gates: [0] };
      const guesser = slot({ free: 10 });
      expect(await check([guesser, global], 0, true)).toBe(0); // starts the global delay
      expect(await check([guesser, global], 100, false)).toBe(900); // the guesser has failed: held
      const honest = slot({ free: 10 });
      expect(await check([honest, global], 100, false)).toBe(0); // clean: let through
      expect(await check([honest, global], 100, false)).toBe(0); // and again: a success charges nothing
      // A clean caller with a check in flight counts as one that may have failed, as
      // charging first counted it: its second concurrent check is held by the delay.
      const first = lease();
      const other = slot({ free: 10 });
      expect((await counter.beginCheck([other, global], first, T0 + 100)).allowed).toBe(true);
      const second = await counter.beginCheck([other, global], lease(), T0 + 100);
      expect(second).toEqual({ allowed: false, retryAfterMs: 900 });
      await counter.endCheck([other, global], first.id, false, T0 + 100);
      expect(await check([other, global], 100, false)).toBe(0);
      // A gated slot's places, once its delay is over: one in flight for those who failed.
      const held = lease();
      expect((await counter.beginCheck([guesser, global], held, T0 + 1000)).allowed).toBe(true);
      const busy = await counter.beginCheck([guesser, global], lease(), T0 + 1000);
      expect(busy.allowed).toBe(false);
      expect(
        (await counter.beginCheck([slot({ free: 10 }), global], lease(), T0 + 1000)).allowed,
      ).toBe(true); // a clean caller is not held by them
      await counter.endCheck([guesser, global], held.id, false, T0 + 1000);
    });

    it("checks: a lost end on several slots is delivered on each, charged once", async () => {
      const [a, b] = [slot({ free: 0, baseDelayMs: 1000 }), slot({ free: 5 })];
      const [x, y] = [lease(), lease()];
      expect((await counter.beginCheck([a, b], x, T0)).allowed).toBe(true); // x's end (wrong) is lost
      const charged = await counter.beginCheck([a, b], y, T0, [{ id: x.id, failed: true }]);
      expect(charged).toEqual({ allowed: false, retryAfterMs: 1000 });
      const again = await counter.beginCheck([a, b], y, T0 + 1000, [{ id: x.id, failed: true }]);
      expect(again.allowed).toBe(true); // delivered twice, charged once
      await counter.endCheck([a, b], y.id, false, T0 + 1000);
      // b has exactly one failure: 4 more free, then a sixth that starts its delay.
      for (let i = 0; i < 4; i++) expect(await check([b], 1000, true)).toBe(0);
      expect(await check([b], 1000, true)).toBe(0);
      expect(await check([b], 1000, false)).toBeGreaterThan(0);
    });
  });
}
