/**
 * Trusted-header sign-in: behind an authenticating proxy, the user name comes
 * from a header, believed only from the configured proxy addresses.
 */
import { afterAll, describe, expect, it } from "vitest";
import { inList, proxyList } from "../../src/auth/trusted-header-authenticator.js";
import { readSettings } from "../../src/config/settings.js";
import { createLogger } from "../../src/server/logger.js";
import { pagesConfig } from "../../src/server/pages-config.js";
import { FormClient } from "../pages/page-fixtures.js";
import {
  authorizeDevice,
  pollToken,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";

const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function behindProxy(proxies: string[]): Promise<TestServer> {
  const s = await startTestServer({
    authenticator: { kind: "trusted-header", header: "x-forwarded-user", proxies },
  });
  servers.push(s);
  return s;
}

describe("trusted-header sign-in", () => {
  it("takes the user from the header when the peer is a configured proxy, and approves as that user", async () => {
    const server = await behindProxy(["127.0.0.0/8", "::1"]);
    const device = await authorizeDevice(server);
    const c = new FormClient(server.issuer, { "x-forwarded-user": "carol@example.com" });
    await c.get("/device");
    expect(c.lastPage).toContain("Signed in as <strong>carol@example.com</strong>");
    expect(c.lastPage).not.toContain("Sign out"); // the proxy's sign-in is not ours to end
    await c.post("/device", { _csrf: c.csrf(), user_code: device.user_code });
    const res = await c.post("/device/decision", {
      _csrf: c.csrf(),
      user_code: device.user_code,
      decision: "approve",
    });
    expect(res.status).toBe(200);
    const token = (await (await pollToken(server, device.device_code)).json()) as {
      access_token: string;
    };
    const payload = JSON.parse(
      Buffer.from(token.access_token.split(".")[1] ?? "", "base64url").toString(),
    );
    expect(payload.sub).toBe("carol@example.com");
  });

  it("ignores the header from any other address, and has no password form to fall back on", async () => {
    const server = await behindProxy(["10.9.8.7"]);
    const c = new FormClient(server.issuer, { "x-forwarded-user": "mallory" });
    const res = await c.get("/device");
    expect(res.status).toBe(303);
    const signIn = await c.get(res.headers.get("location") ?? "");
    expect(signIn.status).toBe(401);
    expect(c.lastPage).toContain("Sign in through your organisation");
    expect(c.lastPage).not.toContain('type="password"');
  });

  it("vouches per request: no session cookie, and without the header nobody is signed in", async () => {
    const server = await behindProxy(["127.0.0.1"]);
    const c = new FormClient(server.issuer, { "x-forwarded-user": "carol" });
    const res = await c.get("/device");
    expect(res.headers.getSetCookie().some((h) => h.startsWith("handoff_session="))).toBe(false);
    const bare = await fetch(`${server.issuer}/device`, { redirect: "manual" });
    expect(bare.status).toBe(303);
  });

  it("counts wrong codes per person, so dropping cookies buys no fresh allowance", async () => {
    const server = await startTestServer({
      authenticator: { kind: "trusted-header", header: "x-forwarded-user", proxies: ["127.0.0.1"] },
      attemptLimits: { codePerSession: 1, codePerAddress: 1000 },
    });
    servers.push(server);
    const statuses: number[] = [];
    for (const code of ["WXYZ-2345", "WXYZ-2346", "WXYZ-2347"]) {
      const fresh = new FormClient(server.issuer, { "x-forwarded-user": "mallory" });
      await fresh.get("/device");
      statuses.push((await fresh.post("/device", { _csrf: fresh.csrf(), user_code: code })).status);
    }
    expect(statuses).toEqual([400, 400, 429]);
  });

  it("matches proxies by address and CIDR range, IPv4-mapped addresses included", () => {
    const list = proxyList(["10.0.0.0/24", "192.0.2.5", "2001:db8::/32"]);
    expect(inList(list, "10.0.0.77")).toBe(true);
    expect(inList(list, "::ffff:10.0.0.77")).toBe(true);
    expect(inList(list, "10.0.1.1")).toBe(false);
    expect(inList(list, "192.0.2.5")).toBe(true);
    expect(inList(list, "192.0.2.6")).toBe(false);
    expect(inList(list, "2001:db8:ffff::1")).toBe(true);
    expect(inList(list, undefined)).toBe(false);
    expect(() => proxyList(["10.0.0.0/33"])).toThrow(/not an IP address or CIDR/);
    expect(() => proxyList(["proxy.internal"])).toThrow(/not an IP address or CIDR/);
  });

  it("needs HANDOFF_TRUSTED_HEADER_PROXIES, and names it when it is missing or wrong", async () => {
    const logger = createLogger("silent");
    const base = { HANDOFF_AUTHENTICATOR: "trusted-header" };
    await expect(pagesConfig(readSettings(base), "production", logger)).rejects.toThrow(
      /HANDOFF_TRUSTED_HEADER_PROXIES: required/,
    );
    await expect(
      pagesConfig(
        readSettings({ ...base, HANDOFF_TRUSTED_HEADER_PROXIES: "10.0.0.1, nope" }),
        "production",
        logger,
      ),
    ).rejects.toThrow(/HANDOFF_TRUSTED_HEADER_PROXIES: not an IP address or CIDR range: nope/);
    const ok = await pagesConfig(
      readSettings({ ...base, HANDOFF_TRUSTED_HEADER_PROXIES: "10.0.0.1, 10.1.0.0/16" }),
      "production",
      logger,
    );
    expect(ok.authenticator).toEqual({
      kind: "trusted-header",
      header: "x-forwarded-user",
      proxies: ["10.0.0.1", "10.1.0.0/16"],
    });
  });
});

describe("development seed", () => {
  it("start-dev signs in demo/demo; production seeds no one", async () => {
    const logger = createLogger("silent");
    const dev = await pagesConfig(readSettings({}), "development", logger);
    const prod = await pagesConfig(readSettings({}), "production", logger);
    expect(
      dev.authenticator?.kind === "local" && dev.authenticator.users.map((u) => u.username),
    ).toEqual(["demo"]);
    expect(prod.authenticator).toEqual({ kind: "local", users: [] });
    const server = await startTestServer({
      ...(dev.authenticator ? { authenticator: dev.authenticator } : {}),
    });
    servers.push(server);
    const c = new FormClient(server.issuer);
    await c.signIn({ username: "demo", password: "demo" });
    expect(c.lastPage).toContain("Signed in as <strong>demo</strong>");
  });
});
