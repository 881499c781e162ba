/**
 * The guess limits as a guesser meets them, on a simulated clock: every
 * limit refuses past its allowance, and, with the defaults, the number of
 * guesses that fit in one code's life. docs/verification-page.md quotes
 * these figures (RFC 8628 §5.1).
 */
import { describe, expect, it } from "vitest";
import {
  AttemptLimiter,
  type AttemptLimits,
  addressKey,
  DEFAULT_ATTEMPT_LIMITS,
} from "../../src/auth/attempt-limits.js";
import type { AttemptSlot } from "../../src/domain/ports/attempt-counter.js";
import { USER_CODE_ALPHABET, USER_CODE_LENGTH } from "../../src/domain/user-code.js";
import { MemoryAttemptCounter } from "../../src/store/memory-attempt-counter.js";

const CODE_LIFE_MS = 900_000; // HANDOFF_DEVICE_CODE_TTL's default

function limiterAt(limits: Partial<AttemptLimits> = {}) {
  const clock = { now: 1_800_000_000_000 };
  const counter = new MemoryAttemptCounter(() => clock.now);
  const limiter = new AttemptLimiter(
    counter,
    { ...DEFAULT_ATTEMPT_LIMITS, ...limits },
    "",
    () => clock.now,
  );
  return { limiter, clock, close: () => counter.close() };
}

/**
 * One guess as the pages make it (`AttemptLimiter.check`): whether it was
 * checked; a checked one is ended as wrong (charged) unless `right`.
 */
async function guess(limiter: AttemptLimiter, slots: AttemptSlot[], right = false) {
  const c = await limiter.check(slots, limiter.limits.pageCheckLeaseMs);
  if (c.allowed) await c.end(!right);
  return c;
}

/** Guesses that get through in `ms` for a guesser who tries again the moment a delay ends. */
async function guessesWithin(
  ms: number,
  slotsFor: (limiter: AttemptLimiter, i: number) => AttemptSlot[],
): Promise<number> {
  const { limiter, clock, close } = limiterAt();
  const end = clock.now + ms;
  let landed = 0;
  for (let i = 0; clock.now < end; i++) {
    const v = await guess(limiter, slotsFor(limiter, i));
    if (v.allowed) landed++;
    else clock.now += v.retryAfterMs;
  }
  close();
  return landed;
}

