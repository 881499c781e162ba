/**
 * A VS Code-style MCP client where no redirect can reach it (Remote SSH, a
 * container): it registers by RFC 7591 exactly the grants VS Code asks for
 * (authorization_code, refresh_token, the device grant), then runs the device
 * flow with only client_id and scope (no resource, as VS Code sends it); a
 * person approves in Chromium, seeing the client labelled unverified; the
 * access token's audience is the configured default (HANDOFF_DEFAULT_AUDIENCE,
 * the MCP server's resource URI), verified against the JWKS; and the refresh
 * token works. On memory and on Redis.
 */
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, launchChromium, signInInBrowser, testUsers } from "../pages/page-fixtures.js";
import {
  DEVICE_GRANT,
  pollToken,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import {
  register,
  registrationConfig,
  VS_CODE,
  WIDE_REGISTRATION_LIMITS,
} from "../support/registration-fixtures.js";

/** The MCP server's resource URI (examples/mcp-server serves /mcp on MCP_PORT, 3000 by default). */
const MCP_RESOURCE = "http://localhost:3000/mcp";

let browser: Browser;
let redis: RedisProcess;
beforeAll(async () => {
  browser = await launchChromium();
  redis = await startRedis();
});
afterAll(async () => {
  await browser?.close();
  await redis?.stop();
});

describe.each(["memory", "redis"] as const)("a VS Code-style client on %s", (store) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      registration: registrationConfig(),
      attemptLimits: WIDE_REGISTRATION_LIMITS,
      authenticator: await testUsers(),
      defaultAudience: MCP_RESOURCE,
      ...(store === "redis" ? { redis: { url: redis.url }, redisKeyPrefix: "vscode:" } : {}),
    });
  });
  afterAll(async () => server?.close());

  it("RFC 7591 + RFC 8628: registers the three grants, gets a device code with only client_id and scope, is approved in the page, and its token is for the MCP server", async () => {
    const reg = await register(server, VS_CODE);
    expect(reg.status).toBe(201);
    const client = (await reg.json()) as { client_id: string; grant_types: string[] };
    expect(client.grant_types).toEqual(["authorization_code", "refresh_token", DEVICE_GRANT]);

    const start = await server.post("/oauth/device/authorize", {
      client_id: client.client_id,
      scope: "read",
    });
    expect(start.status).toBe(200);
    const device = (await start.json()) as {
      device_code: string;
      user_code: string;
      verification_uri: string;
    };
    expect((await pollToken(server, device.device_code, client.client_id)).status).toBe(400);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(device.verification_uri);
    await signInInBrowser(page, ALICE);
    await page.getByLabel("Device code").fill(device.user_code);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("button", { name: "Approve" }).waitFor();
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).toContain("Visual Studio Code");
    expect(text).toContain("Unverified application");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByRole("heading", { name: "Device connected" }).waitFor();
    await context.close();

    // The client keeps its base interval (1 s in tests).
    await sleep(1100);
    const res = await pollToken(server, device.device_code, client.client_id);
    expect(res.status).toBe(200);
    const tokens = (await res.json()) as { access_token: string; refresh_token: string };
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer,
      audience: MCP_RESOURCE,
      typ: "at+jwt",
    });
    expect(protectedHeader.typ).toBe("at+jwt");
    expect(payload).toMatchObject({ sub: ALICE.username, client_id: client.client_id });
    expect(payload.scope).toBe("read");

    // OAuth 2.1 §4.3: the registered refresh_token grant works, and rotates.
    const refreshed = await server.post("/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
      client_id: client.client_id,
    });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    await jwtVerify(next.access_token, jwks, { issuer: server.issuer, audience: MCP_RESOURCE });
  });
});
