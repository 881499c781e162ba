/**
 * Sign-in through an upstream OpenID Connect provider
 * (HANDOFF_AUTHENTICATOR=oidc; README "Sign in with your identity
 * provider"), end to end in headless Chromium against node-oidc-provider
 * 9.13.3 running as the company's IdP: the device flow and the authorization
 * code grant's consent, and every way a callback is refused (OpenID Connect
 * Core 1.0 §3.1.2.1 state and nonce; a callback in another browser or a
 * second time; the allowed domains and the required group; return_to that
 * leaves the site). On the memory store and on a real Redis, where the
 * sign-ins in progress then live.
 */
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { decodeJwt } from "jose";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OidcConfig } from "../../src/auth/authenticator-config.js";
import { freePort } from "../support/free-port.js";
import {
  authorizeDevice,
  pollToken,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  signInAtIdp,
  startUpstreamIdp,
  type UpstreamIdp,
} from "../support/upstream-idp.js";
import { launchChromium, screenshot } from "./page-fixtures.js";

const CALLBACK = "/device/sign-in/callback";

function oidcAuthenticator(issuer: string): OidcConfig {
  return {
    kind: "oidc",
    issuer,
    clientId: IDP_CLIENT_ID,
    clientSecret: IDP_CLIENT_SECRET,
    clientAuth: "client_secret_basic",
    scopes: "openid email profile groups",
    subjectClaim: "email",
    allowedDomains: ["example.com"],
    requiredGroup: { claim: "groups", value: "handoff-users" },
    timeoutSeconds: 5,
    loginTtlSeconds: 600,
  };
}

