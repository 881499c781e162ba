/** The start-dev banner says how people sign in, and lists both grants' endpoints. */
import { describe, expect, it } from "vitest";
import { devBanner, signInHint } from "../../src/cli/banner.js";
import { DEV_SERVICE_TOKEN } from "../../src/config/dev-seed.js";

describe("start-dev banner", () => {
  it("names the sign-in the page really uses: demo/demo only for the seeded local users", () => {
    const base = { HANDOFF_AUTHENTICATOR: "local", HANDOFF_TRUSTED_HEADER: "x-forwarded-user" };
    expect(signInHint(base)).toBe("sign in as demo / demo");
    expect(signInHint({ ...base, HANDOFF_USERS_FILE: "/etc/handoff/users.json" })).not.toContain(
      "demo",
    );
    expect(
      signInHint({
        ...base,
        HANDOFF_AUTHENTICATOR: "oidc",
        HANDOFF_OIDC_ISSUER: "https://idp.example",
      }),
    ).toBe("sign in at https://idp.example");
    expect(signInHint({ ...base, HANDOFF_AUTHENTICATOR: "trusted-header" })).toContain(
      "x-forwarded-user",
    );
    const banner = devBanner(
      "http://localhost:8080",
      "memory",
      DEV_SERVICE_TOKEN,
      undefined,
      "sign in at https://idp.example",
    );
    expect(banner).toContain("/device   (sign in at https://idp.example)");
    expect(banner).not.toContain("demo / demo");
  });

  it("lists the authorization endpoint and registration beside the device endpoints", () => {
    const banner = devBanner("http://localhost:8080", "memory", DEV_SERVICE_TOKEN);
    expect(banner).toContain("GET  http://localhost:8080/oauth/authorize");
    expect(banner).toContain("device code, authorization code and refresh grants");
    expect(banner).toContain("POST http://localhost:8080/oauth/register");
  });
});
