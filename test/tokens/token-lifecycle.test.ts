/**
 * The token lifecycle through oauth4webapi, a client written by others:
 * resource-bound audiences (RFC 8707), refresh with rotation and reuse
 * detection (RFC 6749 §6, OAuth 2.1 §4.3), revocation (RFC 7009) and
 * introspection (RFC 7662) against a real server.
 */
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import {
  AGENT_SECRET,
  agent,
  deviceTokens,
  discover,
  introspect,
  LIFECYCLE_CLIENTS,
  MCP_RESOURCE,
  NO_REFRESH_AGENT_SECRET,
  OTHER_RESOURCE,
  oauthErrorOf,
  otherCli,
  publicCli,
  refresh,
  revoke,
  validateAt,
} from "./token-fixtures.js";

let server: TestServer;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  server = await startTestServer({ clients: LIFECYCLE_CLIENTS });
  as = await discover(server);
});
afterAll(async () => server.close());

/** Raw introspection, to check the exact body (RFC 7662 §2.2). */
function introspectRaw(token: string, headers: Record<string, string>, form = {}) {
  return server.post("/oauth/introspect", { token, ...form }, headers);
}
const asService = { authorization: `Bearer ${SERVICE_TOKEN}` };
const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`,
});

describe("RFC 8414 metadata (RFC 8414 §2)", () => {
  it("advertises refresh_token, revocation and introspection with their auth methods", () => {
    expect(as.grant_types_supported).toEqual([
      "urn:ietf:params:oauth:grant-type:device_code",
      "authorization_code",
      "refresh_token",
    ]);
    expect(as.revocation_endpoint).toBe(`${server.issuer}/oauth/revoke`);
    expect(as.introspection_endpoint).toBe(`${server.issuer}/oauth/introspect`);
    expect(as.revocation_endpoint_auth_methods_supported).toEqual([
      "none",
      "client_secret_basic",
      "client_secret_post",
    ]);
    expect(as.introspection_endpoint_auth_methods_supported).toEqual([
      "client_secret_basic",
      "client_secret_post",
    ]);
  });
});

describe("RFC 8707 resource indicators and RFC 9068 audiences (RFC 8707, RFC 9068)", () => {
  it("RFC 9068/RFC 8707 §2: validateJwtAccessToken accepts the token at its bound resource, not elsewhere", async () => {
    const t = await deviceTokens(server, as, publicCli, { resources: [MCP_RESOURCE] });
    const claims = await validateAt(as, t.access_token, MCP_RESOURCE);
    expect(claims).toMatchObject({ aud: MCP_RESOURCE, client_id: "public-cli", sub: "alice" });
    await expect(validateAt(as, t.access_token, OTHER_RESOURCE)).rejects.toThrow();
  });

  it("RFC 9068 §3: without a resource the audience is the configured default (the issuer here)", async () => {
    const t = await deviceTokens(server, as);
    expect(await validateAt(as, t.access_token, server.issuer)).toMatchObject({
      aud: server.issuer,
    });
  });

  it("RFC 8707 §2.2: the token request may narrow the bound resources", async () => {
    const t = await deviceTokens(server, as, publicCli, {
      resources: [MCP_RESOURCE, OTHER_RESOURCE],
      tokenResources: [OTHER_RESOURCE],
    });
    expect(await validateAt(as, t.access_token, OTHER_RESOURCE)).toMatchObject({
      aud: OTHER_RESOURCE,
    });
    await expect(validateAt(as, t.access_token, MCP_RESOURCE)).rejects.toThrow();
  });

  it("RFC 8707 §2.2: a token request that adds a resource is invalid_target", async () => {
    const e = await oauthErrorOf(
      deviceTokens(server, as, publicCli, {
        resources: [MCP_RESOURCE],
        tokenResources: [OTHER_RESOURCE],
      }),
    );
    expect(e).toEqual({ error: "invalid_target", status: 400 });
  });

  it("RFC 8707 §2: a malformed resource at the token endpoint is invalid_target", async () => {
    const e = await oauthErrorOf(
      deviceTokens(server, as, publicCli, { tokenResources: ["https://rs.example.com/#frag"] }),
    );
    expect(e.error).toBe("invalid_target");
  });

  it("RFC 8707 §2.2: a refresh may narrow the resources too, never add", async () => {
    const t = await deviceTokens(server, as, publicCli, {
      resources: [MCP_RESOURCE, OTHER_RESOURCE],
    });
    expect((await validateAt(as, t.access_token, MCP_RESOURCE)).aud).toEqual([
      MCP_RESOURCE,
      OTHER_RESOURCE,
    ]);
    const narrowed = await refresh(as, t.refresh_token ?? "", publicCli, {
      resource: MCP_RESOURCE,
    });
    expect((await validateAt(as, narrowed.access_token, MCP_RESOURCE)).aud).toBe(MCP_RESOURCE);
    const added = await oauthErrorOf(
      refresh(as, narrowed.refresh_token ?? "", publicCli, { resource: "https://new.example/" }),
    );
    expect(added.error).toBe("invalid_target");
    // The refused request did not burn the token; the family still has both resources.
    const again = await refresh(as, narrowed.refresh_token ?? "", publicCli, {
      resource: OTHER_RESOURCE,
    });
    expect((await validateAt(as, again.access_token, OTHER_RESOURCE)).aud).toBe(OTHER_RESOURCE);
  });
});

describe("refresh tokens (RFC 6749 §6, OAuth 2.1 §4.3)", () => {
  it("RFC 6749 §5.1: the device grant returns a refresh token only to clients with the grant", async () => {
    const t = await deviceTokens(server, as);
    expect(t.refresh_token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    const without = await deviceTokens(server, as, {
      client: { client_id: "no-refresh-agent" },
      auth: oauth.ClientSecretPost(NO_REFRESH_AGENT_SECRET),
    });
    expect(without.refresh_token).toBeUndefined();
    expect(without.access_token).toBeTruthy();
  });

  it("OAuth 2.1 §4.3.1: refreshTokenGrantRequest rotates; the new access token validates", async () => {
    const t = await deviceTokens(server, as, publicCli, { resources: [MCP_RESOURCE] });
    const r = await refresh(as, t.refresh_token ?? "");
    expect(r.refresh_token).toBeDefined();
    expect(r.refresh_token).not.toBe(t.refresh_token);
    expect(r.scope).toBe("read write");
    expect(await validateAt(as, r.access_token, MCP_RESOURCE)).toMatchObject({
      client_id: "public-cli",
      scope: "read write",
      sub: "alice",
    });
    // And the new one rotates again.
    const r2 = await refresh(as, r.refresh_token ?? "");
    expect(r2.refresh_token).not.toBe(r.refresh_token);
  });

  it("OAuth 2.1 §4.3 / OAuth 2.1 §4.3.1: replaying a rotated-out token fails and revokes the whole family", async () => {
    const t = await deviceTokens(server, as);
    const r = await refresh(as, t.refresh_token ?? "");
    expect(await oauthErrorOf(refresh(as, t.refresh_token ?? ""))).toEqual({
      error: "invalid_grant",
      status: 400,
    });
    // The family is dead: the newest refresh token too, and every access token of the family.
    expect((await oauthErrorOf(refresh(as, r.refresh_token ?? ""))).error).toBe("invalid_grant");
    for (const token of [t.access_token, r.access_token, r.refresh_token ?? ""]) {
      expect(await (await introspectRaw(token, asService)).json()).toEqual({ active: false });
    }
  });

  it("OAuth 2.1 §4.3 / RFC 6749 §6: scope may narrow on refresh, never widen; a refused request burns nothing", async () => {
    const t = await deviceTokens(server, as, publicCli, { scope: "read write" });
    // admin: the client may ask for it, but it was not granted.
    const widen = await oauthErrorOf(
      refresh(as, t.refresh_token ?? "", publicCli, { scope: "read admin" }),
    );
    expect(widen).toEqual({ error: "invalid_scope", status: 400 });
    const narrow = await refresh(as, t.refresh_token ?? "", publicCli, { scope: "read" });
    expect(narrow.scope).toBe("read");
    expect((await validateAt(as, narrow.access_token, server.issuer)).scope).toBe("read");
    // RFC 6749 §6: the refresh token keeps the original scope.
    const full = await refresh(as, narrow.refresh_token ?? "");
    expect(full.scope).toBe("read write");
  });

  it("OAuth 2.1 §4.3: refresh tokens are bound to their client", async () => {
    const t = await deviceTokens(server, as);
    const stolen = await oauthErrorOf(refresh(as, t.refresh_token ?? "", otherCli));
    expect(stolen).toEqual({ error: "invalid_grant", status: 400 });
    // The presentation by another client did not kill the family.
    expect((await refresh(as, t.refresh_token ?? "")).access_token).toBeTruthy();
  });

  it("RFC 6749 §5.2: a client without the refresh_token grant is unauthorized_client", async () => {
    const t = await deviceTokens(server, as);
    const res = await server.post("/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: t.refresh_token ?? "",
      client_id: "no-refresh-agent",
      client_secret: NO_REFRESH_AGENT_SECRET,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "unauthorized_client" });
  });

  it("RFC 6749 §5.2: an unknown or malformed refresh token is invalid_grant; a missing one invalid_request", async () => {
    for (const token of ["nope", `${"A".repeat(22)}.${"B".repeat(43)}`]) {
      expect((await oauthErrorOf(refresh(as, token))).error).toBe("invalid_grant");
    }
    const res = await server.post("/oauth/token", {
      grant_type: "refresh_token",
      client_id: "public-cli",
    });
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
  });

  it("RFC 6749 §2.3.1: a confidential client refreshes with client_secret_basic", async () => {
    const t = await deviceTokens(server, as, agent);
    const r = await refresh(as, t.refresh_token ?? "", {
      client: agent.client,
      auth: oauth.ClientSecretBasic(AGENT_SECRET),
    });
    expect(r.refresh_token).toBeTruthy();
    const wrong = await oauthErrorOf(
      refresh(as, r.refresh_token ?? "", {
        client: agent.client,
        auth: oauth.ClientSecretPost("nope"),
      }),
    );
    expect(wrong).toEqual({ error: "invalid_client", status: 401 });
  });
});

describe("RFC 7009 revocation (RFC 7009)", () => {
  it("RFC 7009: revocationRequest on a refresh token, then introspectionRequest shows active:false", async () => {
    const t = await deviceTokens(server, as, agent);
    expect((await introspect(as, t.refresh_token ?? "")).active).toBe(true);
    await revoke(as, t.refresh_token ?? "", agent);
    expect(await introspect(as, t.refresh_token ?? "")).toEqual({ active: false });
    // RFC 7009 §2.1: the access tokens of the same grant go too.
    expect(await introspect(as, t.access_token)).toEqual({ active: false });
    expect((await oauthErrorOf(refresh(as, t.refresh_token ?? "", agent))).error).toBe(
      "invalid_grant",
    );
  });

  it("RFC 7009: revoking an access token makes its jti inactive; the refresh token lives on", async () => {
    const t = await deviceTokens(server, as, agent);
    expect(await introspect(as, t.access_token)).toMatchObject({ active: true });
    await revoke(as, t.access_token, agent);
    expect(await introspect(as, t.access_token)).toEqual({ active: false });
    expect(await introspect(as, t.refresh_token ?? "")).toMatchObject({ active: true });
  });

  it("RFC 7009 §2.1: a client cannot revoke another client's tokens (200, nothing happens)", async () => {
    const t = await deviceTokens(server, as, agent);
    await revoke(as, t.refresh_token ?? "", otherCli);
    await revoke(as, t.access_token, otherCli);
    expect(await introspect(as, t.refresh_token ?? "")).toMatchObject({ active: true });
    expect(await introspect(as, t.access_token)).toMatchObject({ active: true });
  });

  it("RFC 7009 §2.2: an unknown token is answered 200 alike; no client authentication is 401", async () => {
    await revoke(as, "not-a-token");
    const res = await server.post("/oauth/revoke", { token: "x" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
    expect((await server.post("/oauth/revoke", { client_id: "public-cli" })).status).toBe(400);
    const get = await fetch(`${server.issuer}/oauth/revoke`);
    expect(get.status).toBe(405);
  });

  it("RFC 7009 §2.1: the service credential may revoke any client's token", async () => {
    const t = await deviceTokens(server, as);
    const res = await server.post("/oauth/revoke", { token: t.refresh_token ?? "" }, asService);
    expect(res.status).toBe(200);
    expect((await oauthErrorOf(refresh(as, t.refresh_token ?? ""))).error).toBe("invalid_grant");
  });
});

describe("RFC 7662 introspection (RFC 7662)", () => {
  it("RFC 7662 §2.1: unauthenticated introspection is 401 with a challenge", async () => {
    const t = await deviceTokens(server, as);
    const none = await introspectRaw(t.access_token, {});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic /);
    const wrongBearer = await introspectRaw(t.access_token, { authorization: "Bearer wrong" });
    expect(wrongBearer.status).toBe(401);
    expect(wrongBearer.headers.get("www-authenticate")).toMatch(/^Bearer /);
    // A public client's client_id alone is no authentication here.
    const publicOnly = await introspectRaw(t.access_token, {}, { client_id: "public-cli" });
    expect(publicOnly.status).toBe(401);
    const badSecret = await introspectRaw(t.access_token, basic("refreshing-agent", "nope"));
    expect(badSecret.status).toBe(401);
  });

  it("RFC 7662 §2.2: the service credential sees an active access token's claims", async () => {
    const t = await deviceTokens(server, as, publicCli, { resources: [MCP_RESOURCE] });
    const res = await introspectRaw(t.access_token, asService);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      active: true,
      scope: "read write",
      client_id: "public-cli",
      sub: "alice",
      aud: [MCP_RESOURCE],
      iss: server.issuer,
      token_type: "Bearer",
    });
    expect(body.exp).toEqual(expect.any(Number));
    expect(body.jti).toEqual(expect.any(String));
  });

  it('RFC 7662 §2.2: unknown, garbage and another client\'s tokens are exactly {"active":false}', async () => {
    const others = await deviceTokens(server, as); // public-cli's, introspected by the agent
    for (const token of ["garbage", "a.b.c", others.access_token, others.refresh_token ?? ""]) {
      const res = await introspectRaw(token, basic("refreshing-agent", AGENT_SECRET));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('{"active":false}');
    }
  });

  it("RFC 7662: a refresh token introspects as active with its grant; rotated out, as inactive", async () => {
    const t = await deviceTokens(server, as, agent, { resources: [MCP_RESOURCE] });
    expect(await introspect(as, t.refresh_token ?? "")).toMatchObject({
      active: true,
      client_id: "refreshing-agent",
      scope: "read write",
      sub: "alice",
      token_type: "refresh_token",
      aud: [MCP_RESOURCE],
    });
    await refresh(as, t.refresh_token ?? "", agent);
    expect(await introspect(as, t.refresh_token ?? "")).toEqual({ active: false });
  });

  it("RFC 7662: a token signed by a key this server does not know is inactive", async () => {
    const t = await deviceTokens(server, as);
    const [h, p] = t.access_token.split(".");
    const forged = `${h}.${p}.${"A".repeat(86)}`;
    expect(await (await introspectRaw(forged, asService)).json()).toEqual({ active: false });
  });
});
