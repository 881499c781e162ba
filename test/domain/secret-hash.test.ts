/** Client secrets and passwords: scrypt off the event loop, sha256 for generated secrets, the recent-success cache. */
import { describe, expect, it } from "vitest";
import {
  constantTimeEqual,
  hashScrypt,
  hashSecretFast,
  RecentVerifications,
  verifySecret,
} from "../../src/domain/secret-hash.js";

describe("client secret hashing", () => {
  it("verifies scrypt and sha256 hashes, and nothing else", async () => {
    const s = "correct horse: battery+staple";
    const h = await hashScrypt(s, 1024);
    expect(await verifySecret(s, h, new RecentVerifications())).toBe(true);
    expect(await verifySecret(`${s}x`, h, new RecentVerifications())).toBe(false);
    expect(await verifySecret(s, hashSecretFast(s))).toBe(true);
    expect(await verifySecret("", hashSecretFast(s))).toBe(false);
    expect(await verifySecret(s, s)).toBe(false);
    expect(await verifySecret(s, "md5:abc")).toBe(false);
    expect(await verifySecret(s, "scrypt:99999999999:8:1:AAAA:AAAAAAAAAAAAAAAAAAAAAA")).toBe(false);
  });

  it("salts scrypt hashes", async () => {
    expect(await hashScrypt("same", 1024)).not.toBe(await hashScrypt("same", 1024));
  });

  it("compares secrets of any length", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
  });
});

describe("recent scrypt verifications", () => {
  it("remember a success for ttlMs: the right secret matches, any other is wrong, then it is forgotten", async () => {
    let now = 0;
    const recent = new RecentVerifications(2, 1000, () => now);
    const h = await hashScrypt("s3cret", 1024);
    expect(recent.check(h, "s3cret")).toBeUndefined();
    expect(await verifySecret("s3cret", h, recent)).toBe(true);
    expect(recent.check(h, "s3cret")).toBe(true);
    expect(recent.check(h, "guess")).toBe(false);
    expect(await verifySecret("guess", h, recent)).toBe(false);
    now = 1000;
    expect(recent.check(h, "s3cret")).toBeUndefined();
  });

  it("never remember a failure, and hold at most maxEntries (the oldest goes)", async () => {
    const recent = new RecentVerifications(2, 60_000);
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((s) => hashScrypt(s, 1024)));
    expect(await verifySecret("wrong", a as string, recent)).toBe(false);
    expect(recent.check(a as string, "a")).toBeUndefined();
    for (const [s, h] of [
      ["a", a],
      ["b", b],
      ["c", c],
    ] as const)
      recent.remember(h as string, s);
    expect(recent.check(a as string, "a")).toBeUndefined();
    expect(recent.check(b as string, "b")).toBe(true);
    expect(recent.check(c as string, "c")).toBe(true);
  });
});
