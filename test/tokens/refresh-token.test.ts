/** Refresh tokens and jtis: CSPRNG entropy, format, storage hash (OAuth 2.1 §7.1.2, RFC 6749 §10.10). */
import { describe, expect, it } from "vitest";
import {
  hashRefreshToken,
  jtiTag,
  mintFamilyId,
  mintJti,
  mintRefreshToken,
  parseRefreshToken,
} from "../../src/domain/refresh-token.js";

describe("refresh tokens", () => {
  it("RFC 6749 §10.10: carry 256 bits of CSPRNG secret after the family id, unique over a large sample", () => {
    const family = mintFamilyId();
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const t = mintRefreshToken(family);
      const [fid, secret] = t.split(".");
      expect(fid).toBe(family);
      expect(Buffer.from(secret ?? "", "base64url")).toHaveLength(32);
      seen.add(t);
    }
    expect(seen.size).toBe(20_000);
  });

  it("parse: yields the family and a SHA-256 of the whole token; anything else is null", () => {
    const t = mintRefreshToken(mintFamilyId());
    const h = parseRefreshToken(t);
    expect(h).toEqual({ familyId: t.split(".")[0], hash: hashRefreshToken(t) });
    expect(h?.hash).not.toContain(t.split(".")[1]);
    expect(Buffer.from(h?.hash ?? "", "base64url")).toHaveLength(32);
    for (const bad of ["", "abc", `${t}x`, t.replace(".", ":"), `${t.slice(0, -1)}+`]) {
      expect(parseRefreshToken(bad)).toBeNull();
    }
  });

  it("jti: tagged with the family id so a family's revocation marks share its hash slot", () => {
    const family = mintFamilyId();
    const jti = mintJti(family);
    expect(jtiTag(jti)).toBe(family);
    expect(jtiTag(mintJti())).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(jtiTag("foreign-jti")).toBeNull();
    expect(mintJti(family)).not.toBe(jti);
  });
});
