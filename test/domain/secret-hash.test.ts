import { describe, expect, it } from "vitest";
import {
  constantTimeEqual,
  hashSecret,
  hashSecretFast,
  verifySecret,
} from "../../src/domain/secret-hash.js";

describe("client secret hashing", () => {
  it("verifies scrypt and sha256 hashes, and nothing else", () => {
    const s = "correct horse: battery+staple";
    expect(verifySecret(s, hashSecret(s))).toBe(true);
    expect(verifySecret(`${s}x`, hashSecret(s))).toBe(false);
    expect(verifySecret(s, hashSecretFast(s))).toBe(true);
    expect(verifySecret("", hashSecretFast(s))).toBe(false);
    expect(verifySecret(s, s)).toBe(false);
    expect(verifySecret(s, "md5:abc")).toBe(false);
    expect(verifySecret(s, "scrypt:99999999999:8:1:AAAA:AAAAAAAAAAAAAAAAAAAAAA")).toBe(false);
  });

  it("salts scrypt hashes", () => {
    expect(hashSecret("same")).not.toBe(hashSecret("same"));
  });

  it("compares secrets of any length", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
  });
});
