/** Delays Node's timers can hold (src/domain/timer-delay.ts) and the RPC deadlines cut to them. */
import { describe, expect, it } from "vitest";
import { MAX_TIMER_DELAY_MS, timerDelay } from "../../src/domain/timer-delay.js";
import { clampDeadlineHeaders } from "../../src/server/rpc-deadlines.js";

describe("timerDelay", () => {
  it("keeps a delay Node can hold and cuts a longer one to 2^31 - 1 ms", () => {
    expect(MAX_TIMER_DELAY_MS).toBe(2_147_483_647);
    expect(timerDelay(30_000)).toBe(30_000);
    expect(timerDelay(MAX_TIMER_DELAY_MS)).toBe(MAX_TIMER_DELAY_MS);
    // 99 999 999 hours, the delay the gRPC fuzz test once armed.
    expect(timerDelay(359_999_996_400_000)).toBe(MAX_TIMER_DELAY_MS);
    expect(timerDelay(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_DELAY_MS);
  });

  it("makes a negative or NaN delay 0", () => {
    expect(timerDelay(-5)).toBe(0);
    expect(timerDelay(Number.NaN)).toBe(0);
  });
});

describe("clampDeadlineHeaders", () => {
  const clamped = (init: Record<string, string>) => {
    const h = new Headers(init);
    clampDeadlineHeaders(h);
    return Object.fromEntries(h);
  };

  it("cuts a gRPC deadline past the timer range to whole seconds within 8 digits", () => {
    expect(clamped({ "grpc-timeout": "99999999H" })).toEqual({ "grpc-timeout": "2147483S" });
    expect(clamped({ "grpc-timeout": "99999999M" })).toEqual({ "grpc-timeout": "2147483S" });
  });

  it("cuts a Connect deadline past the timer range to 2^31 - 1 ms", () => {
    expect(clamped({ "connect-timeout-ms": "9999999999" })).toEqual({
      "connect-timeout-ms": "2147483647",
    });
  });

  it("leaves deadlines in range and malformed ones (the library refuses those) alone", () => {
    for (const init of [
      { "grpc-timeout": "5S" },
      { "grpc-timeout": "596H" },
      { "grpc-timeout": "99999999n" },
      { "grpc-timeout": "100000000S" },
      { "grpc-timeout": "-1m" },
      { "connect-timeout-ms": "2147483647" },
      { "connect-timeout-ms": "x" },
      {},
    ]) {
      expect(clamped(init)).toEqual(init);
    }
  });
});
