/** The token endpoint's device grant as a black box (RFC 6749 §3.2, §5; RFC 8628 §3.4, §3.5). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizeDevice,
  DEVICE_GRANT,
  pollToken,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { CONFIDENTIAL_SECRET } from "../support/test-clients.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(); // interval 1 s, jitter tolerance 200 ms
});
afterAll(async () => server.close());

const approve = (userCode: string, scopes?: string[]) =>
  server.flow.decide({ userCode, subject: "alice", approve: true, ...(scopes ? { scopes } : {}) });

async function errorOf(
  res: Response,
): Promise<{ status: number; error: string; interval?: number }> {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const body = (await res.json()) as { error: string; interval?: number };
  return { status: res.status, ...body };
}

describe("RFC 6749 §3.2 / OAuth 2.1: request rules (RFC 6749 §3.2, RFC 6749 §5.2)", () => {
  it("RFC 6749 §3.2: POST only", async () => {
    const res = await fetch(`${server.issuer}/oauth/token`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("RFC 6749 §3.2: grant_type is required; a repeated parameter is invalid_request", async () => {
    expect(
      await errorOf(await server.post("/oauth/token", { client_id: "public-cli" })),
    ).toMatchObject({
      status: 400,
      error: "invalid_request",
    });
    const { device_code } = await authorizeDevice(server);
    const res = await server.post("/oauth/token", {
      grant_type: DEVICE_GRANT,
      client_id: "public-cli",
      device_code: [device_code, device_code],
    });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "invalid_request" });
  });

  it("RFC 6749 §5.2: an unknown grant type is unsupported_grant_type", async () => {
    const res = await server.post("/oauth/token", {
      grant_type: "password",
      client_id: "public-cli",
    });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "unsupported_grant_type" });
  });

  it("RFC 6749 §5.2: a client without the device grant is unauthorized_client", async () => {
    const res = await server.post("/oauth/token", {
      grant_type: DEVICE_GRANT,
      client_id: "refresh-only",
      device_code: "x",
    });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "unauthorized_client" });
  });

  it("RFC 6749 §5.2: an unknown or malformed device code is invalid_grant", async () => {
    expect(await errorOf(await pollToken(server, "nonsense"))).toMatchObject({
      error: "invalid_grant",
    });
    const forged = `AAAA.${Math.ceil(Date.now() / 1000 + 600).toString(36)}.${"A".repeat(43)}`;
    expect(await errorOf(await pollToken(server, forged))).toMatchObject({
      error: "invalid_grant",
    });
  });

  it("RFC 6749 §5.2: a device code issued to another client is invalid_grant", async () => {
    const { device_code } = await authorizeDevice(server);
    const res = await server.post("/oauth/token", {
      grant_type: DEVICE_GRANT,
      device_code,
      client_id: "confidential-agent",
      client_secret: CONFIDENTIAL_SECRET,
    });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "invalid_grant" });
  });

  it("RFC 8628 §3.4: a confidential client must authenticate when polling", async () => {
    const { device_code } = await authorizeDevice(server, {
      client_id: "confidential-agent",
      client_secret: CONFIDENTIAL_SECRET,
    });
    const res = await server.post("/oauth/token", {
      grant_type: DEVICE_GRANT,
      device_code,
      client_id: "confidential-agent",
    });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "invalid_client" });
  });
});

describe("RFC 8628 §3.5 poll answers", () => {
  it("RFC 8628 §3.5: pending first (never slow_down), then slow_down with +5 s per refusal, echoed as an integer", async () => {
    const { device_code } = await authorizeDevice(server);
    expect(await errorOf(await pollToken(server, device_code))).toEqual({
      status: 400,
      error: "authorization_pending",
      error_description: expect.any(String),
      interval: 1,
    });
    const first = await errorOf(await pollToken(server, device_code));
    expect(first).toMatchObject({ status: 400, error: "slow_down", interval: 6 });
    const second = await errorOf(await pollToken(server, device_code));
    expect(second).toMatchObject({ error: "slow_down", interval: 11 });
  });

  it("RFC 8628 §3.5: a client that keeps the base pace (VS Code) is never locked out", async () => {
    const { device_code } = await authorizeDevice(server);
    await pollToken(server, device_code);
    await pollToken(server, device_code); // too fast: slow_down
    for (let i = 0; i < 3; i++) {
      await sleep(1000);
      expect((await errorOf(await pollToken(server, device_code))).error).toBe(
        "authorization_pending",
      );
    }
  });

  it("RFC 8628 §3.5: a poll a little early (within the jitter tolerance) is still on time", async () => {
    const { device_code } = await authorizeDevice(server);
    await pollToken(server, device_code);
    await sleep(850); // base 1000 ms less 200 ms tolerance
    expect((await errorOf(await pollToken(server, device_code))).error).toBe(
      "authorization_pending",
    );
  });

  it("RFC 8628 §3.5: access_denied after a denial", async () => {
    const { device_code, user_code } = await authorizeDevice(server);
    await server.flow.decide({ userCode: user_code, subject: "alice", approve: false });
    expect(await errorOf(await pollToken(server, device_code))).toMatchObject({
      status: 400,
      error: "access_denied",
    });
  });

  it("RFC 8628 §3.5: expired_token after expiry, not invalid_grant", async () => {
    const short = await startTestServer({ deviceCodeTtl: 1 });
    try {
      const { device_code, expires_in } = await authorizeDevice(short);
      expect(expires_in).toBe(1);
      await sleep(2100); // the code's expiry is rounded up to the next second
      expect(await errorOf(await pollToken(short, device_code))).toMatchObject({
        status: 400,
        error: "expired_token",
      });
    } finally {
      await short.close();
    }
  });
});

describe("RFC 6749 §5.1 success and exactly-once issuance", () => {
  it("RFC 6749 §5.1: 200 with access_token, Bearer, integer expires_in, scope; no-store; then invalid_grant", async () => {
    const { device_code, user_code } = await authorizeDevice(server, {
      client_id: "public-cli",
      scope: "read write",
    });
    await approve(user_code, ["read"]);
    const res = await pollToken(server, device_code);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("pragma")).toBe("no-cache");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 300, scope: "read" });
    expect(typeof body.access_token).toBe("string");
    expect(await errorOf(await pollToken(server, device_code))).toMatchObject({
      error: "invalid_grant",
    });
  });

  it("RFC 8707 §2.2: a resource that was not bound is invalid_target and does not spend the code", async () => {
    const { device_code, user_code } = await authorizeDevice(server, {
      client_id: "public-cli",
      resource: ["https://a.example/mcp", "https://b.example/mcp"],
    });
    await approve(user_code);
    const wrong = await server.post("/oauth/token", {
      grant_type: DEVICE_GRANT,
      device_code,
      client_id: "public-cli",
      resource: "https://evil.example/",
    });
    expect(await errorOf(wrong)).toMatchObject({ status: 400, error: "invalid_target" });
    const narrowed = await server.post("/oauth/token", {
      grant_type: DEVICE_GRANT,
      device_code,
      client_id: "public-cli",
      resource: "https://b.example/mcp",
    });
    expect(narrowed.status).toBe(200);
    const { access_token } = (await narrowed.json()) as { access_token: string };
    const claims = JSON.parse(
      Buffer.from(access_token.split(".")[1] ?? "", "base64url").toString(),
    );
    expect(claims.aud).toBe("https://b.example/mcp");
  });

  it("RFC 6749 §2.3.1: a confidential client polls with Basic (secret with ':', '+' and space, form-url-encoded)", async () => {
    const { device_code, user_code } = await authorizeDevice(server, {
      client_id: "confidential-agent",
      client_secret: CONFIDENTIAL_SECRET,
    });
    await approve(user_code);
    const encoded = `${encodeURIComponent("confidential-agent")}:${encodeURIComponent(CONFIDENTIAL_SECRET).replaceAll("%20", "+")}`;
    const res = await server.post(
      "/oauth/token",
      { grant_type: DEVICE_GRANT, device_code },
      { authorization: `Basic ${Buffer.from(encoded).toString("base64")}` },
    );
    expect(res.status).toBe(200);
  });
});
