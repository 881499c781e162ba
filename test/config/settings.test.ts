import { describe, expect, it } from "vitest";
import { parseClients } from "../../src/config/clients-file.js";
import { readSettings } from "../../src/config/settings.js";

describe("settings from the environment", () => {
  it("has the documented defaults", () => {
    const s = readSettings({});
    expect(s).toMatchObject({
      PORT: 8080,
      HANDOFF_DEVICE_CODE_TTL: 900,
      HANDOFF_POLL_INTERVAL: 5,
      HANDOFF_ACCESS_TOKEN_TTL: 3600,
      HANDOFF_BODY_LIMIT: 16384,
      HANDOFF_SIGNING_ALG: "ES256",
    });
    expect(s.REDIS_URL).toBeUndefined();
  });

  it("names each bad setting in the error", () => {
    const bad = {
      PORT: "eighty",
      HANDOFF_POLL_INTERVAL: "0",
      HANDOFF_ISSUER: "ftp://x",
      REDIS_URL: "localhost:6379",
      HANDOFF_SERVICE_TOKEN: "short",
      REDIS_CLUSTER_NODES: "a:1,b",
    };
    const message = (() => {
      try {
        readSettings(bad);
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    })();
    for (const name of Object.keys(bad)) expect(message).toContain(name);
  });

  it("refuses REDIS_URL and REDIS_CLUSTER_NODES together", () => {
    expect(() =>
      readSettings({ REDIS_URL: "redis://127.0.0.1:6379", REDIS_CLUSTER_NODES: "127.0.0.1:7000" }),
    ).toThrow(/REDIS_URL, REDIS_CLUSTER_NODES/);
  });

  it("WAIT after durable writes is off by default, and its timeout must leave room within the store deadline", () => {
    expect(readSettings({})).toMatchObject({
      HANDOFF_REDIS_WAIT_REPLICAS: 0,
      HANDOFF_REDIS_WAIT_TIMEOUT_MS: 100,
    });
    expect(() =>
      readSettings({
        HANDOFF_REDIS_WAIT_REPLICAS: "1",
        HANDOFF_REDIS_WAIT_TIMEOUT_MS: "2000",
        HANDOFF_REDIS_TIMEOUT_MS: "2000",
      }),
    ).toThrow(/HANDOFF_REDIS_WAIT_TIMEOUT_MS: must be below HANDOFF_REDIS_TIMEOUT_MS/);
    expect(
      readSettings({ HANDOFF_REDIS_WAIT_REPLICAS: "1", HANDOFF_REDIS_WAIT_TIMEOUT_MS: "250" }),
    ).toMatchObject({ HANDOFF_REDIS_WAIT_REPLICAS: 1, HANDOFF_REDIS_WAIT_TIMEOUT_MS: 250 });
  });

  it("strips a trailing slash from the issuer", () => {
    expect(readSettings({ HANDOFF_ISSUER: "https://auth.example.com/" }).HANDOFF_ISSUER).toBe(
      "https://auth.example.com",
    );
  });
});

describe("the clients file", () => {
  const ok = {
    client_id: "cli",
    grant_types: ["urn:ietf:params:oauth:grant-type:device_code"],
    scopes: ["read"],
    default_scopes: ["read"],
  };

  it("parses clients with defaults", () => {
    const [c] = parseClients(JSON.stringify({ clients: [ok] }), "f");
    expect(c).toMatchObject({ id: "cli", name: "cli", active: true, scopes: ["read"] });
    expect(c?.secretHash).toBeUndefined();
    expect(c?.redirectUris).toEqual([]);
  });

  it("reads redirect URIs, checked by the one domain rule (RFC 8252 §7)", () => {
    const withCode = {
      ...ok,
      grant_types: ["authorization_code", "refresh_token"],
      redirect_uris: ["http://127.0.0.1/callback", "https://app.example.com/cb"],
    };
    const [c] = parseClients(JSON.stringify({ clients: [withCode] }), "f");
    expect(c?.redirectUris).toEqual(withCode.redirect_uris);
    expect(c?.grantTypes).toContain("authorization_code");
    expect(() =>
      parseClients(
        JSON.stringify({
          clients: [{ ...withCode, redirect_uris: ["http://app.example.com/cb"] }],
        }),
        "f",
      ),
    ).toThrow(/clients\.0\.redirect_uris\.0: http redirect URIs must be loopback/);
    expect(() =>
      parseClients(JSON.stringify({ clients: [{ ...withCode, redirect_uris: [] }] }), "f"),
    ).toThrow(/clients\.0\.redirect_uris: the authorization_code grant needs at least one/);
  });

  it("names the bad entry and field", () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ clients: [{ ...ok, grant_types: ["password"] }] }, /clients\.0\.grant_types/],
      [
        { clients: [{ ...ok, default_scopes: ["write"] }] },
        /clients\.0\.default_scopes: write is not in scopes/,
      ],
      [{ clients: [{ ...ok, client_secret_hash: "plaintext" }] }, /client_secret_hash/],
      [{ clients: [ok, ok] }, /duplicate client_id cli/],
      [{ clients: [{ ...ok, extra: 1 }] }, /clients\.0/],
    ];
    for (const [json, re] of cases)
      expect(() => parseClients(JSON.stringify(json), "f")).toThrow(re);
    expect(() => parseClients("{", "f")).toThrow(/not valid JSON/);
  });
});
