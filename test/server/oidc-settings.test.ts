/**
 * `handoff start` refuses insecure sign-in settings for HANDOFF_AUTHENTICATOR=oidc
 * (README "Sign in with your identity provider"), each message naming the
 * setting: a provider over plain http (start-dev: loopback only), a
 * confidential client without its secret, a secret set twice or for a public
 * client, scopes without `openid`, a malformed allowed domain.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { readSettings } from "../../src/config/settings.js";
import { pagesConfig } from "../../src/server/pages-config.js";

const quiet = pino({ level: "silent" });
const OK = {
  HANDOFF_AUTHENTICATOR: "oidc",
  HANDOFF_OIDC_ISSUER: "https://login.example.com/tenant",
  HANDOFF_OIDC_CLIENT_ID: "handoff",
  HANDOFF_OIDC_CLIENT_SECRET: "a-secret-from-the-provider",
};

const config = (env: Record<string, string>, mode = "production") =>
  pagesConfig(readSettings(env), mode, quiet);

describe("oidc settings", () => {
  it("a complete https configuration becomes the authenticator's, with the defaults", async () => {
    const c = await config({ ...OK, HANDOFF_OIDC_ALLOWED_DOMAINS: "Example.com, corp.example" });
    expect(c.authenticator).toEqual({
      kind: "oidc",
      issuer: "https://login.example.com/tenant",
      clientId: "handoff",
      clientSecret: "a-secret-from-the-provider",
      clientAuth: "client_secret_basic",
      scopes: "openid email profile",
      subjectClaim: "sub",
      allowedDomains: ["example.com", "corp.example"],
      timeoutSeconds: 10,
      loginTtlSeconds: 600,
    });
  });

  it("the secret can come from a file (trailing newline dropped); a required group names its claim", async () => {
    const dir = mkdtempSync(join(tmpdir(), "handoff-oidc-"));
    writeFileSync(join(dir, "secret"), "from-a-file\n");
    const { HANDOFF_OIDC_CLIENT_SECRET: _, ...rest } = OK;
    const c = await config({
      ...rest,
      HANDOFF_OIDC_CLIENT_SECRET_FILE: join(dir, "secret"),
      HANDOFF_OIDC_REQUIRED_GROUP: "handoff-users",
    });
    expect(c.authenticator).toMatchObject({
      clientSecret: "from-a-file",
      requiredGroup: { claim: "groups", value: "handoff-users" },
    });
  });

  it.each([
    [{ HANDOFF_OIDC_ISSUER: "http://login.example.com" }, "HANDOFF_OIDC_ISSUER: must be https"],
    [{ HANDOFF_OIDC_ISSUER: "http://127.0.0.1:9000" }, "HANDOFF_OIDC_ISSUER: must be https"],
    [{ HANDOFF_OIDC_CLIENT_ID: "" }, "HANDOFF_OIDC_CLIENT_ID: required"],
    [
      { HANDOFF_OIDC_CLIENT_SECRET: "" },
      "HANDOFF_OIDC_CLIENT_SECRET: required with HANDOFF_OIDC_CLIENT_AUTH=client_secret_basic",
    ],
    [
      { HANDOFF_OIDC_CLIENT_AUTH: "client_secret_post", HANDOFF_OIDC_CLIENT_SECRET: "" },
      "HANDOFF_OIDC_CLIENT_SECRET: required",
    ],
    [{ HANDOFF_OIDC_CLIENT_SECRET_FILE: "/x" }, "set one or the other"],
    [{ HANDOFF_OIDC_CLIENT_AUTH: "none" }, "HANDOFF_OIDC_CLIENT_AUTH: is none"],
    [{ HANDOFF_OIDC_SCOPES: "email profile" }, "HANDOFF_OIDC_SCOPES: must include openid"],
    [
      { HANDOFF_OIDC_ALLOWED_DOMAINS: "example.com,not a domain" },
      "HANDOFF_OIDC_ALLOWED_DOMAINS: not a domain name: not a domain",
    ],
  ])("handoff start refuses %o", async (change, message) => {
    await expect(config({ ...OK, ...change })).rejects.toThrow(message);
  });

  it("without HANDOFF_OIDC_ISSUER there is no provider to sign in with", async () => {
    const { HANDOFF_OIDC_ISSUER: _, ...rest } = OK;
    await expect(config(rest)).rejects.toThrow("HANDOFF_OIDC_ISSUER: required");
  });

  it("start-dev takes a provider on loopback over http, and no other http one", async () => {
    const loopback = await config(
      { ...OK, HANDOFF_OIDC_ISSUER: "http://127.0.0.1:9000" },
      "development",
    );
    expect(loopback.authenticator).toMatchObject({ issuer: "http://127.0.0.1:9000" });
    await expect(
      config({ ...OK, HANDOFF_OIDC_ISSUER: "http://idp.internal:9000" }, "development"),
    ).rejects.toThrow("HANDOFF_OIDC_ISSUER: must be https, except a provider on this machine");
  });

  it("a public client (none) needs no secret", async () => {
    const { HANDOFF_OIDC_CLIENT_SECRET: _, ...rest } = OK;
    const c = await config({ ...rest, HANDOFF_OIDC_CLIENT_AUTH: "none" });
    expect(c.authenticator).toMatchObject({ clientAuth: "none" });
    expect(c.authenticator).not.toHaveProperty("clientSecret");
  });

  it("the subject claim and the scopes are checked as settings", () => {
    expect(() => readSettings({ ...OK, HANDOFF_OIDC_SUBJECT_CLAIM: "name" })).toThrow(
      "HANDOFF_OIDC_SUBJECT_CLAIM",
    );
    expect(() => readSettings({ ...OK, HANDOFF_OIDC_SCOPES: 'openid "email"' })).toThrow(
      "HANDOFF_OIDC_SCOPES",
    );
  });
});
