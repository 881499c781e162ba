/**
 * `resource` values (RFC 8707 §2) are capped in
 * count and length, normalised and limited to https, over the RFC endpoint
 * and the RPC alike, and the access token that follows stays small enough
 * for introspection to take it back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RESOURCE_LIMITS } from "../../src/domain/resource.js";
import {
  DEVICE_GRANT,
  SERVICE_TOKEN,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";

let server: TestServer;

beforeAll(async () => {
  // The production body limit (16 KiB), so introspection's limit is the real one.
  server = await startTestServer({ bodyLimit: 16_384 });
});
afterAll(async () => server.close());

/** A Connect JSON unary call, as the attack sent it (no credentials, public client). */
function rpc(method: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.issuer}/handoff.v1.DeviceAuthService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function approvedTokens(resources: string[], tokenResource?: string) {
  const auth = await server.post("/oauth/device/authorize", {
    client_id: "public-cli",
    resource: resources,
  });
  expect(auth.status).toBe(200);
  const { device_code = "", user_code } = (await auth.json()) as Record<string, string>;
  const approve = await rpc(
    "Approve",
    { userCode: user_code, subject: "alice", decision: "DECISION_APPROVE" },
    { authorization: `Bearer ${SERVICE_TOKEN}` },
  );
  expect(approve.status).toBe(200);
  const token = await server.post("/oauth/token", {
    grant_type: DEVICE_GRANT,
    client_id: "public-cli",
    device_code,
    ...(tokenResource ? { resource: tokenResource } : {}),
  });
  expect(token.status).toBe(200);
  return (await token.json()) as { access_token: string; refresh_token?: string };
}

describe("resource limits", () => {
  it("RPC Authorize with 2,100 resources (about 60 KB of JSON) is invalid_target, not a 57 KB record", async () => {
    const resources = Array.from({ length: 2100 }, (_, i) => `https://r${i}.example.com/`);
    const res = await rpc("Authorize", { clientId: "public-cli", resources });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining("at most 20 resources"),
    });
  });

  it("the RFC endpoint refuses more resources per request or per grant than the limits", async () => {
    const { perRequest, perGrant } = DEFAULT_RESOURCE_LIMITS;
    const tooMany = Array.from({ length: perRequest + 1 }, () => "https://a.example/");
    const distinct = Array.from({ length: perGrant + 1 }, (_, i) => `https://r${i}.example/`);
    for (const resource of [tooMany, distinct]) {
      const res = await server.post("/oauth/device/authorize", {
        client_id: "public-cli",
        resource,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe("invalid_target");
    }
  });

  it("a grant at the limits (10 resources of 512 characters) gives a token introspection accepts", async () => {
    const { perGrant, maxLength } = DEFAULT_RESOURCE_LIMITS;
    const resources = Array.from({ length: perGrant }, (_, i) => {
      const head = `https://r${i}.example.com/`;
      return head + "p".repeat(maxLength - head.length);
    });
    const { access_token } = await approvedTokens(resources);
    // The bound: every claim but aud is small; aud is at most perGrant × maxLength.
    expect(access_token.length).toBeLessThan(((perGrant * (maxLength + 3) + 1024) * 4) / 3);
    const res = await server.post(
      "/oauth/introspect",
      { token: access_token },
      { authorization: `Bearer ${SERVICE_TOKEN}` },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ active: true, aud: resources });
  });
});

describe("resource values", () => {
  it("javascript:, data:, bidi and zero-width hosts, and http off loopback are invalid_target", async () => {
    for (const resource of [
      "javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "https://ex\u202Eample.com/",
      "https://ex\u200Bample.com/",
      "http://mcp.example.com/",
    ]) {
      const res = await server.post("/oauth/device/authorize", {
        client_id: "public-cli",
        resource,
      });
      expect(res.status, resource).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe("invalid_target");
      const viaRpc = await rpc("Authorize", { clientId: "public-cli", resources: [resource] });
      expect(viaRpc.status, resource).toBe(400);
    }
  });

  it("a look-alike host is stored and shown in punycode", async () => {
    const auth = await rpc("Authorize", {
      clientId: "public-cli",
      resources: ["HTTPS://\u0430pple.com:443/MCP"],
    });
    expect(auth.status).toBe(200);
    const { userCode } = (await auth.json()) as { userCode: string };
    const view = await rpc(
      "GetDeviceAuthorization",
      { userCode },
      { authorization: `Bearer ${SERVICE_TOKEN}` },
    );
    expect(((await view.json()) as { resources: string[] }).resources).toEqual([
      "https://xn--pple-43d.com/MCP",
    ]);
  });

  it("HTTPS://R1.EX/ at the token endpoint and at refresh matches the https://r1.ex/ of the grant", async () => {
    const t = await approvedTokens(["https://r1.ex/", "https://r2.ex/"], "HTTPS://R1.EX/");
    expect(payload(t.access_token).aud).toBe("https://r1.ex/");
    const refreshed = await server.post("/oauth/token", {
      grant_type: "refresh_token",
      client_id: "public-cli",
      refresh_token: t.refresh_token ?? "",
      resource: "https://R2.EX:443/",
    });
    expect(refreshed.status).toBe(200);
    const r = (await refreshed.json()) as { access_token: string };
    expect(payload(r.access_token).aud).toBe("https://r2.ex/");
  });
});

const payload = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as { aud: unknown };
