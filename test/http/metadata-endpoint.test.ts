/** RFC 8414 metadata, JWKS and RFC 9068 access tokens. */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizeDevice,
  pollToken,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.close());

describe("RFC 8414 metadata", () => {
  it("RFC 8414 §3, RFC 8414 §2, RFC 8628 §4: the issuer exactly, every endpoint, the grants and auth methods", async () => {
    const res = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const m = (await res.json()) as Record<string, unknown>;
    expect(m.issuer).toBe(server.issuer);
    expect(m).toMatchObject({
      token_endpoint: `${server.issuer}/oauth/token`,
      device_authorization_endpoint: `${server.issuer}/oauth/device/authorize`,
      jwks_uri: `${server.issuer}/.well-known/jwks.json`,
      token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
      response_types_supported: expect.any(Array),
      authorization_endpoint: expect.stringMatching(/^http/),
    });
    expect(m.grant_types_supported).toContain("urn:ietf:params:oauth:grant-type:device_code");
    expect(m.scopes_supported).toEqual(expect.arrayContaining(["read", "write"]));
  });

  it("RFC 8414 §3: GET only: other methods get 405 with Allow", async () => {
    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/jwks.json"]) {
      const res = await fetch(server.issuer + path, { method: "POST" });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
    expect((await fetch(`${server.issuer}/.well-known/jwks.json`, { method: "HEAD" })).status).toBe(
      200,
    );
  });

  it("RFC 8414 §3: with an issuer path, the document lives after the well-known segment", async () => {
    const tenant = await startTestServer({ issuer: "http://127.0.0.1:1/tenant-a", port: 0 });
    try {
      // The issuer names a port the test does not listen on; call the real one.
      const base = `http://127.0.0.1:${tenant.port}`;
      const res = await fetch(`${base}/.well-known/oauth-authorization-server/tenant-a`);
      expect(res.status).toBe(200);
      const m = (await res.json()) as Record<string, string>;
      expect(m.issuer).toBe("http://127.0.0.1:1/tenant-a");
      expect(m.token_endpoint).toBe("http://127.0.0.1:1/tenant-a/oauth/token");
      const token = await fetch(`${base}/tenant-a/oauth/device/authorize`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "client_id=public-cli",
      });
      expect(token.status).toBe(200);
    } finally {
      await tenant.close();
    }
  });
});

describe("RFC 9068 access tokens", () => {
  it("RFC 9068: at+jwt, ES256, kid in the JWKS, all required claims; aud is the resource", async () => {
    const { device_code, user_code } = await authorizeDevice(server, {
      client_id: "public-cli",
      scope: "read write",
      resource: "https://mcp.example.com/",
    });
    await server.flow.decide({ userCode: user_code, subject: "alice", approve: true });
    const { access_token } = (await (await pollToken(server, device_code)).json()) as {
      access_token: string;
    };
    const header = decodeProtectedHeader(access_token);
    expect(header).toMatchObject({ typ: "at+jwt", alg: "ES256" });
    const jwks = (await (await fetch(`${server.issuer}/.well-known/jwks.json`)).json()) as {
      keys: Array<Record<string, unknown>>;
    };
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    for (const k of jwks.keys) expect(k).not.toHaveProperty("d");
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(jwks as never), {
      issuer: server.issuer,
      audience: "https://mcp.example.com/",
      typ: "at+jwt",
    });
    expect(payload).toMatchObject({ sub: "alice", client_id: "public-cli", scope: "read write" });
    for (const claim of ["iat", "exp", "jti"]) expect(payload).toHaveProperty(claim);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);
  });

  it("RFC 9068: without a resource, aud is the default audience", async () => {
    const { device_code, user_code } = await authorizeDevice(server);
    await server.flow.decide({ userCode: user_code, subject: "bob", approve: true });
    const { access_token } = (await (await pollToken(server, device_code)).json()) as {
      access_token: string;
    };
    const payload = JSON.parse(
      Buffer.from(access_token.split(".")[1] ?? "", "base64url").toString(),
    );
    expect(payload.aud).toBe(server.issuer);
  });
});
