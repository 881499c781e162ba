/**
 * The authorization code grant with PKCE over real HTTP (RFC 6749 §4.1,
 * RFC 7636, RFC 9207, RFC 8252, OAuth 2.1 §4.1), on the memory store and on
 * Redis: a cookie-keeping form client signs in and decides as a browser
 * would; every negative is its own test.
 */
import { createHash, randomBytes } from "node:crypto";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, FormClient, testUsers } from "../pages/page-fixtures.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { FAST_SECRET } from "../support/test-clients.js";

const REDIRECT = "http://127.0.0.1:51234/callback";

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** An authorization request's query, S256 by default; `null` drops a parameter. */
function authorizeQuery(
  overrides: Record<string, string | string[] | null> = {},
  challenge = pkce().challenge,
): string {
  const base: Record<string, string | string[] | null> = {
    response_type: "code",
    client_id: "mcp-app",
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "st-1",
    scope: "read write",
    resource: "https://mcp.example.com/mcp",
    ...overrides,
  };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(base)) {
    if (v === null) continue;
    for (const x of [v].flat()) q.append(k, x);
  }
  return q.toString();
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

describe.each([
  ["memory", false],
  ["redis", true],
])("authorization code + PKCE (%s store)", (_name, useRedisStore) => {
  let server: TestServer;
  let redis: RedisProcess | undefined;
  let browser: FormClient;

  beforeAll(async () => {
    if (useRedisStore) redis = await startRedis();
    server = await startTestServer({
      authenticator: await testUsers(),
      ...(redis ? { redis: { url: redis.url } } : {}),
    });
    browser = new FormClient(server.issuer);
    await browser.signIn(ALICE);
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  /** Follows GET /oauth/authorize to the consent screen; returns the response there. */
  async function toConsent(query: string, client = browser): Promise<Response> {
    const first = await client.get(`/oauth/authorize?${query}`);
    if (first.status !== 303) return first;
    const next = first.headers.get("location") ?? "";
    if (!next.startsWith("/device/authorize?")) return first;
    return client.get(next);
  }

  /** Consent → decision; the Location the browser is sent to. */
  async function decide(query: string, decision: "approve" | "deny" = "approve"): Promise<URL> {
    const consent = await toConsent(query);
    expect(consent.status, browser.lastPage.slice(0, 300)).toBe(200);
    const raw = /name="request" value="([^"]*)"/.exec(browser.lastPage)?.[1] ?? "";
    const res = await browser.post("/device/authorize", {
      _csrf: browser.csrf(),
      request: unescapeHtml(raw),
      decision,
    });
    expect(res.status).toBe(303);
    return new URL(res.headers.get("location") ?? "");
  }

  async function approvedCode(overrides: Record<string, string | string[] | null> = {}) {
    const p = pkce();
    const location = await decide(authorizeQuery(overrides, p.challenge));
    const code = location.searchParams.get("code") ?? "";
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    return { ...p, code, location };
  }

  function exchange(form: Record<string, string | string[]>, headers: Record<string, string> = {}) {
    return server.post(
      "/oauth/token",
      { grant_type: "authorization_code", client_id: "mcp-app", redirect_uri: REDIRECT, ...form },
      headers,
    );
  }

  async function introspect(token: string): Promise<{ active: boolean }> {
    const res = await server.post(
      "/oauth/introspect",
      { token },
      { authorization: `Bearer ${SERVICE_TOKEN}` },
    );
    return (await res.json()) as { active: boolean };
  }

  it("RFC 6749 §4.1, RFC 9207: sign in, consent, Approve; the redirect carries code, state and iss; the code buys tokens once", async () => {
    const { code, verifier, location } = await approvedCode();
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get("state")).toBe("st-1");
    expect(location.searchParams.get("iss")).toBe(server.issuer);
    const res = await exchange({ code, code_verifier: verifier });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({ token_type: "Bearer", scope: "read write" });
    const claims = decodeJwt(body.access_token as string);
    expect(claims).toMatchObject({
      sub: "alice",
      client_id: "mcp-app",
      aud: "https://mcp.example.com/mcp",
      iss: server.issuer,
    });
    // Refresh works as for the device grant (OAuth 2.1 §4.3).
    const refreshed = await server.post("/oauth/token", {
      grant_type: "refresh_token",
      client_id: "mcp-app",
      refresh_token: body.refresh_token as string,
    });
    expect(refreshed.status).toBe(200);
  });

  it("the consent screen names the client, the scopes, the resource and the host the browser goes back to", async () => {
    const consent = await toConsent(authorizeQuery());
    expect(consent.status).toBe(200);
    const page = browser.lastPage;
    expect(page).toContain("MCP Test App");
    expect(page).toContain("mcp-app");
    expect(page).toContain("https://mcp.example.com/mcp");
    expect(page).toMatch(/<code>write<\/code>/);
    expect(page).toContain("an application on this computer");
    expect(page).toMatch(/id="redirect-host">127\.0\.0\.1:51234</);
    // The form may post to us and be redirected to the client's origin only (CSP form-action).
    expect(consent.headers.get("content-security-policy")).toContain(
      "form-action 'self' http://127.0.0.1:51234;",
    );
    expect(consent.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });

  it("Deny sends access_denied back with state and iss", async () => {
    const location = await decide(authorizeQuery({ state: "deny-me" }), "deny");
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe("deny-me");
    expect(location.searchParams.get("iss")).toBe(server.issuer);
    expect(location.searchParams.get("code")).toBeNull();
  });

  it("RFC 6749 §4.1.2: state comes back unchanged, whatever its characters", async () => {
    const state = "a b+c&d=e/f?g#h%20i~é✓";
    const { location } = await approvedCode({ state });
    expect(location.searchParams.get("state")).toBe(state);
  });

  it("without state, the response has none", async () => {
    const { location } = await approvedCode({ state: null });
    expect(location.searchParams.has("state")).toBe(false);
    expect(location.searchParams.get("iss")).toBe(server.issuer);
  });

  it("RFC 6749 §3.1.2: the redirect URI's own query is kept", async () => {
    const p = pkce();
    // A confidential client whose registered redirect URI has a query.
    const q = authorizeQuery(
      {
        client_id: "code-web",
        redirect_uri: "https://web.example.com/cb?tenant=1",
        scope: "read",
        resource: null,
      },
      p.challenge,
    );
    const location = await decide(q);
    expect(location.searchParams.get("tenant")).toBe("1");
    expect(location.searchParams.get("iss")).toBe(server.issuer);
    const basic = `Basic ${Buffer.from(`code-web:${FAST_SECRET}`).toString("base64")}`;
    const res = await server.post(
      "/oauth/token",
      {
        grant_type: "authorization_code",
        code: location.searchParams.get("code") ?? "",
        redirect_uri: "https://web.example.com/cb?tenant=1",
        code_verifier: p.verifier,
      },
      { authorization: basic },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.refresh_token).toBeUndefined(); // no refresh_token grant
    // RFC 9068 §3: without a resource, the default audience.
    expect(decodeJwt(body.access_token as string).aud).toBe(server.issuer);
  });

  describe("PKCE (RFC 7636, OAuth 2.1 §4.1.1)", () => {
    it("§4.6: a wrong code_verifier is invalid_grant, and spends nothing", async () => {
      const { code, verifier } = await approvedCode();
      const wrong = await exchange({ code, code_verifier: pkce().verifier });
      expect(wrong.status).toBe(400);
      expect(await wrong.json()).toMatchObject({ error: "invalid_grant" });
      expect((await exchange({ code, code_verifier: verifier })).status).toBe(200);
    });

    it("a missing code_verifier is invalid_grant", async () => {
      const { code } = await approvedCode();
      const res = await exchange({ code });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_grant" });
    });

    it("a malformed code_verifier (too short, bad characters) is invalid_grant", async () => {
      const { code } = await approvedCode();
      for (const v of ["short", `${"a".repeat(42)}`, `${"a".repeat(129)}`, `${"a".repeat(42)}!`]) {
        const res = await exchange({ code, code_verifier: v });
        expect(await res.json(), v).toMatchObject({ error: "invalid_grant" });
      }
    });

    it("the challenge itself presented as the verifier is refused (plain is not S256)", async () => {
      const p = pkce();
      const location = await decide(authorizeQuery({}, p.challenge));
      const code = location.searchParams.get("code") ?? "";
      const res = await exchange({ code, code_verifier: p.challenge });
      expect(await res.json()).toMatchObject({ error: "invalid_grant" });
    });

    it("code_challenge_method=plain is refused with invalid_request, sent back to the client", async () => {
      const res = await browser.get(
        `/oauth/authorize?${authorizeQuery({ code_challenge_method: "plain" })}`,
      );
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get("location") ?? "");
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(location.searchParams.get("error")).toBe("invalid_request");
      expect(location.searchParams.get("error_description")).toMatch(/S256/);
      expect(location.searchParams.get("state")).toBe("st-1");
      expect(location.searchParams.get("iss")).toBe(server.issuer);
    });

    it("a missing code_challenge or method is refused with invalid_request", async () => {
      for (const drop of ["code_challenge", "code_challenge_method"]) {
        const res = await browser.get(`/oauth/authorize?${authorizeQuery({ [drop]: null })}`);
        expect(res.status, drop).toBe(303);
        const location = new URL(res.headers.get("location") ?? "");
        expect(location.searchParams.get("error"), drop).toBe("invalid_request");
      }
      const bad = await browser.get(
        `/oauth/authorize?${authorizeQuery({ code_challenge: "abc" })}`,
      );
      expect(new URL(bad.headers.get("location") ?? "").searchParams.get("error")).toBe(
        "invalid_request",
      );
    });
  });

  describe("one redemption (RFC 6749 §4.1.2)", () => {
    it("a replayed code is invalid_grant and revokes the tokens it issued: inactive at introspection", async () => {
      const { code, verifier } = await approvedCode();
      const first = (await (await exchange({ code, code_verifier: verifier })).json()) as Record<
        string,
        string
      >;
      expect(await introspect(first.access_token as string)).toMatchObject({ active: true });
      expect(await introspect(first.refresh_token as string)).toMatchObject({ active: true });
      const again = await exchange({ code, code_verifier: verifier });
      expect(again.status).toBe(400);
      expect(await again.json()).toMatchObject({ error: "invalid_grant" });
      expect(await introspect(first.access_token as string)).toEqual({ active: false });
      expect(await introspect(first.refresh_token as string)).toEqual({ active: false });
      // And the refresh token no longer refreshes.
      const refresh = await server.post("/oauth/token", {
        grant_type: "refresh_token",
        client_id: "mcp-app",
        refresh_token: first.refresh_token as string,
      });
      expect(await refresh.json()).toMatchObject({ error: "invalid_grant" });
    });

    it("a replay revokes what the family rotated to since", async () => {
      const { code, verifier } = await approvedCode();
      const first = (await (await exchange({ code, code_verifier: verifier })).json()) as Record<
        string,
        string
      >;
      const rotated = (await (
        await server.post("/oauth/token", {
          grant_type: "refresh_token",
          client_id: "mcp-app",
          refresh_token: first.refresh_token as string,
        })
      ).json()) as Record<string, string>;
      expect(await introspect(rotated.access_token as string)).toMatchObject({ active: true });
      await exchange({ code, code_verifier: verifier });
      expect(await introspect(rotated.access_token as string)).toEqual({ active: false });
      expect(await introspect(rotated.refresh_token as string)).toEqual({ active: false });
    });

    it("of concurrent redemptions at most one gets tokens, and the replays kill them", async () => {
      const { code, verifier } = await approvedCode();
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => exchange({ code, code_verifier: verifier })),
      );
      const ok = answers.filter((r) => r.status === 200);
      // At most one wins; when a replay lands while the winner's tokens are being
      // issued, the winner is refused too (its tokens are revoked before it answers).
      expect(ok.length).toBeLessThanOrEqual(1);
      expect(answers.filter((r) => r.status === 400).length).toBe(8 - ok.length);
      // The winner's tokens are revoked, however the race went (§4.1.2).
      for (const r of ok) {
        const body = (await r.json()) as Record<string, string>;
        expect(await introspect(body.access_token as string)).toEqual({ active: false });
      }
    });

    it("a code of another client is invalid_grant", async () => {
      const { code, verifier } = await approvedCode();
      const res = await exchange({ code, code_verifier: verifier, client_id: "public-cli" });
      // public-cli lacks the grant: unauthorized_client before the code is looked at.
      expect(await res.json()).toMatchObject({ error: "unauthorized_client" });
      const basic = `Basic ${Buffer.from(`code-web:${FAST_SECRET}`).toString("base64")}`;
      const other = await server.post(
        "/oauth/token",
        { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier },
        { authorization: basic },
      );
      expect(await other.json()).toMatchObject({ error: "invalid_grant" });
      expect((await exchange({ code, code_verifier: verifier })).status).toBe(200);
    });

    it("an unknown or malformed code is invalid_grant", async () => {
      for (const code of [randomBytes(32).toString("base64url"), "nope"]) {
        const res = await exchange({ code, code_verifier: pkce().verifier });
        expect(await res.json()).toMatchObject({ error: "invalid_grant" });
      }
    });

    it("RFC 8707 §2.2: the token request may narrow the resources, never add one (checked before the code is spent)", async () => {
      const { code, verifier } = await approvedCode({
        resource: ["https://mcp.example.com/mcp", "https://other.example.com/"],
      });
      const wider = await exchange({
        code,
        code_verifier: verifier,
        resource: "https://evil.example/",
      });
      expect(await wider.json()).toMatchObject({ error: "invalid_target" });
      const narrowed = await exchange({
        code,
        code_verifier: verifier,
        resource: "https://other.example.com/",
      });
      const body = (await narrowed.json()) as Record<string, string>;
      expect(decodeJwt(body.access_token as string).aud).toBe("https://other.example.com/");
    });
  });

  describe("redirect URIs (RFC 6749 §3.1.2, §4.1.2.1, RFC 8252 §7.3)", () => {
    it("a loopback redirect matches on any port", async () => {
      const p = pkce();
      const uri = "http://127.0.0.1:40001/callback";
      const location = await decide(authorizeQuery({ redirect_uri: uri }, p.challenge));
      expect(`${location.origin}${location.pathname}`).toBe(uri);
      const res = await exchange({
        code: location.searchParams.get("code") ?? "",
        code_verifier: p.verifier,
        redirect_uri: uri,
      });
      expect(res.status).toBe(200);
    });

    it("a private-use scheme redirect works (RFC 8252 §7.1)", async () => {
      const uri = "com.example.app:/oauth2redirect";
      const consent = await toConsent(authorizeQuery({ redirect_uri: uri }));
      expect(consent.headers.get("content-security-policy")).toContain(
        "form-action 'self' com.example.app:;",
      );
      expect(browser.lastPage).toContain("com.example.app:");
      const location = await decide(authorizeQuery({ redirect_uri: uri }));
      expect(location.protocol).toBe("com.example.app:");
      expect(location.searchParams.get("iss")).toBe(server.issuer);
    });

    it("the token request must repeat the redirect_uri exactly (RFC 6749 §4.1.3)", async () => {
      const { code, verifier } = await approvedCode();
      for (const redirect_uri of [
        "http://127.0.0.1:51235/callback",
        "http://127.0.0.1:51234/callback/",
        "http://localhost:51234/callback",
      ]) {
        const res = await exchange({ code, code_verifier: verifier, redirect_uri });
        expect(await res.json(), redirect_uri).toMatchObject({ error: "invalid_grant" });
      }
      const omitted = await server.post("/oauth/token", {
        grant_type: "authorization_code",
        client_id: "mcp-app",
        code,
        code_verifier: verifier,
      });
      expect(await omitted.json()).toMatchObject({ error: "invalid_grant" });
      expect((await exchange({ code, code_verifier: verifier })).status).toBe(200);
    });

    const MISMATCHES = [
      // Port games on a non-loopback URI.
      "https://app.example.com:443/callback",
      "https://app.example.com:8443/callback",
      // Path tricks.
      "https://app.example.com/callback/",
      "https://app.example.com/callback/../evil",
      "https://app.example.com/callback%2F..%2Fevil",
      "https://app.example.com/CALLBACK",
      "https://app.example.com/callback?next=https://evil.example/",
      "https://app.example.com/callback#frag",
      // Host tricks and open redirects.
      "https://app.example.com.evil.example/callback",
      "https://app.example.com@evil.example/callback",
      "https://evil.example/callback",
      "//evil.example/callback",
      "http://app.example.com/callback",
      "http://127.0.0.1:51234/callback/../../evil",
      "http://127.0.0.1:51234@evil.example/callback",
      "javascript:alert(document.domain)",
      "data:text/html,<script>alert(1)</script>",
    ];

    it.each(MISMATCHES)(
      "redirect_uri %s is shown on a page and never redirected to",
      async (uri) => {
        const res = await browser.get(`/oauth/authorize?${authorizeQuery({ redirect_uri: uri })}`);
        expect(res.status).toBe(400);
        expect(res.headers.get("location")).toBeNull();
        expect(res.headers.get("content-type")).toMatch(/^text\/html/);
        expect(browser.lastPage).toContain("This sign-in link is not valid");
        // The consent step refuses it the same way: no going around the endpoint.
        const direct = await browser.get(
          `/device/authorize?${authorizeQuery({ redirect_uri: uri })}`,
        );
        expect(direct.status).toBe(400);
        expect(direct.headers.get("location")).toBeNull();
      },
    );

    it("errors before the client is known are shown, never redirected: unknown, missing or repeated client_id; missing or repeated redirect_uri", async () => {
      for (const overrides of [
        { client_id: "no-such-client" },
        { client_id: null },
        { client_id: ["mcp-app", "mcp-app"] },
        { client_id: "inactive-cli" },
        { redirect_uri: null },
        { redirect_uri: [REDIRECT, "https://evil.example/"] },
      ]) {
        const res = await browser.get(`/oauth/authorize?${authorizeQuery(overrides)}`);
        expect(res.status, JSON.stringify(overrides)).toBe(400);
        expect(res.headers.get("location")).toBeNull();
      }
      const malformed = await browser.get("/oauth/authorize?client_id=%zz&redirect_uri=x");
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get("location")).toBeNull();
    });

    it("after the redirect URI is known good, errors go back there: response_type, scope, resource, repeats", async () => {
      const cases: Array<[Record<string, string | string[] | null>, string]> = [
        [{ response_type: "token" }, "unsupported_response_type"],
        [{ response_type: null }, "invalid_request"],
        [{ scope: "admin" }, "invalid_scope"],
        [{ resource: "not a uri" }, "invalid_target"],
        [{ resource: "https://mcp.example.com/mcp#frag" }, "invalid_target"],
        [{ code_challenge: ["a".repeat(43), "b".repeat(43)] }, "invalid_request"],
        [{ state: ["a", "b"] }, "invalid_request"],
      ];
      for (const [overrides, error] of cases) {
        const res = await browser.get(`/oauth/authorize?${authorizeQuery(overrides)}`);
        expect(res.status, JSON.stringify(overrides)).toBe(303);
        const location = new URL(res.headers.get("location") ?? "");
        expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
        expect(location.searchParams.get("error"), JSON.stringify(overrides)).toBe(error);
        expect(location.searchParams.get("iss")).toBe(server.issuer);
      }
    });

    it("a client without the grant gets unauthorized_client at its own redirect URI, and at the token endpoint", async () => {
      const res = await server.post("/oauth/token", {
        grant_type: "authorization_code",
        client_id: "public-cli",
        code: randomBytes(32).toString("base64url"),
        code_verifier: pkce().verifier,
      });
      expect(await res.json()).toMatchObject({ error: "unauthorized_client" });
    });
  });

  describe("open redirects through every parameter", () => {
    const EVIL = "https://evil.example/steal";

    it("every parameter carrying an evil URL still lands only on the registered redirect URI", async () => {
      for (const name of [
        "state",
        "scope",
        "resource",
        "code_challenge",
        "response_type",
        "return_to",
        "next",
        "redirect",
        "response_mode",
      ]) {
        const res = await browser.get(`/oauth/authorize?${authorizeQuery({ [name]: EVIL })}`);
        const location = res.headers.get("location") ?? "";
        if (res.status === 303 && !location.startsWith("/device/authorize?")) {
          const u = new URL(location);
          expect(`${u.origin}${u.pathname}`, name).toBe(REDIRECT);
        } else if (res.status === 303) {
          const consent = await browser.get(location);
          expect(consent.status, name).toBe(200);
        }
        expect(location.startsWith(EVIL), name).toBe(false);
      }
    });

    it("response_mode and extra parameters never move the response elsewhere", async () => {
      const { location } = await approvedCode({ response_mode: "form_post", redirect: EVIL });
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    });

    it("the sign-in page's return_to only comes back to the consent step, never elsewhere", async () => {
      const stranger = new FormClient(server.issuer);
      const q = authorizeQuery();
      const first = await stranger.get(`/device/authorize?${q}`);
      expect(first.status).toBe(303);
      const signIn = first.headers.get("location") ?? "";
      expect(signIn).toMatch(/^\/device\/sign-in\?return_to=/);
      expect(decodeURIComponent(signIn)).toContain(`/device/authorize?${q}`);
      const signInWith = async (return_to: string) => {
        const fresh = new FormClient(server.issuer);
        await fresh.get("/device/sign-in");
        return fresh.post("/device/sign-in", {
          _csrf: fresh.csrf(),
          username: ALICE.username,
          password: ALICE.password,
          return_to,
        });
      };
      for (const return_to of [
        EVIL,
        "//evil.example/x",
        "/oauth/authorize?x",
        "/device/authorizex",
        "https://evil.example/device/authorize?x",
      ]) {
        expect((await signInWith(return_to)).headers.get("location"), return_to).toBe("/device");
      }
      const ok = await signInWith(`/device/authorize?${q}`);
      expect(ok.headers.get("location")).toBe(`/device/authorize?${q}`);
    });

    it("a decision posted with an edited request is checked again (no going around the rules)", async () => {
      await toConsent(authorizeQuery());
      const res = await browser.post("/device/authorize", {
        _csrf: browser.csrf(),
        request: authorizeQuery({ redirect_uri: EVIL }),
        decision: "approve",
      });
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
    });

    it("a decision with an attacker's planted CSRF cookie and token is refused: no code is issued", async () => {
      const attacker = new FormClient(server.issuer);
      await attacker.get("/device/sign-in");
      await toConsent(authorizeQuery());
      const saved = browser.cookie("handoff_csrf") ?? "";
      browser.plantCookie("handoff_csrf", attacker.cookie("handoff_csrf") ?? "");
      const res = await browser.post("/device/authorize", {
        _csrf: attacker.csrf(),
        request: authorizeQuery(),
        decision: "approve",
      });
      browser.plantCookie("handoff_csrf", saved);
      expect(res.status).toBe(403);
      expect(res.headers.get("location")).toBeNull();
    });

    it("a decision without the CSRF token changes nothing", async () => {
      await toConsent(authorizeQuery());
      const res = await browser.post("/device/authorize", {
        request: authorizeQuery(),
        decision: "approve",
      });
      expect(res.status).toBe(403);
      expect(res.headers.get("location")).toBeNull();
    });
  });

  it("RFC 8414 §2: metadata advertises the grant, its response type and PKCE S256", async () => {
    const res = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`);
    const m = (await res.json()) as Record<string, unknown>;
    expect(m.authorization_endpoint).toBe(`${server.issuer}/oauth/authorize`);
    expect(m.response_types_supported).toEqual(["code"]);
    expect(m.code_challenge_methods_supported).toEqual(["S256"]);
    expect(m.grant_types_supported).toContain("authorization_code");
    expect(m.authorization_response_iss_parameter_supported).toBe(true);
  });

  it("no secret reaches the logs: codes, verifiers, tokens", async () => {
    const { code, verifier } = await approvedCode();
    const body = (await (await exchange({ code, code_verifier: verifier })).json()) as Record<
      string,
      string
    >;
    const logs = server.logs();
    for (const secret of [code, verifier, body.access_token, body.refresh_token]) {
      expect(logs).not.toContain(secret as string);
    }
  });
});
