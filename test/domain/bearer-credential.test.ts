import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bearerToken, namesBearerScheme } from "../../src/domain/bearer-credential.js";
import { bearerTokenOf } from "../../src/resource-server/challenges.js";

describe("the Bearer credential reader (RFC 6750 §2.1)", () => {
  it("reads the b64token of `Bearer <token>`, the scheme in any case", () => {
    expect(bearerToken("Bearer abc.DEF-_~+/==")).toBe("abc.DEF-_~+/==");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("BEARER abc")).toBe("abc");
    // 1*SP between the scheme and the token.
    expect(bearerToken("Bearer   abc")).toBe("abc");
  });

  it("refuses another scheme, a missing token and characters outside b64token", () => {
    for (const value of [
      undefined,
      null,
      "",
      "Bearer",
      "Bearer ",
      "Basic YTpi",
      "Bearerabc",
      "Bearer\tabc",
      "Bearer a b",
      "Bearer a!b",
      "Bearer a=b",
      "Bearer =",
      'Bearer "abc"',
      "Bearer abc,def",
      "Bearer é",
    ]) {
      expect(bearerToken(value), JSON.stringify(value)).toBeUndefined();
    }
  });

  it("names the Bearer scheme even when the value is malformed (the 401 gets a Bearer challenge, RFC 6750 §3)", () => {
    expect(namesBearerScheme("bearer a!b")).toBe(true);
    expect(namesBearerScheme("Basic YTpi")).toBe(false);
    expect(namesBearerScheme(undefined)).toBe(false);
    expect(namesBearerScheme(null)).toBe(false);
  });

  it("reads exactly what handoff/resource-server's own copy reads (that package imports nothing of ours)", () => {
    const header = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .tuple(
          fc.constantFrom("Bearer", "bearer", "BeArEr", "Basic", "Bearerx", ""),
          fc.stringMatching(/^[ \t]{0,3}$/),
          fc.stringMatching(/^[A-Za-z0-9\-._~+/=!" ,]{0,20}$/),
          fc.stringMatching(/^ {0,2}$/),
        )
        .map((parts) => parts.join("")),
    );
    fc.assert(
      fc.property(header, (h) => {
        expect(bearerToken(h)).toBe(bearerTokenOf(h) ?? undefined);
      }),
    );
  });
});
