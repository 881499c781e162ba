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

/** Guesses that get through in `ms` for a guesser who tries again the moment a delay ends. */
async function guessesWithin(
  ms: number,
  slotsFor: (limiter: AttemptLimiter, i: number) => AttemptSlot[],
): Promise<number> {
  const { limiter, clock, close } = limiterAt();
  const end = clock.now + ms;
  let landed = 0;
  for (let i = 0; clock.now < end; i++) {
    const v = await limiter.attempt(slotsFor(limiter, i));
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
    ["codePerAddress", (l, i) => l.codeSlots("192.0.2.1", `session-${i}`)],
    ["codePerSession", (l, i) => l.codeSlots(`192.0.2.${i}`, "one-session")],
    ["codeGlobal", (l, i) => l.codeSlots(`192.0.2.${i}`, `session-${i}`)],
    ["signInPerAddress", (l, i) => l.signInSlots("192.0.2.1", `user${i}`)],
    ["signInPerAccount", (l, i) => l.signInSlots(`192.0.2.${i}`, i % 2 ? "Alice" : "alice")],
    ["signInGlobal", (l, i) => l.signInSlots(`192.0.2.${i}`, `user${i}`)],
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
        verdicts.push((await limiter.attempt(slotsFor(limiter, i))).allowed);
      expect(verdicts).toEqual([true, true, true, true, false]);
      close();
    });
  }

  it("keeps code guesses and sign-ins in separate Cluster slots, with the key prefix", () => {
    const { limiter, close } = limiterAt();
    const prefixed = new AttemptLimiter(new MemoryAttemptCounter(), DEFAULT_ATTEMPT_LIMITS, "p:");
    expect(prefixed.codeSlots("192.0.2.1", "s").map((s) => s.key)).toEqual([
      "p:ratelimit:{code}:ip:192.0.2.1",
      "p:ratelimit:{code}:session:s",
      "p:ratelimit:{code}:global",
    ]);
    const user = limiter.signInSlots("192.0.2.1", "Alice")[1]?.key ?? "";
    expect(user).toMatch(/^ratelimit:\{signin\}:user:[\w-]{22}$/);
    expect(user).not.toContain("alice"); // account names are hashed
    close();
  });
});

describe("RFC 8628 §5.1: the odds with the default limits", () => {
  const space = USER_CODE_ALPHABET.length ** USER_CODE_LENGTH;

  it("one address, a new session per guess: 20 guesses in a code's 15-minute life", async () => {
    const n = await guessesWithin(CODE_LIFE_MS, (l, i) => l.codeSlots("192.0.2.1", `s${i}`));
    expect(n).toBe(20);
  });

  it("one session: 15 guesses in a code's life", async () => {
    const n = await guessesWithin(CODE_LIFE_MS, (l) => l.codeSlots("192.0.2.1", "s"));
    expect(n).toBe(15);
  });

  it("any number of addresses and sessions: 1,020 guesses in a code's life, odds below 1.2e-9 per code", async () => {
    const n = await guessesWithin(CODE_LIFE_MS, (l, i) =>
      l.codeSlots(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, `s${i}`),
    );
    expect(n).toBe(1020);
    expect(space).toBe(852_891_037_441);
    expect(n / space).toBeLessThan(1.2e-9);
  });
});
