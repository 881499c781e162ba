/**
 * Behind HANDOFF_TRUST_PROXY the RPCs take the
 * client's address from X-Forwarded-For exactly as the RFC endpoints do, for
 * the stored requester address, the per-address limits and the access log;
 * without it, X-Forwarded-For is ignored. Unrouted paths are not logged raw.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientAddresses } from "../../src/auth/client-address.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { FAST_SECRET } from "../support/test-clients.js";

let proxied: TestServer;
let direct: TestServer;
beforeAll(async () => {
  [proxied, direct] = await Promise.all([
    startTestServer({ trustProxy: "127.0.0.1" }),
    startTestServer(),
  ]);
});
afterAll(async () => Promise.all([proxied.close(), direct.close()]));

function rpc(s: TestServer, method: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${s.issuer}/handoff.v1.DeviceAuthService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function requesterOf(s: TestServer, userCode: string) {
  const res = await rpc(
    s,
    "GetDeviceAuthorization",
    { userCode },
    {
      authorization: `Bearer ${SERVICE_TOKEN}`,
    },
  );
  return ((await res.json()) as { ipAddress: string }).ipAddress;
}

describe("RPC behind HANDOFF_TRUST_PROXY", () => {
  it("Authorize stores the client's address from X-Forwarded-For, as the RFC endpoint does", async () => {
    const xff = { "x-forwarded-for": "203.0.113.9, 127.0.0.1" };
    const viaRpc = (await (
      await rpc(proxied, "Authorize", { clientId: "public-cli" }, xff)
    ).json()) as { userCode: string };
    const viaHttp = (await (
      await proxied.post("/oauth/device/authorize", { client_id: "public-cli" }, xff)
    ).json()) as { user_code: string };
    expect(await requesterOf(proxied, viaRpc.userCode)).toBe("203.0.113.9");
    expect(await requesterOf(proxied, viaHttp.user_code)).toBe("203.0.113.9");
  });

  it("without the setting, X-Forwarded-For is ignored on both", async () => {
    const xff = { "x-forwarded-for": "203.0.113.9" };
    const a = (await (await rpc(direct, "Authorize", { clientId: "public-cli" }, xff)).json()) as {
      userCode: string;
    };
    expect(await requesterOf(direct, a.userCode)).toBe("127.0.0.1");
  });

  it("11 wrong-secret calls with different X-Forwarded-For values do not throttle an honest caller", async () => {
    for (let i = 0; i < 11; i++) {
      const res = await rpc(
        proxied,
        "Authorize",
        { clientId: "fast-hash-agent", clientSecret: `wrong-${i}` },
        { "x-forwarded-for": `198.51.100.${i + 1}` },
      );
      expect(res.status).toBe(401);
    }
    const honest = await rpc(
      proxied,
      "Authorize",
      { clientId: "fast-hash-agent", clientSecret: FAST_SECRET },
      { "x-forwarded-for": "203.0.113.50" },
    );
    expect(honest.status).toBe(200);
    // And the access log traces each failed call to its client.
    const failed = proxied
      .logs()
      .split("\n")
      .filter((l) => l.includes('"msg":"rpc"') && l.includes('"code":"Unauthenticated"'))
      .map((l) => JSON.parse(l) as { ip: string });
    expect(failed.map((l) => l.ip)).toContain("198.51.100.11");
  });

  it("one rule: the RPC resolver walks X-Forwarded-For from the right past trusted hops", () => {
    const a = new ClientAddresses("127.0.0.1, 10.0.0.0/8");
    const req = (xff: string, peer = "127.0.0.1") => ({
      socket: { remoteAddress: peer },
      headers: { "x-forwarded-for": xff },
    });
    expect(a.of(req("198.51.100.1, 10.1.2.3"))).toBe("198.51.100.1");
    expect(a.of(req("1.1.1.1, 198.51.100.1, 10.1.2.3"))).toBe("198.51.100.1");
    expect(a.of(req("198.51.100.1", "192.0.2.7"))).toBe("192.0.2.7");
    expect(a.of(req("10.0.0.1"))).toBe("10.0.0.1");
    expect(a.of(req("198.51.100.1", "::ffff:127.0.0.1"))).toBe("198.51.100.1");
    expect(new ClientAddresses(undefined).of(req("198.51.100.1"))).toBe("127.0.0.1");
  });
});

describe("unrouted paths in the access log", () => {
  it("are truncated to 64 characters and sanitised, never logged raw", async () => {
    const path = `/probe/%1B%5B31m${"x".repeat(300)}`;
    expect((await fetch(`${direct.issuer}${path}`)).status).toBe(404);
    const line = direct
      .logs()
      .split("\n")
      .find((l) => l.includes('"status":404') && l.includes("/probe/"));
    const logged = (JSON.parse(line as string) as { path: string }).path;
    expect(logged.length).toBeLessThanOrEqual(64);
    expect(logged).toMatch(/^[A-Za-z0-9/._~-]+$/);
    expect(logged).not.toContain("%1B");
  });
});
