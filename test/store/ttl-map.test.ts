/** The TTL map every memory store keeps its state in: expiry by the clock, sweeps that cost what expired. */
import { describe, expect, it } from "vitest";
import { TtlMap } from "../../src/store/ttl-map.js";

describe("TtlMap", () => {
  it("an entry is visible until its expiry and gone at it, swept or not", () => {
    const m = new TtlMap<string, number>();
    m.set("a", 1, 1000);
    expect(m.get("a", 999)).toBe(1);
    expect(m.get("a", 1000)).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it("setting a key again replaces its value and its expiry (earlier or later)", () => {
    const m = new TtlMap<string, string>();
    m.set("k", "first", 1000);
    m.set("k", "later", 5000);
    expect(m.sweep(1000)).toBe(1); // the stale slot comes out, the entry stays
    expect(m.get("k", 4999)).toBe("later");
    m.set("k", "earlier", 2000);
    m.sweep(2000);
    expect(m.size).toBe(0);
  });

  it("a sweep takes out only what expired, not a scan of every live entry", () => {
    const m = new TtlMap<number, number>();
    for (let i = 0; i < 100_000; i++) m.set(i, i, 10_000 + i);
    for (let i = 0; i < 10; i++) m.set(-i - 1, i, 500);
    expect(m.sweep(500)).toBe(10);
    expect(m.size).toBe(100_000);
    expect(m.sweep(10_099)).toBe(100);
    expect(m.size).toBe(99_900);
  });

  it("one key set again and again keeps the heap bounded (stale slots are compacted)", () => {
    const m = new TtlMap<string, number>();
    for (let i = 1; i <= 100_000; i++) m.set("hot", i, i);
    // Rebuilt whenever stale slots pass 2 · live + 64: far fewer than 100 000 remain.
    expect(m.sweep(Number.MAX_SAFE_INTEGER)).toBeLessThanOrEqual(66);
    expect(m.size).toBe(0);
  });

  it("onExpire: once per entry that expires, swept or found expired, with its last value; never for delete or replacement", () => {
    const expired: Array<[string, number]> = [];
    const m = new TtlMap<string, number>((k, v) => expired.push([k, v]));
    m.set("swept", 1, 1000);
    m.set("swept", 2, 1000); // same expiry: replaced in place
    m.set("read", 3, 1000);
    m.set("moved", 4, 1000);
    m.set("moved", 5, 9000); // rescheduled: its old slot is stale
    m.set("deleted", 6, 1000);
    m.delete("deleted");
    expect(m.get("read", 1000)).toBeUndefined();
    m.sweep(1000);
    m.sweep(1000);
    expect(expired.sort()).toEqual([
      ["read", 3],
      ["swept", 2],
    ]);
    expect(m.get("moved", 8999)).toBe(5);
    m.sweep(9000);
    expect(expired).toContainEqual(["moved", 5]);
    expect(expired).toHaveLength(3);
  });

  it("a deleted key stays deleted when its slot surfaces", () => {
    const m = new TtlMap<string, number>();
    m.set("x", 1, 100);
    m.delete("x");
    m.set("y", 2, 200);
    expect(m.sweep(150)).toBe(1);
    expect(m.get("x", 0)).toBeUndefined();
    expect(m.get("y", 150)).toBe(2);
  });
});
