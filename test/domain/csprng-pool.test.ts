import { describe, expect, it } from "vitest";
import { csprngBytes } from "../../src/domain/csprng-pool.js";

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
});
