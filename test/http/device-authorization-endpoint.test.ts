/** The device authorization endpoint as a black box (RFC 8628 §3.1–§3.3, §5.2, §6.1). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import { CONFIDENTIAL_SECRET, FAST_SECRET } from "../support/test-clients.js";

const PATH = "/oauth/device/authorize";
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.close());

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret).replaceAll("%20", "+")}`).toString("base64")}`;

async function expectError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const body = (await res.json()) as { error: string; error_description?: string };
  expect(body.error).toBe(error);
  // RFC 6749 §5.2: error_description stays within %x20-21 / %x23-5B / %x5D-7E.
  if (body.error_description !== undefined)
    expect(body.error_description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]*$/);
  return body;
}

describe("RFC 8628 §3.1 request", () => {
  it("RFC 8628 §3.1: accepts a form body with ;charset=UTF-8", async () => {
    const res = await fetch(server.issuer + PATH, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8" },
      body: "client_id=public-cli",
    });
    expect(res.status).toBe(200);
  });

  it("RFC 8628 §3.1: other methods get 405 with Allow: POST", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const res = await fetch(server.issuer + PATH, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
    }
  });

  it("RFC 8628 §3.1: a JSON body is invalid_request, not a 5xx", async () => {
    const res = await fetch(server.issuer + PATH, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: "public-cli" }),
    });
    await expectError(res, 400, "invalid_request");
  });

  it("a body over the documented limit is 413 invalid_request", async () => {
    const res = await server.post(PATH, { client_id: "public-cli", pad: "x".repeat(5000) });
    await expectError(res, 413, "invalid_request");
  });

  it("malformed percent-encoding is invalid_request", async () => {
    const res = await fetch(server.issuer + PATH, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "client_id=public-cli&scope=%E0%A4%A",
    });
    await expectError(res, 400, "invalid_request");
  });

  it("RFC 8628 §3.1: empty parameters count as omitted; unknown ones are ignored", async () => {
    const res = await server.post(PATH, { client_id: "public-cli", scope: "", color: "blue" });
    expect(res.status).toBe(200);
    await expectError(await server.post(PATH, { client_id: "" }), 400, "invalid_request");
  });

  it("RFC 8628 §3.1: a repeated parameter is invalid_request", async () => {
    await expectError(
      await server.post(PATH, { client_id: ["public-cli", "public-cli"] }),
      400,
      "invalid_request",
    );
    await expectError(
      await server.post(PATH, { client_id: "public-cli", scope: ["read", "write"] }),
      400,
      "invalid_request",
    );
  });

  it("RFC 8628 §3.1 / RFC 8707: resource may repeat", async () => {
    const res = await server.post(PATH, {
      client_id: "public-cli",
      resource: ["https://a.example/", "https://b.example/"],
    });
    expect(res.status).toBe(200);
  });

  it("RFC 8707 §2: a relative or fragment resource is invalid_target", async () => {
    await expectError(
      await server.post(PATH, { client_id: "public-cli", resource: "/mcp" }),
      400,
      "invalid_target",
    );
    await expectError(
      await server.post(PATH, { client_id: "public-cli", resource: "https://a.example/#x" }),
      400,
      "invalid_target",
    );
  });

  it("RFC 6749 §3.3: without scope the client's default scopes apply", async () => {
    const res = await server.post(PATH, { client_id: "public-cli" });
    expect(res.status).toBe(200);
    const code = ((await res.json()) as { user_code: string }).user_code;
    expect((await server.flow.describe(code)).scopes).toEqual(["read"]);
  });
});

describe("RFC 8628 §3.1 client authentication", () => {
  it("confidential clients authenticate with client_secret_basic (form-url-encoded id and secret)", async () => {
    const res = await server.post(
      PATH,
      {},
      { authorization: basic("confidential-agent", CONFIDENTIAL_SECRET) },
    );
    expect(res.status).toBe(200);
  });

  it("and with client_secret_post", async () => {
    const res = await server.post(PATH, {
      client_id: "confidential-agent",
      client_secret: CONFIDENTIAL_SECRET,
    });
    expect(res.status).toBe(200);
    const fast = await server.post(PATH, {
      client_id: "fast-hash-agent",
      client_secret: FAST_SECRET,
    });
    expect(fast.status).toBe(200);
  });

  it("a missing secret is 401 invalid_client", async () => {
    await expectError(
      await server.post(PATH, { client_id: "confidential-agent" }),
      401,
      "invalid_client",
    );
  });

  it("a wrong secret is 401 invalid_client; with Basic, a WWW-Authenticate challenge (RFC 6749 §5.2)", async () => {
    await expectError(
      await server.post(PATH, { client_id: "confidential-agent", client_secret: "nope" }),
      401,
      "invalid_client",
    );
    const res = await server.post(PATH, {}, { authorization: basic("confidential-agent", "nope") });
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    await expectError(res, 401, "invalid_client");
  });

  it("RFC 6749 §2.3.1: two authentication methods at once are invalid_request", async () => {
    const res = await server.post(
      PATH,
      { client_secret: CONFIDENTIAL_SECRET },
      { authorization: basic("confidential-agent", CONFIDENTIAL_SECRET) },
    );
    await expectError(res, 400, "invalid_request");
  });

  it("RFC 6749 §2.3.1: credentials in the query string are refused", async () => {
    const res = await fetch(
      `${server.issuer + PATH}?client_secret=${encodeURIComponent(CONFIDENTIAL_SECRET)}`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "client_id=confidential-agent",
      },
    );
    await expectError(res, 400, "invalid_request");
  });

  it("a public client that sends a secret is refused", async () => {
    await expectError(
      await server.post(PATH, { client_id: "public-cli", client_secret: "x" }),
      401,
      "invalid_client",
    );
  });
});

describe("RFC 8628 §3.2 response and RFC 8628 §3.3 URIs", () => {
  it("RFC 8628 §3.2, RFC 8628 §3.3: 200 JSON with codes, URIs, integer expires_in and interval, no-store", async () => {
    const res = await server.post(PATH, { client_id: "public-cli", scope: "read write" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      [
        "device_code",
        "expires_in",
        "interval",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
      ].sort(),
    );
    expect(body.user_code).toMatch(/^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/);
    expect(Number.isInteger(body.expires_in)).toBe(true);
    expect(body.expires_in).toBe(60);
    expect(body.interval).toBe(1);
    expect(body.verification_uri).toBe(`${server.issuer}/device`);
    expect(String(body.verification_uri)).not.toContain(String(body.user_code));
    const complete = new URL(String(body.verification_uri_complete));
    expect(complete.searchParams.get("user_code")).toBe(body.user_code);
  });

  it("RFC 8628 §3.2: the answer is the JSON serialisation of its fields in order, as application/json; charset=utf-8", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await server.post(PATH, { client_id: "public-cli" });
      expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
      const text = await res.text();
      const body = JSON.parse(text) as Record<string, unknown>;
      const { device_code, user_code, verification_uri, verification_uri_complete } = body;
      const { expires_in, interval } = body;
      expect(text).toBe(
        JSON.stringify({
          device_code,
          user_code,
          verification_uri,
          verification_uri_complete,
          expires_in,
          interval,
        }),
      );
      expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(text)));
    }
  });

  it("RFC 8628 §3.2: an unknown or inactive client is 401 invalid_client", async () => {
    await expectError(await server.post(PATH, { client_id: "nobody" }), 401, "invalid_client");
    await expectError(
      await server.post(PATH, { client_id: "inactive-cli" }),
      401,
      "invalid_client",
    );
  });

  it("RFC 8628 §3.2: a client without the device grant is 400 unauthorized_client", async () => {
    await expectError(
      await server.post(PATH, { client_id: "refresh-only" }),
      400,
      "unauthorized_client",
    );
  });

  it("RFC 8628 §3.2: a scope outside the client's is invalid_scope", async () => {
    await expectError(
      await server.post(PATH, { client_id: "public-cli", scope: "read root" }),
      400,
      "invalid_scope",
    );
  });

  it("§5.4: records where the request came from", async () => {
    const res = await server.post(
      PATH,
      { client_id: "public-cli" },
      { "user-agent": "my-mcp-cli/2.1 (linux)" },
    );
    const { user_code } = (await res.json()) as { user_code: string };
    const view = await server.flow.describe(user_code);
    expect(view.userAgent).toBe("my-mcp-cli/2.1 (linux)");
    expect(view.ipAddress).toMatch(/127\.0\.0\.1/);
    expect(view.clientName).toBe("Public Test CLI");
  });
});

describe("memory store bound (HANDOFF_MEMORY_MAX_PENDING)", () => {
  it("past it: 503 temporarily_unavailable with Retry-After, and the server keeps serving", async () => {
    const small = await startTestServer({ memoryMaxPending: 2 });
    try {
      for (let i = 0; i < 2; i++)
        expect((await small.post(PATH, { client_id: "public-cli" })).status).toBe(200);
      const res = await small.post(PATH, { client_id: "public-cli" });
      expect(res.headers.get("retry-after")).toBe("5");
      await expectError(res, 503, "temporarily_unavailable");
      expect((await fetch(`${small.issuer}/healthz`)).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
