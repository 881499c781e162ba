import { describe, expect, it } from "vitest";
import {
  formatUserCode,
  mintUserCode,
  normalizeUserCode,
  USER_CODE_ALPHABET,
  USER_CODE_LENGTH,
} from "../../src/domain/user-code.js";

describe("user codes (RFC 8628 §6.1)", () => {
  it("uses 31 symbols without the confusable I, L, O, 0 and 1", () => {
    expect(USER_CODE_ALPHABET).toHaveLength(31);
    for (const c of "ILO01") expect(USER_CODE_ALPHABET).not.toContain(c);
    expect(new Set(USER_CODE_ALPHABET).size).toBe(31);
  });

  it("mints 8 symbols from the alphabet, displayed as ABCD-EFGH", () => {
    for (let i = 0; i < 1000; i++) {
      const code = mintUserCode();
      expect(code).toHaveLength(USER_CODE_LENGTH);
      for (const c of code) expect(USER_CODE_ALPHABET).toContain(c);
      expect(formatUserCode(code)).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    }
  });

  it("draws symbols uniformly (rejection sampling, no modulo bias)", () => {
    // 31 symbols × ~2000 draws each. A modulo-256 mapping would give the first
    // 8 symbols 9/256 instead of 8/256 (12.5 % more): far outside 6 sigma here.
    const counts = new Map<string, number>();
    const codes = 8000;
    for (let i = 0; i < codes; i++)
      for (const c of mintUserCode()) counts.set(c, (counts.get(c) ?? 0) + 1);
    const expected = (codes * USER_CODE_LENGTH) / 31;
    const sigma = Math.sqrt(expected * (1 - 1 / 31));
    for (const c of USER_CODE_ALPHABET) {
      expect(Math.abs((counts.get(c) ?? 0) - expected)).toBeLessThan(6 * sigma);
    }
    // Chi-square with 30 degrees of freedom: p < 1e-6 above ~ 80.
    let chi = 0;
    for (const c of USER_CODE_ALPHABET) chi += ((counts.get(c) ?? 0) - expected) ** 2 / expected;
    expect(chi).toBeLessThan(80);
  });

  it("normalises case, dashes, spaces and other separators", () => {
    expect(normalizeUserCode("wdjb-mjht")).toBe("WDJBMJHT");
    expect(normalizeUserCode("WDJBMJHT")).toBe("WDJBMJHT");
    expect(normalizeUserCode(" wd jb  mj ht ")).toBe("WDJBMJHT");
    expect(normalizeUserCode("WD.JB_MJ/HT")).toBe("WDJBMJHT");
    expect(normalizeUserCode("ＷＤＪＢ－ＭＪＨＴ")).toBe("WDJBMJHT"); // full-width, from phone keyboards
  });

  it("rejects what cannot be a code", () => {
    for (const bad of [
      "",
      "WDJB-MJH",
      "WDJB-MJHTX",
      "WDJB-MJH0",
      "IIII-IIII",
      "WDJB-MJH1",
      "x".repeat(100),
    ]) {
      expect(normalizeUserCode(bad)).toBeNull();
    }
  });
});
