/** The store operations' deadlines (src/store/operation-deadlines.ts), on vitest's fake clock. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GROUP_MS, OperationDeadlines } from "../../src/store/operation-deadlines.js";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("OperationDeadlines", () => {
  it("fails an operation that has not answered once its deadline passes, at most GROUP_MS late, never early", () => {
    const deadlines = new OperationDeadlines(1000);
    const expired: string[] = [];
    vi.advanceTimersByTime(GROUP_MS / 2); // a start between two group steps
    deadlines.start(() => expired.push("a"));
    vi.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1 + GROUP_MS);
    expect(expired).toEqual(["a"]);
    expect(deadlines.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("holds nothing of an operation that answered: it leaves at once and never fails", () => {
    const deadlines = new OperationDeadlines(1000);
    const expired: string[] = [];
    const answered = () => expired.push("answered");
    const pending = deadlines.start(answered);
    deadlines.start(() => expired.push("late"));
    expect(deadlines.size).toBe(2);
    pending.delete(answered);
    expect(deadlines.size).toBe(1);
    vi.advanceTimersByTime(1000 + GROUP_MS);
    expect(expired).toEqual(["late"]);
  });

  it("fails operations in the order they started, each at its own deadline, on one timer", () => {
    const deadlines = new OperationDeadlines(100);
    const expired: number[] = [];
    for (let i = 0; i < 5; i++) {
      deadlines.start(() => expired.push(i));
      vi.advanceTimersByTime(30);
      expect(vi.getTimerCount()).toBe(1);
    }
    // Started at 0, 30, 60, 90, 120 ms; now 150 ms: the first two are past 100 ms.
    expect(expired).toEqual([0, 1]);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([0, 1, 2, 3, 4]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("under steady traffic keeps only what is still pending, and wakes no more than once a group", () => {
    const deadlines = new OperationDeadlines(2000);
    let expired = 0;
    let wakes = 0;
    const realSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((
      fn: () => void,
      ms?: number,
    ) => {
      wakes++;
      return realSetTimeout(fn, ms);
    }) as typeof setTimeout);
    try {
      // 10 s of 100 operations a millisecond tick, every one answered but one in a thousand.
      for (let t = 0; t < 10_000; t++) {
        for (let i = 0; i < 100; i++) {
          // Each operation its own function, as RedisConnection's guard gives each call.
          const unanswered = i === 0 && t % 10 === 0;
          const expire = () => {
            expired++;
          };
          const pending = deadlines.start(expire);
          if (!unanswered) pending.delete(expire);
        }
        vi.advanceTimersByTime(1);
      }
      expect(deadlines.size).toBeLessThanOrEqual(2000 / 10 + 1);
      vi.advanceTimersByTime(2000 + GROUP_MS);
      expect(expired).toBe(1000);
      expect(deadlines.size).toBe(0);
      expect(wakes).toBeLessThanOrEqual(12_000 / GROUP_MS + 1);
    } finally {
      spy.mockRestore();
    }
  });
});
