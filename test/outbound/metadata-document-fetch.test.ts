/**
 * Client ID Metadata Documents (MCP 2025-11-25): the SSRF-safe fetch against
 * a real https server on loopback (a CA made at test time), and a handoff
 * server that takes an https client_id. Documents that lie about their
 * client_id, are too large, slow, redirect or resolve to a private address
 * are refused; good ones are cached per Cache-Control, within a floor and a ceiling.
 */
import type { ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ATTEMPT_LIMITS } from "../../src/auth/attempt-limits.js";
import { isPermittedAddress } from "../../src/outbound/address-vetting.js";
import {
  maxAgeOf,
  type SafeFetchOptions,
  SafeMetadataDocumentFetcher,
} from "../../src/outbound/metadata-document-fetch.js";
import type { MetadataDocumentsConfig } from "../../src/server/handoff-server.js";
import { ALICE, FormClient, testUsers } from "../pages/page-fixtures.js";
import {
  authorizeDevice,
  DEVICE_GRANT,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { generateTestCertificate, type TestCertificate } from "../support/test-ca.js";

let cert: TestCertificate;
let docs: https.Server;
let port = 0;
const hits = new Map<string, number>();

/** What each path of the document server answers. */
function route(path: string, res: ServerResponse, self: string) {
  const json = (body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(200, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
  const doc = (over: Record<string, unknown> = {}) => ({
    client_id: self,
    client_name: "Docs Client",
    grant_types: [DEVICE_GRANT, "refresh_token"],
    token_endpoint_auth_method: "none",
    ...over,
  });
  switch (path) {
    case "/good.json":
    case "/cached.json":
      return json(doc(), { "cache-control": "public, max-age=1" });
    case "/forever.json":
      return json(doc(), { "cache-control": "max-age=999999999" });
    case "/liar.json":
      return json(doc({ client_id: `https://localhost:${port}/other.json` }));
    case "/secret.json":
      return json(doc({ token_endpoint_auth_method: "client_secret_basic" }));
    case "/huge.json":
      return json(doc({ client_name: "Huge", padding: "x".repeat(10_000) }));
    case "/chunked-huge.json":
      res.writeHead(200, { "content-type": "application/json" });
      for (let i = 0; i < 20; i++) res.write(" ".repeat(1000));
      return void res.end("{}");
    case "/slow.json":
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"client_id":');
      return void setTimeout(() => res.end(`"${self}"}`), 3000);
    case "/redirect.json":
      res.writeHead(302, { location: `https://localhost:${port}/good.json` });
      return void res.end();
    default:
      res.writeHead(404);
      res.end();
  }
}

beforeAll(async () => {
  cert = generateTestCertificate();
  docs = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    route(path, res, `https://${req.headers.host}${path}`);
  });
  await new Promise<void>((r) => docs.listen(0, "127.0.0.1", () => r()));
  port = (docs.address() as AddressInfo).port;
});
afterAll(async () => {
  docs.closeAllConnections();
  await new Promise<void>((r) => docs.close(() => r()));
});

const url = (path: string, host = "localhost") => `https://${host}:${port}${path}`;
const fetcher = (over: Partial<SafeFetchOptions> = {}) =>
  new SafeMetadataDocumentFetcher({
    timeoutMs: 1000,
    maxBytes: 5120,
    allowLoopback: true,
    ca: cert.cert,
    ...over,
  });

describe("address vetting (RFC 6890 special-purpose ranges)", () => {
  it("lets only global unicast through", () => {
    for (const a of ["93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"])
      expect(isPermittedAddress(a, false), a).toBe(true);
    // biome-ignore format: a list of addresses
    const inward = [
      "10.0.0.5", "172.16.1.1", "192.168.0.1", "127.0.0.1", "169.254.169.254", "100.64.0.1",
      "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1", "::1", "::", "fe80::1",
      "fd00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
      "2002:a00:1::", "not-an-ip",
    ];
    for (const a of inward) expect(isPermittedAddress(a, false), a).toBe(false);
    expect(isPermittedAddress("127.0.0.1", true)).toBe(true);
    expect(isPermittedAddress("10.0.0.5", true)).toBe(false);
  });

  it("reads max-age, and no-store / no-cache as 0", () => {
    expect(maxAgeOf("public, max-age=300")).toBe(300);
    expect(maxAgeOf("no-store")).toBe(0);
    expect(maxAgeOf("private, no-cache, max-age=60")).toBe(0);
    expect(maxAgeOf(undefined)).toBeUndefined();
  });
});

describe("the SSRF-safe fetch", () => {
  it("fetches a document over https from a vetted address, with its max-age", async () => {
    const got = await fetcher().fetch(url("/good.json"));
    expect(got.maxAgeSeconds).toBe(1);
    expect(got.body).toMatchObject({ client_id: url("/good.json") });
  });

  it("connects to the address it vetted: a name only the test's resolver knows (no second lookup to rebind)", async () => {
    let asked = 0;
    const got = await fetcher({
      resolve: async () => {
        asked++;
        return [{ address: "127.0.0.1", family: 4 }];
      },
    }).fetch(url("/good.json", "docs.test"));
    expect(got.body).toMatchObject({ client_id: url("/good.json", "docs.test") });
    expect(asked).toBe(1);
  });

  it("refuses a name that resolves to a private or loopback address, before connecting", async () => {
    const before = hits.get("/good.json") ?? 0;
    const privateName = fetcher({ resolve: async () => [{ address: "10.0.0.5", family: 4 }] });
    await expect(privateName.fetch(url("/good.json", "docs.test"))).rejects.toThrow(/non-public/);
    // One inward answer among public ones is enough to refuse.
    const mixed = fetcher({
      resolve: async () => [
        { address: "93.184.216.34", family: 4 },
        { address: "169.254.169.254", family: 4 },
      ],
    });
    await expect(mixed.fetch(url("/good.json", "docs.test"))).rejects.toThrow(/non-public/);
    const strict = fetcher({ allowLoopback: false });
    await expect(strict.fetch(url("/good.json"))).rejects.toThrow(/non-public/);
    await expect(strict.fetch(url("/good.json", "127.0.0.1"))).rejects.toThrow(/non-public/);
    await expect(strict.fetch(`https://[::1]:${port}/good.json`)).rejects.toThrow(/non-public/);
    expect(hits.get("/good.json") ?? 0).toBe(before);
  });

  it("refuses http, redirects, too large (declared or streamed), slow answers and an unknown CA", async () => {
    await expect(fetcher().fetch(`http://localhost:${port}/good.json`)).rejects.toThrow(/https/);
    await expect(fetcher().fetch(url("/redirect.json"))).rejects.toThrow(/redirect/);
    await expect(fetcher().fetch(url("/huge.json"))).rejects.toThrow(/larger than 5120/);
    await expect(fetcher().fetch(url("/chunked-huge.json"))).rejects.toThrow(/larger than 5120/);
    const started = Date.now();
    await expect(fetcher({ timeoutMs: 300 }).fetch(url("/slow.json"))).rejects.toThrow(/300 ms/);
    expect(Date.now() - started).toBeLessThan(2500);
    const systemCas = new SafeMetadataDocumentFetcher({
      timeoutMs: 1000,
      maxBytes: 5120,
      allowLoopback: true,
    });
    await expect(systemCas.fetch(url("/good.json"))).rejects.toThrow();
  });
});

describe.each(["memory", "redis"] as const)(
  "an https client_id at a handoff server on %s",
  (store) => {
    let server: TestServer;
    let redis: RedisProcess | undefined;
    // The document cache is a space of the client store: on Redis, shared by instances.
    const storeConfig = () =>
      redis
        ? {
            redis: { url: redis.url },
            redisKeyPrefix: `cimd-${Math.random().toString(36).slice(2)}:`,
          }
        : {};
    const config = (over: Partial<MetadataDocumentsConfig> = {}): MetadataDocumentsConfig => ({
      timeoutMs: 500,
      maxBytes: 5120,
      cacheMinTtl: 1,
      cacheMaxTtl: 3600,
      cacheMaxEntries: 100,
      maxConcurrentFetches: 16,
      grants: ["authorization_code", "refresh_token", DEVICE_GRANT],
      limits: { maxRedirectUris: 10, maxUriLength: 1024, maxNameLength: 128 },
      allowLoopback: true,
      ca: cert.cert,
      ...over,
    });
    beforeAll(async () => {
      hits.clear();
      if (store === "redis") redis = await startRedis();
      server = await startTestServer({
        metadataDocuments: config(),
        authenticator: await testUsers(),
        ...storeConfig(),
      });
    });
    afterAll(async () => {
      await server.close();
      await redis?.stop();
    });

    it("MCP 2025-11-25: the metadata says client_id_metadata_document_supported", async () => {
      const meta = (await (
        await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
      ).json()) as Record<string, unknown>;
      expect(meta.client_id_metadata_document_supported).toBe(true);
    });

    it("a device flow with a document's URL as client_id; the consent screen shows the document's host", async () => {
      const { user_code } = await authorizeDevice(server, { client_id: url("/good.json") });
      const page = new FormClient(server.issuer);
      await page.signIn(ALICE);
      await page.get("/device");
      await page.post("/device", { _csrf: page.csrf(), user_code });
      expect(page.lastPage).toContain("Docs Client");
      expect(page.lastPage).toContain(`Described by <span class="mono">localhost:${port}</span>`);
    });

    it("caches a document for its max-age (floor and ceiling applied), then fetches it again", async () => {
      const id = url("/cached.json");
      for (let i = 0; i < 3; i++) await authorizeDevice(server, { client_id: id });
      expect(hits.get("/cached.json")).toBe(1);
      await sleep(1200);
      await authorizeDevice(server, { client_id: id });
      expect(hits.get("/cached.json")).toBe(2);
      const forever = url("/forever.json");
      const before = Date.now();
      await authorizeDevice(server, { client_id: forever });
      // Its max-age of ~31 years is clamped to the 3600 s ceiling.
      const [cached] = (await server.documentCache?.list(forever.slice(0, -1), 1, Date.now()))
        ?.clients ?? [undefined];
      expect(cached?.client.id).toBe(forever);
      expect(cached?.expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
      expect(cached?.expiresAt).toBeGreaterThanOrEqual(before + 3_599_000);
    });

    it("refuses, as invalid_client, documents that lie about client_id, want a secret, are too large, slow, redirect or missing", async () => {
      const paths = [
        "/liar.json",
        "/secret.json",
        "/huge.json",
        "/slow.json",
        "/redirect.json",
        "/missing.json",
      ];
      for (const path of paths) {
        const res = await server.post("/oauth/device/authorize", { client_id: url(path) });
        expect(res.status, path).toBe(401);
        const body = (await res.json()) as { error: string; error_description: string };
        expect(body.error, path).toBe("invalid_client");
        expect(body.error_description, path).toContain("client metadata document");
      }
      // Not a document id at all (http, a fragment, no path): an ordinary unknown client.
      for (const id of [`http://localhost:${port}/good.json`, `${url("/good.json")}#x`, url("/")]) {
        const res = await server.post("/oauth/device/authorize", { client_id: id });
        expect(res.status).toBe(401);
      }
    });

    it("one address can make it fetch only so many documents; cached ones, and other addresses, are still served", async () => {
      const limited = await startTestServer({
        ...storeConfig(),
        metadataDocuments: config(),
        authenticator: await testUsers(),
        trustProxy: "127.0.0.1",
        attemptLimits: {
          ...DEFAULT_ATTEMPT_LIMITS,
          metadataFetchPerAddress: 3,
          firstDelayMs: 60_000,
        },
      });
      const from = (ip: string) => ({ "x-forwarded-for": ip });
      try {
        const good = url("/good.json");
        // A fetch is charged to the address that caused it: the good document, then three
        // misses (3 free, the 4th starts the delay: the counters' rule, docs/hostile-input.md).
        expect(
          (await limited.post("/oauth/device/authorize", { client_id: good }, from("203.0.113.7")))
            .status,
        ).toBe(200);
        for (const n of [1, 2, 3]) {
          const res = await limited.post(
            "/oauth/device/authorize",
            { client_id: url(`/missing-${n}.json`) },
            from("203.0.113.7"),
          );
          expect(res.status).toBe(401);
        }
        const fetchedBefore = hits.get("/missing-5.json") ?? 0;
        // A fifth distinct document from the same address: refused before any fetch.
        const refused = await limited.post(
          "/oauth/device/authorize",
          { client_id: url("/missing-5.json") },
          from("203.0.113.7"),
        );
        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(((await refused.json()) as { error: string }).error).toBe("temporarily_unavailable");
        expect(hits.get("/missing-5.json") ?? 0).toBe(fetchedBefore);
        // The same through the authorization endpoint (a browser's GET).
        const authorize = await fetch(
          `${limited.issuer}/oauth/authorize?response_type=code&client_id=${encodeURIComponent(url("/missing-6.json"))}`,
          { headers: from("203.0.113.7"), redirect: "manual" },
        );
        expect(authorize.status).toBe(429);
        expect(hits.get("/missing-6.json") ?? 0).toBe(0);
        // The cached document costs nothing: still served to the limited address.
        expect(
          (await limited.post("/oauth/device/authorize", { client_id: good }, from("203.0.113.7")))
            .status,
        ).toBe(200);
        // Another address has its own budget.
        const other = await limited.post(
          "/oauth/device/authorize",
          { client_id: url("/missing-5.json") },
          from("198.51.100.9"),
        );
        expect(other.status).toBe(401);
        expect(hits.get("/missing-5.json")).toBe(fetchedBefore + 1);
        expect(limited.logs()).toContain('"limit":"metadata-document-fetch"');
      } finally {
        await limited.close();
      }
    });

    it("without loopback allowed, a loopback document host is refused", async () => {
      const strict = await startTestServer({
        ...storeConfig(),
        metadataDocuments: config({ allowLoopback: false }),
      });
      try {
        const res = await strict.post("/oauth/device/authorize", { client_id: url("/good.json") });
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error_description: string }).error_description).toMatch(
          /non-public/,
        );
      } finally {
        await strict.close();
      }
    });
  },
);
