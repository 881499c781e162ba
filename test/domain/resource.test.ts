/** The one resource rule (RFC 8707 §2; README "Hostile input"): what is refused, and the normal form. */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RESOURCE_LIMITS,
  normalizeResource,
  parseResources,
  resourceHost,
} from "../../src/domain/resource.js";

const limits = DEFAULT_RESOURCE_LIMITS;
const dev = { ...limits, httpOnLoopback: true };
const refused = expect.objectContaining({ code: "invalid_target" });

describe("resource indicators (RFC 8707 §2)", () => {
  it("normalises scheme and host case and drops the default port, so one resource is one value", () => {
    expect(
      parseResources(["HTTPS://R1.EX/", "https://r1.ex/", "https://r1.ex:443/"], limits),
    ).toEqual(["https://r1.ex/"]);
    expect(normalizeResource("https://EXAMPLE.com:8443/MCP?x=1", limits)).toBe(
      "https://example.com:8443/MCP?x=1",
    );
  });

  it("adds no slash to a bare origin (MCP servers compare aud to https://host exactly)", () => {
    expect(normalizeResource("https://mcp.example.com", limits)).toBe("https://mcp.example.com");
    expect(normalizeResource("https://mcp.example.com/", limits)).toBe("https://mcp.example.com/");
  });

  it("turns an internationalised host into punycode, so a Cyrillic look-alike shows as xn--", () => {
    const lookAlike = normalizeResource("https://\u0430pple.com/", limits);
    expect(lookAlike).toBe("https://xn--pple-43d.com/");
    expect(resourceHost(lookAlike)).toBe("xn--pple-43d.com");
  });

  it("refuses the values observed on the consent page with invalid_target", () => {
    for (const bad of [
      "javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "https://ex\u202Eample.com/",
      "https://ex\u200Bample.com/",
      "ftp://files.example/",
      "urn:x:y",
      "https://user:pw@example.com/",
      "http://example.com/",
      "/mcp",
      "mcp",
      "https://a.example/#frag",
      "https://a.example/x#",
      "https://a b.example/",
    ]) {
      expect(() => parseResources([bad], limits), bad).toThrow(refused);
    }
  });

  it("allows http only on a loopback host, and only when told to (development)", () => {
    for (const ok of ["http://localhost:3000/mcp", "http://127.0.0.1/", "http://[::1]:8080/mcp"]) {
      expect(normalizeResource(ok, dev)).toBe(ok);
      expect(() => normalizeResource(ok, limits)).toThrow(refused);
    }
    expect(() => normalizeResource("http://10.0.0.1/", dev)).toThrow(refused);
    expect(() => normalizeResource("http://localhost.evil.example/", dev)).toThrow(refused);
  });

  it("caps the count per request (before parsing), per grant (distinct) and the length of each", () => {
    const many = Array.from({ length: limits.perRequest + 1 }, () => "https://a.example/");
    expect(() => parseResources(many, limits)).toThrow(refused);
    // Within the per-request count, duplicates fold and do not count against the grant.
    expect(parseResources(many.slice(1), limits)).toEqual(["https://a.example/"]);
    const distinct = Array.from(
      { length: limits.perGrant + 1 },
      (_, i) => `https://r${i}.example/`,
    );
    expect(() => parseResources(distinct, limits)).toThrow(refused);
    expect(parseResources(distinct.slice(1), limits)).toHaveLength(limits.perGrant);
    const long = `https://a.example/${"x".repeat(limits.maxLength)}`;
    expect(() => parseResources([long], limits)).toThrow(refused);
    // Punycode can make a host longer than it was typed: the normal form is held to the cap too.
    const host = "\u0430".repeat(60);
    const edge = `https://${host}.example/${"p".repeat(limits.maxLength - 80)}`;
    expect(edge.length).toBeLessThanOrEqual(limits.maxLength);
    expect(() => normalizeResource(edge, limits)).toThrow(refused);
  });
});