/** A loopback redirect target (RFC 8252 §7.3) for the code grant's client. */
async function clientCallback() {
  let deliver: (u: URL) => void = () => {};
  const received = new Promise<URL>((r) => {
    deliver = r;
  });
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain" }).end("back at the app");
    deliver(new URL(req.url ?? "/", "http://127.0.0.1"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe.each(["memory", "redis"] as const)(
  "sign-in through an OpenID Connect provider (%s)",
  (store) => {
    let redis: RedisProcess | undefined;
    let server: TestServer;
    let idp: UpstreamIdp;
    let browser: Browser;
    const shot = (page: Page, name: string) => screenshot(page, `oidc-${store}-${name}`);

    beforeAll(async () => {
      if (store === "redis") redis = await startRedis();
      const port = await freePort();
      server = await startTestServer({
        authenticator: oidcAuthenticator(`http://127.0.0.1:${port}`),
        ...(redis ? { redis: { url: redis.url } } : {}),
        attemptLimits: { signInPerAddress: 100 },
      });
      // The provider's client is registered with handoff's callback (README: the redirect URI to register).
      idp = await startUpstreamIdp(port, `${server.issuer}${CALLBACK}`);
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await idp?.close();
      await redis?.stop();
    });

    /** A fresh browser (no session here or at the provider) and the callback URLs it visits. */
    async function freshBrowser(): Promise<{
      context: BrowserContext;
      page: Page;
      callbacks: string[];
    }> {
      const context = await browser.newContext();
      const page = await context.newPage();
      const callbacks: string[] = [];
      page.on("request", (r) => {
        if (r.url().includes(CALLBACK)) callbacks.push(r.url());
      });
      return { context, page, callbacks };
    }

    /** Goes to `path` at handoff, lands at the provider's login form, signs in as `login`. */
    async function signInVia(page: Page, path: string, login: string): Promise<void> {
      await page.goto(`${server.issuer}${path}`);
      await expect.poll(() => page.url()).toContain(idp.issuer);
      await signInAtIdp(page, login);
    }

    it("RFC 8628 §3.3: the device flow: /device → the provider's login → back signed in → code → consent → Approve; the token's sub is the verified email", async () => {
      const device = await authorizeDevice(server, { client_id: "public-cli", scope: "read" });
      const { context, page, callbacks } = await freshBrowser();
      await page.goto(`${server.issuer}/device`);
      await expect.poll(() => page.url()).toContain(`${idp.issuer}/interaction/`);
      // The authorization request handoff sent: code + PKCE S256, state, nonce (OIDC Core §3.1.2.1).
      await shot(page, "1-idp-login");
      await signInAtIdp(page, "alice");
      await page.getByLabel("Device code").waitFor();
      expect(new URL(page.url()).pathname).toBe("/device");
      expect(await page.locator("body").textContent()).toContain("Signed in as alice@example.com");
      await shot(page, "2-code-entry");
      await page.getByLabel("Device code").fill(device.user_code);
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByRole("button", { name: "Approve" }).waitFor();
      await shot(page, "3-consent");
      await page.getByRole("button", { name: "Approve" }).click();
      await page.getByRole("heading", { name: "Device connected" }).waitFor();
      await shot(page, "4-approved");

      const res = await pollToken(server, device.device_code);
      expect(res.status).toBe(200);
      const { access_token } = (await res.json()) as { access_token: string };
      expect(decodeJwt(access_token).sub).toBe("alice@example.com");

      // The callback carried a code and a state; neither reaches the log.
      expect(callbacks).toHaveLength(1);
      const q = new URL(callbacks[0] as string).searchParams;
      const [code, state] = [q.get("code"), q.get("state")];
      expect(code && state).toBeTruthy();
      expect(q.get("iss")).toBe(idp.issuer);
      expect(server.logs()).not.toContain(code);
      expect(server.logs()).not.toContain(state);
      expect(server.logs()).not.toContain(IDP_CLIENT_SECRET);
      expect(server.logs()).toContain("signed in through the identity provider");
      await context.close();
    });

    it("RFC 6749 §4.1: the authorization code grant's consent after the provider's sign-in; the code redeems for alice's token", async () => {
      const app = await clientCallback();
      const verifier = randomBytes(32).toString("base64url");
      const query = new URLSearchParams({
        response_type: "code",
        client_id: "mcp-app",
        redirect_uri: app.redirectUri,
        code_challenge: createHash("sha256").update(verifier).digest("base64url"),
        code_challenge_method: "S256",
        state: "app-state-1",
        scope: "read",
      });
      const { context, page } = await freshBrowser();
      await signInVia(page, `/oauth/authorize?${query}`, "alice");
      await page.getByRole("button", { name: "Approve" }).waitFor();
      expect(new URL(page.url()).pathname).toBe("/device/authorize");
      expect(await page.locator("main").textContent()).toContain("MCP Test App");
      await shot(page, "5-code-grant-consent");
      await page.getByRole("button", { name: "Approve" }).click();
      const back = await app.received;
      expect(back.searchParams.get("state")).toBe("app-state-1");
      const res = await server.post("/oauth/token", {
        grant_type: "authorization_code",
        code: back.searchParams.get("code") ?? "",
        redirect_uri: app.redirectUri,
        client_id: "mcp-app",
        code_verifier: verifier,
      });
      expect(res.status).toBe(200);
      const { access_token } = (await res.json()) as { access_token: string };
      expect(decodeJwt(access_token).sub).toBe("alice@example.com");
      await context.close();
      await app.close();
    });

    /**
     * Signs in up to the provider's redirect back and stops there: the callback
     * URL, unvisited. Chromium's own request interception (CDP Fetch) sees the
     * redirect's target, which page.route does not.
     */
    async function heldCallback(page: Page, login: string): Promise<string> {
      const cdp = await page.context().newCDPSession(page);
      let held = "";
      cdp.on("Fetch.requestPaused", (e: { requestId: string; request: { url: string } }) => {
        held = e.request.url;
        void cdp.send("Fetch.failRequest", { requestId: e.requestId, errorReason: "Aborted" });
      });
      await cdp.send("Fetch.enable", { patterns: [{ urlPattern: `*${CALLBACK}*` }] });
      await signInVia(page, "/device", login).catch(() => undefined);
      await expect.poll(() => held).toContain(CALLBACK);
      await cdp.send("Fetch.disable");
      await cdp.detach();
      return held;
    }

    /** Whether this browser is signed in at handoff (else /device sends it to sign in). */
    async function signedInAtHandoff(context: BrowserContext): Promise<boolean> {
      const res = await context.request.get(`${server.issuer}/device`, { maxRedirects: 0 });
      return res.status() === 200;
    }

    it("OIDC Core §3.1.2.1: an edited state is refused, no one is signed in, and the sign-in cannot be finished afterwards", async () => {
      const { context, page } = await freshBrowser();
      const held = new URL(await heldCallback(page, "alice"));
      const real = held.href;
      if (redis) {
        // The sign-in in progress lives in the shared store (any instance can take the callback).
        const client = new Redis(redis.url);
        expect(await client.keys("signin-tx:*")).toHaveLength(1);
        client.disconnect();
      }
      held.searchParams.set("state", `${held.searchParams.get("state")}x`);
      const res = await page.goto(held.href);
      expect(res?.status()).toBe(400);
      await page.getByRole("heading", { name: "This sign-in could not be accepted" }).waitFor();
      await shot(page, "6-state-refused");
      expect(await signedInAtHandoff(context)).toBe(false);
      // The transaction went with the refused callback: the real one no longer signs in either.
      const again = await page.goto(real);
      expect(again?.status()).toBe(400);
      await page.getByRole("heading", { name: "This sign-in link has expired" }).waitFor();
      expect(await signedInAtHandoff(context)).toBe(false);
      expect(server.logs()).toContain('"reason":"state_mismatch"');
      await context.close();
    });

    it("a replayed callback is refused, in the same browser and in another one", async () => {
      const { context, page, callbacks } = await freshBrowser();
      await signInVia(page, "/device", "alice");
      await page.getByLabel("Device code").waitFor();
      const used = callbacks[0] as string;
      const replay = await page.goto(used);
      expect(replay?.status()).toBe(400);
      await page.getByRole("heading", { name: "This sign-in link has expired" }).waitFor();
      await shot(page, "7-replay-refused");

      const other = await freshBrowser();
      const elsewhere = await other.page.goto(used);
      expect(elsewhere?.status()).toBe(400);
      expect(await signedInAtHandoff(other.context)).toBe(false);
      await other.context.close();
      await context.close();
    });

    it("a callback opened in another browser than the one that started the sign-in signs no one in", async () => {
      const { context, page } = await freshBrowser();
      const held = await heldCallback(page, "alice");
      const other = await freshBrowser();
      const res = await other.page.goto(held);
      expect(res?.status()).toBe(400);
      expect(await signedInAtHandoff(other.context)).toBe(false);
      await other.context.close();
      await context.close();
    });

    it("an e-mail domain outside HANDOFF_OIDC_ALLOWED_DOMAINS gets an error page and no session", async () => {
      const { context, page } = await freshBrowser();
      await signInVia(page, "/device", "mallory");
      await page.getByRole("heading", { name: "This account can't be used here" }).waitFor();
      expect(await page.locator("main").textContent()).toContain("elsewhere.test");
      await shot(page, "8-domain-refused");
      expect(await signedInAtHandoff(context)).toBe(false);
      expect(server.logs()).toContain('"reason":"domain_not_allowed"');
      await context.close();
    });

    it("without the group HANDOFF_OIDC_REQUIRED_GROUP names, an error page and no session", async () => {
      const { context, page } = await freshBrowser();
      await signInVia(page, "/device", "bob");
      await page.getByRole("heading", { name: "You don't have access" }).waitFor();
      await shot(page, "9-group-refused");
      expect(await signedInAtHandoff(context)).toBe(false);
      await context.close();
    });

    it("OIDC Core §5.7: an unverified email is not a subject", async () => {
      const { context, page } = await freshBrowser();
      await signInVia(page, "/device", "unverified");
      await page.getByRole("heading", { name: "Verify your e-mail address first" }).waitFor();
      expect(await signedInAtHandoff(context)).toBe(false);
      await context.close();
    });

    it("OIDC Core §3.1.2.6: Cancel at the provider comes back as error=access_denied: a page saying so, no session", async () => {
      const { context, page } = await freshBrowser();
      await page.goto(`${server.issuer}/device`);
      await expect.poll(() => page.url()).toContain(idp.issuer);
      const answer = page.waitForResponse((r) => r.url().includes(CALLBACK));
      await page.getByRole("link", { name: "[ Cancel ]" }).click();
      expect((await answer).status()).toBe(403);
      await page.getByRole("heading", { name: "Sign-in was not completed" }).waitFor();
      expect(await signedInAtHandoff(context)).toBe(false);
      expect(server.logs()).toContain('"reason":"provider_error:access_denied"');
      await context.close();
    });

    it("a return_to that leaves the site is ignored: the person lands on code entry", async () => {
      for (const target of [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
      ]) {
        const { context, page } = await freshBrowser();
        await signInVia(page, `/device/sign-in?return_to=${encodeURIComponent(target)}`, "alice");
        await page.getByLabel("Device code").waitFor();
        expect(page.url()).toBe(`${server.issuer}/device`);
        await context.close();
      }
    });
  },
);
