/** HANDOFF_REGISTRATION* settings turned into the server's registration configuration. */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { readSettings } from "../../src/config/settings.js";
import { loadConfig } from "../../src/server/load-config.js";

const logger = pino({ level: "silent" });
const dev = (env: Record<string, string>) => loadConfig(readSettings(env), "development", logger);

describe("registration settings", () => {
  it("start-dev opens registration (public clients) unless told otherwise; off turns it off", async () => {
    const c = await dev({});
    expect(c.registration).toMatchObject({
      mode: "open",
      grants: [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
      ],
      idleTtl: 2_592_000,
      maxClients: 10_000,
      bodyLimit: 8192,
      limits: { maxRedirectUris: 10, maxUriLength: 1024, maxNameLength: 128 },
    });
    expect(c.attemptLimits).toMatchObject({ registrationPerAddress: 10, registrationGlobal: 1000 });
    expect((await dev({ HANDOFF_REGISTRATION: "off" })).registration).toBeUndefined();
  });

  it("token mode needs HANDOFF_REGISTRATION_TOKEN, of at least 32 characters", async () => {
    await expect(dev({ HANDOFF_REGISTRATION: "token" })).rejects.toThrow(
      /HANDOFF_REGISTRATION_TOKEN/,
    );
    expect(() => readSettings({ HANDOFF_REGISTRATION_TOKEN: "short" })).toThrow(
      /HANDOFF_REGISTRATION_TOKEN/,
    );
    const token = "t".repeat(32);
    const c = await dev({ HANDOFF_REGISTRATION: "token", HANDOFF_REGISTRATION_TOKEN: token });
    expect(c.registration).toMatchObject({ mode: "token", initialAccessToken: token });
  });

  it("grants and scopes are checked and named in the error", async () => {
    expect(() => readSettings({ HANDOFF_REGISTRATION_GRANTS: "client_credentials" })).toThrow(
      /HANDOFF_REGISTRATION_GRANTS/,
    );
    expect(() => readSettings({ HANDOFF_REGISTRATION: "maybe" })).toThrow(/HANDOFF_REGISTRATION/);
    const c = await dev({
      HANDOFF_REGISTRATION_GRANTS: "urn:ietf:params:oauth:grant-type:device_code,refresh_token",
      HANDOFF_REGISTRATION_SCOPES: "read profile",
    });
    expect(c.registration).toMatchObject({
      grants: ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
      scopes: ["read", "profile"],
    });
    await expect(dev({ HANDOFF_REGISTRATION_SCOPES: 'read "bad' })).rejects.toThrow(
      /HANDOFF_REGISTRATION_SCOPES/,
    );
  });
});
