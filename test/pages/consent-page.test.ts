/** The consent screen's resources: the host is shown first, in punycode. */
import { describe, expect, it } from "vitest";
import { DEFAULT_RESOURCE_LIMITS, parseResources } from "../../src/domain/resource.js";
import { consentPage } from "../../src/pages/consent-page.js";

const now = new Date("2026-01-01T00:00:00Z");

function render(resources: readonly string[]) {
  return consentPage({
    base: "/device",
    subject: "alice",
    csrfToken: "t",
    canSignOut: true,
    viewerIp: "127.0.0.1",
    now,
    request: {
      userCode: "ABCD-EFGH",
      clientId: "demo-cli",
      clientName: "Demo CLI",
      scopes: ["read"],
      resources,
      createdAt: now,
      expiresAt: new Date(now.getTime() + 60_000),
      ipAddress: "127.0.0.1",
      userAgent: "cli/1.0",
      status: "pending",
    },
  });
}

describe("consent screen resources", () => {
  it("shows each resource's host prominently, a Cyrillic look-alike as xn--", () => {
    // What the domain stores for "https://аpple.com/mcp" (Cyrillic а) and a real one.
    const stored = parseResources(
      ["https://\u0430pple.com/mcp", "https://apple.com/mcp"],
      DEFAULT_RESOURCE_LIMITS,
    );
    const page = render(stored);
    expect(page).toContain('<strong class="host mono">xn--pple-43d.com</strong>');
    expect(page).toContain('<strong class="host mono">apple.com</strong>');
    expect(page).not.toContain("\u0430");
  });
});
