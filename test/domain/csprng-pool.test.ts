import { describe, expect, it } from "vitest";
import { csprngBase64url, csprngBytes } from "../../src/domain/csprng-pool.js";

describe("the CSPRNG pool", () => {
  it("never hands out the same bytes twice, across refills", () => {
    const seen = new Set<string>();
    // 3000 × 32 bytes spans many 4 KiB refills; 256-bit draws never collide.
    for (let i = 0; i < 3000; i++) seen.add(csprngBytes(32).toString("hex"));
    expect(seen.size).toBe(3000);
  });

  it("returns copies that later draws do not change", () => {
    const a = csprngBytes(16);
    const before = Buffer.from(a);
    for (let i = 0; i < 600; i++) csprngBytes(16); // forces a refill of the pool
    expect(a.equals(before)).toBe(true);
    expect(a.equals(Buffer.alloc(16))).toBe(false);
  });

  it("serves requests larger than the pool directly", () => {
    const big = csprngBytes(10_000);
    expect(big).toHaveLength(10_000);
    expect(new Set(big).size).toBeGreaterThan(200); // all byte values appear in 10 kB of randomness
  });

  it("hands out base64url text of fresh bytes, never twice, across refills and interleaved with bytes", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const text = csprngBase64url(32);
      expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
      seen.add(Buffer.from(text, "base64url").toString("hex"));
      seen.add(csprngBytes(32).toString("hex"));
    }
    expect(seen.size).toBe(6000);
    expect(csprngBase64url(10_000)).toHaveLength(Math.ceil((10_000 * 4) / 3));
  });
});