describe("addressKey", () => {
  it("counts IPv4 addresses singly and IPv6 by /64", () => {
    expect(addressKey("192.0.2.7")).toBe("192.0.2.7");
    expect(addressKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });
});

describe("every limit refuses past its allowance", () => {
  const cases: Array<[keyof AttemptLimits, (l: AttemptLimiter, i: number) => AttemptSlot[]]> = [
    ["codePerAddress", (l, i) => l.codeSlots("192.0.2.1", `person-${i}`)],
    ["codePerSession", (l, i) => l.codeSlots(`192.0.2.${i}`, "one-person")],
    // The global and per-account delays bind callers that have failed: two addresses here.
    ["codeGlobal", (l, i) => l.codeSlots(`192.0.2.${i % 2}`, `person-${i}`)],
    ["signInPerAddress", (l, i) => l.signInSlots("192.0.2.1", `user${i}`)],
    ["signInPerAccount", (l, i) => l.signInSlots(`192.0.2.${i % 2}`, i % 2 ? "Alice" : "alice")],
    ["signInGlobal", (l, i) => l.signInSlots(`192.0.2.${i % 2}`, `user${i}`)],
  ];
  for (const [name, slotsFor] of cases) {
    it(`${name}: 3 allowed failures, a 4th that starts a delay, then a refusal`, async () => {
      const { limiter, close } = limiterAt({
        codePerAddress: 1000,
        codePerSession: 1000,
        codeGlobal: 1000,
        signInPerAddress: 1000,
        signInPerAccount: 1000,
        signInGlobal: 1000,
        [name]: 3,
      });
      const verdicts = [];
      for (let i = 0; i < 5; i++)
        verdicts.push((await guess(limiter, slotsFor(limiter, i))).allowed);
      expect(verdicts).toEqual([true, true, true, true, false]);
      close();
    });
  }

  it("keeps code guesses and sign-ins in separate Cluster slots, with the key prefix", () => {
    const { limiter, close } = limiterAt();
    const prefixed = new AttemptLimiter(new MemoryAttemptCounter(), DEFAULT_ATTEMPT_LIMITS, "p:");
    expect(prefixed.codeSlots("192.0.2.1", "s").map((s) => s.key)).toEqual([
      "p:ratelimit:{code}:ip:192.0.2.1",
      "p:ratelimit:{code}:person:s",
      "p:ratelimit:{code}:global",
    ]);
    const user = limiter.signInSlots("192.0.2.1", "Alice")[1]?.key ?? "";
    expect(user).toMatch(/^ratelimit:\{signin\}:user:[\w-]{22}$/);
    expect(user).not.toContain("alice"); // account names are hashed
    close();
  });
});

describe("the counters limit the guesser, not the victim", () => {
  const wide = { signInPerAddress: 1000, codePerAddress: 1000, codePerSession: 1000 };

  it("a global sign-in limit reached by random user names from two addresses: a fresh address with the right password is let through; the guessers' addresses are not", async () => {
    const { limiter, close } = limiterAt({ ...wide, signInGlobal: 3 });
    for (let i = 0; i < 6; i++)
      await guess(limiter, limiter.signInSlots(`198.51.100.${i % 2}`, `r${i}`));
    expect((await guess(limiter, limiter.signInSlots("198.51.100.0", "alice"))).allowed).toBe(
      false,
    );
    expect((await guess(limiter, limiter.signInSlots("203.0.113.9", "alice"), true)).allowed).toBe(
      true,
    );
    close();
  });

  it("one wrong password per round from rotating addresses delays those addresses, never the account's owner from a clean one", async () => {
    const { limiter, close } = limiterAt({ ...wide, signInPerAccount: 2 });
    // The account's free failures, used up.
    for (let i = 0; i < 2; i++)
      await guess(limiter, limiter.signInSlots("198.51.100.200", "alice"));
    for (let round = 0; round < 5; round++) {
      // A fresh address each time is let through: one guess each (the price, docs/verification-page.md) …
      const fresh = limiter.signInSlots(`198.51.100.${round}`, "alice");
      expect((await guess(limiter, fresh)).allowed).toBe(true);
      // … and is then held by the account's delay.
      expect((await guess(limiter, fresh)).allowed).toBe(false);
      const owner = limiter.signInSlots("203.0.113.9", "Alice");
      expect((await guess(limiter, owner, true)).allowed).toBe(true); // the right password
    }
    close();
  });

  it("a global user-code limit reached by one person's wrong codes: someone else, clean, still gets the code checked", async () => {
    const { limiter, close } = limiterAt({ ...wide, codeGlobal: 3 });
    for (let i = 0; i < 6; i++)
      await guess(limiter, limiter.codeSlots(`198.51.100.${i}`, "mallory"));
    expect((await guess(limiter, limiter.codeSlots("198.51.100.77", "mallory"))).allowed).toBe(
      false,
    );
    expect((await guess(limiter, limiter.codeSlots("203.0.113.9", "alice"), true)).allowed).toBe(
      true,
    );
    close();
  });
});

describe("RFC 8628 §5.1: the odds with the default limits", () => {
  const space = USER_CODE_ALPHABET.length ** USER_CODE_LENGTH;

  it("one address, another account for every guess: 20 guesses in a code's 15-minute life", async () => {
    const n = await guessesWithin(CODE_LIFE_MS, (l, i) => l.codeSlots("192.0.2.1", `p${i}`));
    expect(n).toBe(20);
  });

  it("one person, any number of sessions and addresses: 15 guesses in a code's life", async () => {
    const n = await guessesWithin(CODE_LIFE_MS, (l, i) =>
      l.codeSlots(`10.0.${i >> 8}.${i & 255}`, "p"),
    );
    expect(n).toBe(15);
  });

  it("P accounts, a fresh address for every guess: 15 P up to about 68 accounts, then 1,020 (at most 1,020 + P); odds below 1.2e-9 per code", async () => {
    const counts: number[] = [];
    const accountCounts = [10, 100, 1000];
    for (const accounts of accountCounts) {
      counts.push(
        await guessesWithin(CODE_LIFE_MS, (l, i) =>
          l.codeSlots(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, `p${i % accounts}`),
        ),
      );
    }
    expect(counts[0]).toBe(150);
    for (const [i, n] of counts.entries())
      expect(n).toBeLessThanOrEqual(1020 + (accountCounts[i] ?? 0));
    expect(Math.max(...counts)).toBe(1020);
    expect(space).toBe(852_891_037_441);
    expect(1020 / space).toBeLessThan(1.2e-9);
  });

  it("sign-in: one account, A addresses: 15 + about one per address (the price of never refusing a clean address)", async () => {
    const counts: number[] = [];
    for (const addresses of [1, 10, 100]) {
      counts.push(
        await guessesWithin(CODE_LIFE_MS, (l, i) =>
          l.signInSlots(`10.0.0.${i % addresses}`, "alice"),
        ),
      );
    }
    expect(counts).toEqual([15, 15, 102]);
  });
});
