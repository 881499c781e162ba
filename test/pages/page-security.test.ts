/**
 * Web hygiene of the verification pages: CSRF tokens on every form post,
 * cookie flags, CSP, no caching of pages that show codes, no open redirects,
 * nothing secret in the logs, errors as pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizeDevice, startTestServer, type TestServer } from "../support/handoff-server.js";
import { ALICE, FormClient, testUsers } from "./page-fixtures.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ authenticator: await testUsers() });
});
afterAll(async () => {
  await server?.close();
});

async function signedIn(): Promise<FormClient> {
  const c = new FormClient(server.issuer);
  await c.signIn(ALICE);
  return c;
}

describe("CSRF", () => {
  it("refuses a code-entry post without the token, with a page and no consent screen", async () => {
    const { user_code } = await authorizeDevice(server);
    const c = await signedIn();
    const res = await c.post("/device", { user_code });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(c.lastPage).toContain("This form has expired");
    expect(c.lastPage).not.toContain("Approve");
  });

  it("refuses an Approve without the token, or with another browser's token, and nothing is decided", async () => {
    const { user_code } = await authorizeDevice(server);
    const c = await signedIn();
    const other = await signedIn();
    expect((await c.post("/device/decision", { user_code, decision: "approve" })).status).toBe(403);
    const forged = { _csrf: other.csrf(), user_code, decision: "approve" };
    expect((await c.post("/device/decision", forged)).status).toBe(403);
    expect((await server.flow.describe(user_code)).status).toBe("pending");
    // With its own token the same post goes through.
    await c.get("/device");
    const own = { _csrf: c.csrf(), user_code, decision: "approve" };
    expect((await c.post("/device/decision", own)).status).toBe(200);
  });

  it("the victim's session cookie with an attacker's planted CSRF cookie and token is refused (403), nothing decided", async () => {
    const { user_code } = await authorizeDevice(server);
    const victim = await signedIn();
    // The attacker's own double-submit pair: from a signed-in browser of their own, and from none.
    const ownSession = await signedIn();
    const anonymous = new FormClient(server.issuer);
    await anonymous.get("/device/sign-in");
    for (const attacker of [ownSession, anonymous]) {
      const secret = attacker.cookie("handoff_csrf");
      expect(secret).toBeDefined();
      victim.plantCookie("handoff_csrf", secret as string);
      const forged = { _csrf: attacker.csrf(), user_code, decision: "approve" };
      const res = await victim.post("/device/decision", forged);
      expect(res.status).toBe(403);
      expect(victim.lastPage).toContain("This form has expired");
    }
    expect((await server.flow.describe(user_code)).status).toBe("pending");
    // A token made for the victim's session goes through, with whatever secret cookie it was made from.
    await victim.get("/device");
    const own = { _csrf: victim.csrf(), user_code, decision: "deny" };
    expect((await victim.post("/device/decision", own)).status).toBe(200);
  });

  it("a token from before sign-in is not accepted after it (the session it is bound to changed)", async () => {
    const c = new FormClient(server.issuer);
    await c.get("/device/sign-in");
    const before = c.csrf();
    await c.signIn(ALICE);
    const { user_code } = await authorizeDevice(server);
    expect((await c.post("/device", { _csrf: before, user_code })).status).toBe(403);
    await c.get("/device");
    expect((await c.post("/device", { _csrf: c.csrf(), user_code })).status).toBe(200);
  });

  it("a post the browser marks cross-site (Sec-Fetch-Site) is refused even with a valid token, the sign-in form too", async () => {
    const c = await signedIn();
    const { user_code } = await authorizeDevice(server);
    const token = c.csrf();
    for (const site of ["cross-site", "same-site"]) {
      const res = await c.post("/device", { _csrf: token, user_code }, { "sec-fetch-site": site });
      expect(res.status).toBe(403);
    }
    const ok = await c.post(
      "/device",
      { _csrf: token, user_code },
      { "sec-fetch-site": "same-origin" },
    );
    expect(ok.status).toBe(200);
    const anonymous = new FormClient(server.issuer);
    await anonymous.get("/device/sign-in");
    const signIn = { _csrf: anonymous.csrf(), ...ALICE, return_to: "/device" };
    expect(
      (await anonymous.post("/device/sign-in", signIn, { "sec-fetch-site": "cross-site" })).status,
    ).toBe(403);
  });

  it("refuses a sign-in post and a sign-out post without the token", async () => {
    const c = new FormClient(server.issuer);
    await c.get("/device/sign-in");
    const res = await c.post("/device/sign-in", { ...ALICE, return_to: "/device" });
    expect(res.status).toBe(403);
    const s = await signedIn();
    expect((await s.post("/device/sign-out", {})).status).toBe(403);
    await s.get("/device");
    expect(s.lastPage).toContain("Signed in as");
  });
});

describe("code entry", () => {
  it("RFC 8628 §6.1: finds the request whatever the case, dashes or spaces (what the server sees without JavaScript)", async () => {
    const { user_code } = await authorizeDevice(server);
    const raw = user_code.replace("-", "");
    const c = await signedIn();
    for (const typed of [
      raw.toLowerCase(),
      ` ${raw.slice(0, 4)} ${raw.slice(4)} `,
      user_code.toLowerCase(),
    ]) {
      await c.get("/device");
      expect((await c.post("/device", { _csrf: c.csrf(), user_code: typed })).status).toBe(200);
      expect(c.lastPage).toContain(`<span class="code" id="user-code">${user_code}</span>`);
    }
  });
});

describe("cookies, headers and caching", () => {
  it("sets the session cookie HttpOnly, SameSite=Lax, and not Secure on an http issuer", async () => {
    const c = new FormClient(server.issuer);
    await c.get("/device/sign-in");
    const res = await c.post("/device/sign-in", {
      _csrf: c.csrf(),
      ...ALICE,
      return_to: "/device",
    });
    const session = res.headers.getSetCookie().find((h) => h.startsWith("handoff_session="));
    expect(session).toMatch(/; HttpOnly/i);
    expect(session).toMatch(/; SameSite=Lax/i);
    expect(session).toMatch(/; Path=\//i);
    expect(session).not.toMatch(/; Secure/i);
  });

  it("marks cookies Secure with the __Host- prefix when the issuer is https", async () => {
    const https = await startTestServer({
      authenticator: await testUsers(),
      issuer: "https://handoff.example",
    });
    try {
      // The server itself speaks http here; the issuer is what a TLS-terminating proxy publishes.
      const c = new FormClient(`http://127.0.0.1:${https.port}`);
      const page = await c.get("/device/sign-in");
      const csrf = page.headers.getSetCookie().find((h) => h.startsWith("__Host-handoff_csrf="));
      expect(csrf).toMatch(/; Secure/i);
      const res = await c.post("/device/sign-in", {
        _csrf: c.csrf(),
        ...ALICE,
        return_to: "/device",
      });
      const session = res.headers
        .getSetCookie()
        .find((h) => h.startsWith("__Host-handoff_session="));
      expect(session).toMatch(/; Secure/i);
      expect(session).toMatch(/; HttpOnly/i);
      expect(session).toMatch(/; SameSite=Lax/i);
    } finally {
      await https.close();
    }
  });

  it("sends a CSP without unsafe-inline and with frame-ancestors 'none', and no inline script or style", async () => {
    const c = await signedIn();
    const res = await c.get("/device");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("script-src 'self'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(c.lastPage).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(c.lastPage).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it("RFC 8628 §3.3: pages that show codes are never cached; assets are, under hashed names", async () => {
    const { user_code } = await authorizeDevice(server);
    const c = await signedIn();
    const entry = await c.get(`/device?user_code=${user_code}`);
    expect(entry.headers.get("cache-control")).toBe("no-store");
    const consent = await c.post("/device", { _csrf: c.csrf(), user_code });
    expect(consent.status).toBe(200);
    expect(consent.headers.get("cache-control")).toBe("no-store");
    const css = /href="(\/device\/assets\/style\.[\w-]+\.css)"/.exec(c.lastPage)?.[1] ?? "";
    const js = /src="(\/device\/assets\/code-input\.[\w-]+\.js)"/.exec(c.lastPage)?.[1] ?? "";
    for (const [path, type] of [
      [css, "text/css"],
      [js, "text/javascript"],
    ] as const) {
      const res = await fetch(server.issuer + path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain(type);
      expect(res.headers.get("cache-control")).toContain("immutable");
    }
    expect((await fetch(`${server.issuer}/device/assets/style.nothash.css`)).status).toBe(404);
  });
});

describe("redirects, errors and logs", () => {
  it("never redirects off-site after sign-in (return_to is checked)", async () => {
    for (const target of [
      "//evil.example/device",
      "https://evil.example/device",
      "/\\evil.example",
    ]) {
      const c = new FormClient(server.issuer);
      await c.get(`/device/sign-in?return_to=${encodeURIComponent(target)}`);
      const res = await c.post("/device/sign-in", { _csrf: c.csrf(), ...ALICE, return_to: target });
      expect(res.headers.get("location")).toBe("/device");
    }
  });

  it("sends people who are not signed in to sign in, keeping the verification_uri_complete code", async () => {
    const res = await fetch(`${server.issuer}/device?user_code=ABCD-EFGH`, { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(
      `/device/sign-in?return_to=${encodeURIComponent("/device?user_code=ABCD-EFGH")}`,
    );
  });

  it("answers unknown paths, wrong content types and expired codes with pages, never a stack trace", async () => {
    const c = await signedIn();
    const missing = await c.get("/device/nope");
    expect(missing.status).toBe(404);
    expect(c.lastPage).toContain("Page not found");
    const json = await fetch(`${server.issuer}/device`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(415);
    expect(json.headers.get("content-type")).toMatch(/^text\/html/);
    await c.get("/device");
    const gone = await c.post("/device/decision", {
      _csrf: c.csrf(),
      user_code: "WXYZ-2345",
      decision: "approve",
    });
    expect(gone.status).toBe(410);
    expect(c.lastPage).toContain("This code has expired");
    for (const page of [c.lastPage, await json.text()])
      expect(page).not.toMatch(/at .+\.(ts|js):\d+/);
  });

  it("signs out: the session ends on the server, not only in the cookie", async () => {
    const c = await signedIn();
    const session = c.cookie("handoff_session") ?? "";
    await c.get("/device");
    expect((await c.post("/device/sign-out", { _csrf: c.csrf() })).status).toBe(303);
    const replay = await fetch(`${server.issuer}/device`, {
      headers: { cookie: `handoff_session=${session}` },
      redirect: "manual",
    });
    expect(replay.status).toBe(303);
  });

  it("logs no user code, password, session id or CSRF token", async () => {
    const { user_code } = await authorizeDevice(server);
    const c = new FormClient(server.issuer);
    await c.get(`/device?user_code=${user_code}`);
    await c.get(
      `/device/sign-in?return_to=${encodeURIComponent(`/device?user_code=${user_code}`)}`,
    );
    const csrf = c.csrf();
    await c.post("/device/sign-in", { _csrf: csrf, ...ALICE, return_to: "/device" });
    await c.get("/device");
    await c.post("/device", { _csrf: c.csrf(), user_code });
    await c.post("/device/decision", { _csrf: c.csrf(), user_code, decision: "deny" });
    const logs = server.logs();
    expect(logs).toContain('"path":"/device/decision"');
    for (const secret of [
      user_code,
      user_code.replace("-", ""),
      ALICE.password,
      c.cookie("handoff_session") ?? "missing",
      c.cookie("handoff_csrf") ?? "missing",
      csrf,
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});
