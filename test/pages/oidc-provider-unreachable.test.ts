/**
 * An identity provider that does not answer (HANDOFF_OIDC_TIMEOUT; README
 * "Sign in with your identity provider"): the sign-in page says so (503,
 * Retry-After) within the timeout instead of hanging, and discovery is tried
 * again on the next sign-in, so handoff recovers when the provider is back.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  startUpstreamIdp,
  type UpstreamIdp,
} from "../support/upstream-idp.js";
import { FormClient } from "./page-fixtures.js";

let port: number;
let server: TestServer;
let idp: UpstreamIdp | undefined;

beforeAll(async () => {
  port = await freePort();
  server = await startTestServer({
    authenticator: {
      kind: "oidc",
      issuer: `http://127.0.0.1:${port}`,
      clientId: IDP_CLIENT_ID,
      clientSecret: IDP_CLIENT_SECRET,
      clientAuth: "client_secret_basic",
      scopes: "openid email",
      subjectClaim: "sub",
      allowedDomains: [],
      timeoutSeconds: 1,
      loginTtlSeconds: 600,
    },
  });
});

afterAll(async () => {
  await server?.close();
  await idp?.close();
});

describe("an identity provider that does not answer", () => {
  it("HANDOFF_OIDC_TIMEOUT: a provider that accepts and never answers gets a 503 page within the timeout", async () => {
    // Accepts connections and says nothing: discovery can only end by the timeout.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((r) => silent.listen(port, "127.0.0.1", () => r()));
    const browser = new FormClient(server.issuer);
    try {
      const res = await browser.get("/device/sign-in");
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(browser.lastPage).toContain("Sign-in is unavailable");
      expect(server.logs()).toContain("identity provider unreachable");
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("a refused connection is the same page; once the provider is up, the next sign-in goes to it", async () => {
    const browser = new FormClient(server.issuer);
    expect((await browser.get("/device/sign-in")).status).toBe(503);
    idp = await startUpstreamIdp(port, `${server.issuer}/device/sign-in/callback`);
    const res = await browser.get("/device/sign-in");
    expect(res.status).toBe(303);
    const to = new URL(res.headers.get("location") ?? "");
    expect(to.origin).toBe(idp.issuer);
    expect(to.searchParams.get("code_challenge_method")).toBe("S256");
    expect(to.searchParams.get("redirect_uri")).toBe(`${server.issuer}/device/sign-in/callback`);
    for (const p of ["state", "nonce", "code_challenge"]) {
      expect(to.searchParams.get(p)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(browser.cookie("handoff_oidc")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
