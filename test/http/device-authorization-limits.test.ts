/**
 * Creating device authorizations is limited per requester
 * address per window and per client (docs/hostile-input.md). One address
 * that floods is refused (429 `temporarily_unavailable` with Retry-After,
 * RPC RESOURCE_EXHAUSTED) and nothing it sends past the limit is stored; a
 * second address is still served. Addresses come from `X-Forwarded-For`
 * through a trusted proxy (loopback), over HTTP and RPC alike.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DeviceAuthService,
  ErrorCode,
  OAuthErrorSchema,
} from "../../gen/handoff/v1/device_auth_pb.js";
import { DEFAULT_ATTEMPT_LIMITS } from "../../src/auth/attempt-limits.js";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import { type RedisClusterProcess, startRedisCluster } from "../support/redis-cluster.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { FAST_SECRET } from "../support/test-clients.js";

const PER_ADDRESS = 5;
const METRICS_TOKEN = "test-metrics-token-0123456789abcdef0123456789";
const FLOOD = 20;
// A long first delay: a loaded machine must not outlast it between two requests.
const LIMITS = { authorizePerAddress: PER_ADDRESS, firstDelayMs: 60_000 };

const from = (ip: string) => ({ "x-forwarded-for": ip });
const authorize = (s: TestServer, ip: string, client = "public-cli") =>
  s.post(
    "/oauth/device/authorize",
    client === "public-cli"
      ? { client_id: client }
      : { client_id: client, client_secret: FAST_SECRET },
    from(ip),
  );

/** Connect over HTTP/1.1, as from `ip` behind the trusted proxy. */
function rpcFrom(s: TestServer, ip: string) {
  return createClient(
    DeviceAuthService,
    createConnectTransport({
      baseUrl: s.issuer,
      httpVersion: "1.1",
      interceptors: [
        (next) => (req) => {
          req.header.set("x-forwarded-for", ip);
          return next(req);
        },
      ],
    }),
  );
}

// On a Cluster the counter's keys and the record's are in different slots:
// charged concurrently, the write undone on refusal (src/domain/device-flow.ts).
for (const backend of ["memory", "redis", "redis-cluster"] as const) {
  describe(`device authorization flood, ${backend} store`, () => {
    let redis: RedisProcess | undefined;
    let cluster: RedisClusterProcess | undefined;
    let keys: Redis | undefined;
    let server: TestServer;
    beforeAll(async () => {
      if (backend === "redis") {
        redis = await startRedis();
        keys = new Redis(redis.url);
      }
      if (backend === "redis-cluster") cluster = await startRedisCluster();
      server = await startTestServer({
        trustProxy: "127.0.0.1",
        attemptLimits: LIMITS,
        metricsToken: METRICS_TOKEN,
        ...(redis ? { redis: { url: redis.url } } : {}),
        ...(cluster ? { redis: { clusterNodes: cluster.seeds } } : {}),
      });
    });
    afterAll(async () => {
      await server.close();
      keys?.disconnect();
      await redis?.stop();
      await cluster?.stop();
    });

    const storedRecords = async () => (keys ? (await keys.keys("device:code:*")).length : 0);

    it(`${FLOOD} requests from one address: ${PER_ADDRESS + 1} served, the rest 429 temporarily_unavailable with Retry-After, nothing stored past the limit; a second address is served`, async () => {
      const statuses: number[] = [];
      let refused: Response | undefined;
      for (let i = 0; i < FLOOD; i++) {
        const res = await authorize(server, "203.0.113.7");
        statuses.push(res.status);
        if (res.status === 429) refused = res;
        else await res.body?.cancel();
      }
      // The free allowance, then one more that starts the first delay (as every counter does).
      expect(statuses.filter((s) => s === 200)).toHaveLength(PER_ADDRESS + 1);
      expect(statuses.slice(PER_ADDRESS + 1).every((s) => s === 429)).toBe(true);
      expect(refused).toBeDefined();
      const r = refused as Response;
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(30);
      expect(r.headers.get("cache-control")).toBe("no-store");
      expect(await r.json()).toMatchObject({ error: "temporarily_unavailable" });
      if (backend === "redis") expect(await storedRecords()).toBe(PER_ADDRESS + 1);

      expect((await authorize(server, "198.51.100.9")).status).toBe(200);
      // IPv6 counts per /64: another /64 is another address.
      expect((await authorize(server, "2001:db8:1::1")).status).toBe(200);
      if (backend === "redis") expect(await storedRecords()).toBe(PER_ADDRESS + 3);
      expect(server.logs()).toContain('"limit":"device-authorization"');
      // Counted however the store met the refusal (on one Redis, inside CREATE's own step).
      const metrics = await (
        await fetch(`${server.issuer}/metrics`, {
          headers: { authorization: `Bearer ${METRICS_TOKEN}` },
        })
      ).text();
      expect(metrics).toContain(
        `handoff_limit_refusals_total{limit="device_authorization"} ${FLOOD - PER_ADDRESS - 1}\n`,
      );
    });

    it("RPC Authorize from the flooded address: RESOURCE_EXHAUSTED with the typed detail; from another address: served", async () => {
      const e = ConnectError.from(
        await rpcFrom(server, "203.0.113.7")
          .authorize({ clientId: "public-cli" })
          .catch((err: unknown) => err),
      );
      expect(e.code).toBe(Code.ResourceExhausted);
      expect(e.findDetails(OAuthErrorSchema)[0]).toMatchObject({
        code: ErrorCode.TEMPORARILY_UNAVAILABLE,
        error: "temporarily_unavailable",
      });
      const ok = await rpcFrom(server, "198.51.100.10").authorize({ clientId: "public-cli" });
      expect(ok.userCode).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    });

    it("the address limit counts the RPC and the RFC endpoint together", async () => {
      const rpc = rpcFrom(server, "192.0.2.44");
      for (let i = 0; i <= PER_ADDRESS; i++) await rpc.authorize({ clientId: "public-cli" });
      expect((await authorize(server, "192.0.2.44")).status).toBe(429);
    });
  });
}

describe("the per-client ceiling (docs/hostile-input.md)", () => {
  let server: TestServer;
  const CEILING = 8;
  beforeAll(async () => {
    server = await startTestServer({
      trustProxy: "127.0.0.1",
      attemptLimits: { ...LIMITS, authorizePerClient: CEILING },
    });
  });
  afterAll(async () => server.close());

  it("bounds what many addresses together can create for one client; other clients are untouched", async () => {
    let served = 0;
    // Three addresses, each within its own allowance: only the ceiling binds.
    for (const ip of ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) {
      for (let i = 0; i < PER_ADDRESS; i++) {
        const res = await authorize(server, ip);
        if (res.status === 200) served++;
        else expect(res.status).toBe(429);
        await res.body?.cancel();
      }
    }
    expect(served).toBe(CEILING + 1);
    // The trade-off: while the ceiling is full, a fresh address is refused for this client too …
    expect((await authorize(server, "198.51.100.200")).status).toBe(429);
    // … but not for another client.
    expect((await authorize(server, "198.51.100.200", "fast-hash-agent")).status).toBe(200);
  });

  it("the defaults are the documented ones", () => {
    expect(DEFAULT_ATTEMPT_LIMITS.authorizePerAddress).toBe(60);
    expect(DEFAULT_ATTEMPT_LIMITS.authorizePerClient).toBe(10_000);
  });
});
