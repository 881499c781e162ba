/**
 * RFC 7591 dynamic client registration at POST /oauth/register: the modes
 * (off, open, initial access token), the §3.2.1 response, the §3.2.2 errors,
 * the caps on every field, the per-address limit, the store cap and the
 * expiry of unused registrations; and the consent screen's "unverified" label.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ATTEMPT_LIMITS } from "../../src/auth/attempt-limits.js";
import { ALICE, FormClient, testUsers } from "../pages/page-fixtures.js";
import {
  authorizeDevice,
  DEVICE_GRANT,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import {
  INITIAL_TOKEN,
  register,
  registrationConfig,
  VS_CODE,
  WIDE_REGISTRATION_LIMITS,
} from "../support/registration-fixtures.js";

async function errorOf(res: Response): Promise<{ error: string; error_description: string }> {
  return (await res.json()) as { error: string; error_description: string };
}

async function storedCount(server: TestServer): Promise<number> {
  return (await server.clientStore.list(undefined, 10_000, Date.now())).clients.length;
}

describe("registration off", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it("RFC 8414 §2: no registration_endpoint in the metadata, and no endpoint", async () => {
    const meta = await (
      await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
    ).json();
    expect(meta).not.toHaveProperty("registration_endpoint");
    expect((await register(server, VS_CODE)).status).toBe(404);
  });
});

describe("open registration", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      registration: registrationConfig(),
      authenticator: await testUsers(),
      attemptLimits: WIDE_REGISTRATION_LIMITS,
    });
  });
  afterAll(async () => server.close());

  it("RFC 8414 §2, RFC 7591 §3: the metadata names the endpoint", async () => {
    const meta = (await (
      await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(meta.registration_endpoint).toBe(`${server.issuer}/oauth/register`);
  });

  it("RFC 7591 §3.2.1: 201 with client_id, client_id_issued_at and the registered metadata; no secret for a public client", async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await register(server, { ...VS_CODE, scope: "read nonsense", logo_uri: "x" });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(body.client_id_issued_at).toBeGreaterThanOrEqual(before);
    expect(body).toMatchObject({
      client_name: "Visual Studio Code",
      grant_types: VS_CODE.grant_types,
      response_types: ["code"],
      redirect_uris: VS_CODE.redirect_uris,
      token_endpoint_auth_method: "none",
      software_id: "vscode",
      // Requested scopes the server does not have are dropped (§3.2.1: the response says what was registered).
      scope: "read",
    });
    expect(body).not.toHaveProperty("client_secret");
    expect(body).not.toHaveProperty("logo_uri");
    // The device flow accepts the new client at once, with only client_id (a public client).
    const d = await authorizeDevice(server, { client_id: String(body.client_id), scope: "read" });
    expect(d.user_code).toBeTruthy();
  });

  it("RFC 7591 §2: without token_endpoint_auth_method an open server registers a public client", async () => {
    const res = await register(server, { grant_types: [DEVICE_GRANT] });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      token_endpoint_auth_method: "none",
      grant_types: [DEVICE_GRANT],
      response_types: [],
      redirect_uris: [],
    });
  });

  it("RFC 7591 §3.2.2: refuses confidential clients without an initial access token, and stores nothing", async () => {
    const before = await storedCount(server);
    for (const method of ["client_secret_basic", "client_secret_post", "private_key_jwt"]) {
      const res = await register(server, { ...VS_CODE, token_endpoint_auth_method: method });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).error).toBe("invalid_client_metadata");
    }
    expect(await storedCount(server)).toBe(before);
  });

  it("RFC 7591 §3.2.2 invalid_redirect_uri: the domain's redirect rule, a code grant without one, the caps", async () => {
    const before = await storedCount(server);
    const cases: unknown[] = [
      ["http://evil.example/cb"],
      ["https://app.example/cb#frag"],
      ["javascript:alert(1)"],
      ["https://user:pw@app.example/cb"],
      "https://app.example/cb",
      [42],
      ["https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4"],
      [`https://app.example/${"x".repeat(200)}`],
    ];
    for (const redirect_uris of cases) {
      const res = await register(server, { ...VS_CODE, redirect_uris });
      expect(res.status, JSON.stringify(redirect_uris)).toBe(400);
      expect((await errorOf(res)).error).toBe("invalid_redirect_uri");
    }
    const { redirect_uris: _, ...withoutRedirects } = VS_CODE;
    expect((await errorOf(await register(server, withoutRedirects))).error).toBe(
      "invalid_redirect_uri",
    );
    expect(await storedCount(server)).toBe(before);
  });

  it("RFC 7591 §3.2.2 invalid_client_metadata: grants not allowed, inconsistent response types, bad names, bad JSON", async () => {
    const before = await storedCount(server);
    const cases: unknown[] = [
      { ...VS_CODE, grant_types: ["client_credentials"] },
      { ...VS_CODE, grant_types: ["implicit"], response_types: ["token"] },
      { ...VS_CODE, response_types: ["code", "token"] },
      { grant_types: [DEVICE_GRANT], response_types: ["code"] },
      { ...VS_CODE, response_types: [] },
      { ...VS_CODE, client_name: "n".repeat(41) },
      { ...VS_CODE, client_name: "Visual Studio \u202Eedoc" },
      { ...VS_CODE, client_name: "line\nbreak" },
      { ...VS_CODE, client_name: 7 },
      { ...VS_CODE, scope: ["read"] },
      { ...VS_CODE, software_version: "v".repeat(41) },
      { ...VS_CODE, grant_types: "authorization_code" },
      [VS_CODE],
      "null",
      "{not json",
      "",
    ];
    for (const body of cases) {
      const res = await register(server, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await errorOf(res)).error, JSON.stringify(body)).toBe("invalid_client_metadata");
    }
    expect(await storedCount(server)).toBe(before);
  });

  it("RFC 7591 §3.1: the body is JSON within the size limit (a form is refused; over the limit is 413)", async () => {
    const form = await fetch(`${server.issuer}/oauth/register`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "client_name=x",
    });
    expect(form.status).toBe(400);
    expect((await errorOf(form)).error).toBe("invalid_client_metadata");
    const big = await register(server, { ...VS_CODE, padding: "p".repeat(5000) });
    expect(big.status).toBe(413);
    expect((await errorOf(big)).error).toBe("invalid_client_metadata");
    const get = await fetch(`${server.issuer}/oauth/register`);
    expect(get.status).toBe(405);
  });

  it("RFC 7591 §5: the consent screen labels a registered client unverified and renders its name as text", async () => {
    const name = `<img src=x onerror=alert(1)> "Helper"`;
    const res = await register(server, { ...VS_CODE, client_name: name.slice(0, 40) });
    const { client_id } = (await res.json()) as { client_id: string };
    const { user_code } = await authorizeDevice(server, { client_id, scope: "read" });
    const page = new FormClient(server.issuer);
    await page.signIn(ALICE);
    await page.get("/device");
    expect((await page.post("/device", { _csrf: page.csrf(), user_code })).status).toBe(200);
    expect(page.lastPage).toContain("Unverified application");
    expect(page.lastPage).toContain('<span class="tag unverified">unverified</span>');
    expect(page.lastPage).not.toContain("<img");
    expect(page.lastPage).toContain("&lt;img src=x onerror=alert(1)&gt; &quot;Helper&quot;");
    // A file client gets no label.
    const file = await authorizeDevice(server, { client_id: "public-cli" });
    await page.get("/device");
    await page.post("/device", { _csrf: page.csrf(), user_code: file.user_code });
    expect(page.lastPage).not.toContain("Unverified application");
  });
});

describe("registration with an initial access token", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      registration: registrationConfig({ mode: "token", initialAccessToken: INITIAL_TOKEN }),
      attemptLimits: WIDE_REGISTRATION_LIMITS,
    });
  });
  afterAll(async () => server.close());

  it("RFC 7591 §3, RFC 6750 §3.1: no token or a wrong one is 401 invalid_token with a Bearer challenge", async () => {
    for (const headers of [
      {},
      { authorization: `Bearer ${INITIAL_TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`a:${INITIAL_TOKEN}`).toString("base64")}` },
    ]) {
      const res = await register(server, VS_CODE, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer .*error="invalid_token"/);
      expect((await errorOf(res)).error).toBe("invalid_token");
    }
  });

  it("RFC 7591 §3.2.1: a confidential client gets its secret once; it is stored hashed and works at the device endpoint", async () => {
    const res = await register(
      server,
      { ...VS_CODE, token_endpoint_auth_method: "client_secret_basic" },
      { authorization: `Bearer ${INITIAL_TOKEN}` },
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, string | number>;
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.client_secret_expires_at).toBe(0);
    const stored = await server.clientStore.get(String(body.client_id), Date.now());
    expect(stored?.client.secretHash).toMatch(/^sha256:/);
    expect(JSON.stringify(stored)).not.toContain(String(body.client_secret));
    const basic = Buffer.from(`${body.client_id}:${body.client_secret}`).toString("base64");
    const ok = await server.post(
      "/oauth/device/authorize",
      { scope: "read" },
      { authorization: `Basic ${basic}` },
    );
    expect(ok.status).toBe(200);
    const wrong = await server.post("/oauth/device/authorize", {
      client_id: String(body.client_id),
      scope: "read",
    });
    expect(wrong.status).toBe(401);
    // Omitted, the method is RFC 7591 §2's default, client_secret_basic.
    const dflt = await register(
      server,
      { grant_types: [DEVICE_GRANT] },
      { authorization: `Bearer ${INITIAL_TOKEN}` },
    );
    expect(await dflt.json()).toMatchObject({ token_endpoint_auth_method: "client_secret_basic" });
  });
});

describe("registration limits", () => {
  it("caps the registered clients (HANDOFF_REGISTRATION_MAX_CLIENTS): past it, 503 temporarily_unavailable", async () => {
    const server = await startTestServer({ registration: registrationConfig({ maxClients: 2 }) });
    try {
      expect((await register(server, VS_CODE)).status).toBe(201);
      expect((await register(server, VS_CODE)).status).toBe(201);
      const third = await register(server, VS_CODE);
      expect(third.status).toBe(503);
      expect((await errorOf(third)).error).toBe("temporarily_unavailable");
    } finally {
      await server.close();
    }
  });

  it("forgets a registration left unused for HANDOFF_REGISTRATION_IDLE_TTL; use keeps it", async () => {
    const server = await startTestServer({
      registration: registrationConfig({ idleTtl: 1 }),
      attemptLimits: WIDE_REGISTRATION_LIMITS,
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await register(server, { grant_types: [DEVICE_GRANT] });
        ids.push(((await res.json()) as { client_id: string }).client_id);
      }
      const [unused = "", used = ""] = ids;
      for (let i = 0; i < 3; i++) {
        await sleep(450);
        expect((await server.post("/oauth/device/authorize", { client_id: used })).status).toBe(
          200,
        );
      }
      expect((await server.post("/oauth/device/authorize", { client_id: unused })).status).toBe(
        401,
      );
    } finally {
      await server.close();
    }
  });

  it("limits registrations per address (HANDOFF_REGISTRATION_LIMIT_PER_ADDRESS): 429 with Retry-After", async () => {
    const server = await startTestServer({
      registration: registrationConfig(),
      attemptLimits: { ...DEFAULT_ATTEMPT_LIMITS, registrationPerAddress: 2, firstDelayMs: 60_000 },
    });
    try {
      // Refused registrations count too: probing is not free.
      expect((await register(server, { ...VS_CODE, grant_types: ["x"] })).status).toBe(400);
      expect((await register(server, VS_CODE)).status).toBe(201);
      // The one past the allowance goes through and starts the delay (attempt-limits.ts).
      expect((await register(server, VS_CODE)).status).toBe(201);
      const refused = await register(server, VS_CODE);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
});

describe("registration on Redis, two instances", () => {
  let redis: RedisProcess;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    redis = await startRedis();
    const limits = { ...DEFAULT_ATTEMPT_LIMITS, registrationPerAddress: 1, firstDelayMs: 60_000 };
    const servers = await Promise.all(
      [0, 1].map(() =>
        startTestServer({
          redis: { url: redis.url },
          registration: registrationConfig(),
          attemptLimits: limits,
        }),
      ),
    );
    a = servers[0] as TestServer;
    b = servers[1] as TestServer;
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it("a client registered on one instance works on the other, and the per-address limit is shared", async () => {
    const res = await register(a, { grant_types: [DEVICE_GRANT] });
    expect(res.status).toBe(201);
    const { client_id } = (await res.json()) as { client_id: string };
    expect((await b.post("/oauth/device/authorize", { client_id })).status).toBe(200);
    // The first past the allowance starts the delay; the next one, on the other instance, waits it out.
    expect((await register(b, { grant_types: [DEVICE_GRANT] })).status).toBe(201);
    expect((await register(a, { grant_types: [DEVICE_GRANT] })).status).toBe(429);
  });
});
