import { describe, expect, it } from "vitest";
import {
  mintCodes,
  mintDeviceCode,
  parseDeviceCode,
  userCodeHandle,
} from "../../src/domain/device-code.js";
import { mintUserCode } from "../../src/domain/user-code.js";

describe("device codes (RFC 8628 §5.2)", () => {
  it("carry 256 bits of CSPRNG output as 43 base64url characters, unique over a large sample", () => {
    const seen = new Set<string>();
    const exp = Date.now() + 900_000;
    for (let i = 0; i < 20_000; i++) {
      const code = mintDeviceCode(mintUserCode(), exp);
      const random = code.split(".")[2] ?? "";
      expect(random).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(random, "base64url")).toHaveLength(32);
      seen.add(random);
    }
    expect(seen.size).toBe(20_000);
  });

  it("share their routing tag with the user code's handle (one Redis Cluster slot)", () => {
    const userCode = mintUserCode();
    const parsed = parseDeviceCode(mintDeviceCode(userCode, Date.now() + 1000));
    expect(parsed?.handle.tag).toBe(userCodeHandle(userCode).tag);
  });

  it("minted with their handles: the same handles as parsing the code and hashing the user code", () => {
    const exp = Date.now() + 900_000;
    for (let i = 0; i < 200; i++) {
      const userCode = mintUserCode();
      const { deviceCode, device, user } = mintCodes(userCode, exp);
      const parsed = parseDeviceCode(deviceCode);
      expect(parsed?.handle).toEqual(device);
      expect(parsed?.expiresAtMs).toBe(Math.floor(exp / 1000) * 1000);
      expect(user).toEqual(userCodeHandle(userCode));
    }
  });

  it("carry their expiry, to the second and rounded down, so an expired code gets expired_token (RFC 8628 §3.5)", () => {
    const exp = 1_900_000_000_923;
    expect(parseDeviceCode(mintDeviceCode(mintUserCode(), exp))?.expiresAtMs).toBe(
      1_900_000_000_000,
    );
  });

  it("hash to a handle that does not contain the code", () => {
    const code = mintDeviceCode(mintUserCode(), Date.now());
    const h = parseDeviceCode(code)?.handle;
    expect(h?.hash).toMatch(/^[A-Za-z0-9_-]{16}$/); // 96 bits
    expect(code).not.toContain(h?.hash ?? "");
  });

  it("refuse anything else", () => {
    for (const bad of [
      "",
      "abc",
      "AAAA.zz.short",
      `AAAA.zz.${"a".repeat(44)}`,
      `AA!A.zz.${"a".repeat(43)}`,
    ]) {
      expect(parseDeviceCode(bad)).toBeNull();
    }
  });

  it("spread their tags evenly (Cluster slots stay balanced)", () => {
    const tags = new Set<string>();
    for (let i = 0; i < 2000; i++) tags.add(userCodeHandle(mintUserCode()).tag);
    expect(tags.size).toBeGreaterThan(1990); // 2^24 tags: collisions in 2000 draws are rare
  });
});
