/**
 * Repeated failures of client authentication are rate-limited.
 * Counted per client and address, in the store (so instances share them);
 * while a delay runs every attempt from that address is refused with 429 and
 * Retry-After, even one with the right secret, or a guesser could tell a
 * right guess from a refused one. No per-client counter: wrong secrets sent
 * by others never keep the real client out.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, OAuthErrorSchema } from "../../gen/handoff/v1/device_auth_pb.js";
import { DEFAULT_ATTEMPT_LIMITS } from "../../src/auth/attempt-limits.js";
import { sleep, startTestServer, type TestServer } from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";
import { FAST_SECRET } from "../support/test-clients.js";

const LIMITS = { ...DEFAULT_ATTEMPT_LIMITS, clientAuthPerAddress: 2 };
const authorize = (s: TestServer, secret: string) =>
  s.post("/oauth/device/authorize", { client_id: "fast-hash-agent", client_secret: secret });

describe("limits on failed client authentication (docs/hostile-input.md)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ attemptLimits: LIMITS });
  });
  afterAll(async () => server.close());

  it("right secrets never count: many successes in a row are never limited", async () => {
    for (let i = 0; i < 8; i++) expect((await authorize(server, FAST_SECRET)).status).toBe(200);
  });

  it("past the allowance: 429 invalid_client with Retry-After, even for the right secret; then it recovers", async () => {
    for (let i = 0; i < 3; i++) expect((await authorize(server, `wrong-${i}`)).status).toBe(401);
    const refused = await authorize(server, FAST_SECRET);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ error: "invalid_client" });
    // The token endpoint shares the counters.
    const poll = await server.post("/oauth/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: "x",
      client_id: "fast-hash-agent",
      client_secret: FAST_SECRET,
    });
    expect(poll.status).toBe(429);
    // RPC callers see RESOURCE_EXHAUSTED with the same typed detail.
    const rpc = deviceAuthClients(server.issuer)["gRPC over h2c"] as DeviceAuthClient;
    const e = ConnectError.from(
      await rpc
        .authorize({ clientId: "fast-hash-agent", clientSecret: FAST_SECRET })
        .catch((err: unknown) => err),
    );
    expect(e.code).toBe(Code.ResourceExhausted);
    expect(e.findDetails(OAuthErrorSchema)[0]?.code).toBe(ErrorCode.INVALID_CLIENT);

    await sleep(Number(refused.headers.get("retry-after")) * 1000 + 100);
    expect((await authorize(server, FAST_SECRET)).status).toBe(200);
  });

  it("a guesser's wrong secrets delay only the guesser's address", async () => {
    for (let i = 0; i < 3; i++) {
      expect((await authorize(server, `wrong-again-${i}`)).status).toBeGreaterThanOrEqual(401);
    }
    expect((await authorize(server, FAST_SECRET)).status).toBe(429);
  });

  it("public clients are never limited (they have no secret to guess)", async () => {
    for (let i = 0; i < 6; i++) {
      expect(
        (await server.post("/oauth/device/authorize", { client_id: "public-cli" })).status,
      ).toBe(200);
    }
  });
});

describe("limits on failed client authentication across instances (Redis)", () => {
  let redis: RedisProcess;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all([
      startTestServer({ redis: { url: redis.url }, attemptLimits: LIMITS }),
      startTestServer({ redis: { url: redis.url }, attemptLimits: LIMITS }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await redis.stop();
  });

  it("failures on one instance delay the client on another", async () => {
    for (let i = 0; i < 3; i++) expect((await authorize(a, `wrong-${i}`)).status).toBe(401);
    expect((await authorize(b, FAST_SECRET)).status).toBe(429);
  });
});

describe("locking out a confidential client without its secret", () => {
  let server: TestServer;
  beforeAll(async () => {
    // Default limits; addresses come from X-Forwarded-For through a trusted proxy (loopback).
    server = await startTestServer({ trustProxy: "127.0.0.1" });
  });
  afterAll(async () => server.close());

  const from = (ip: string) => ({ "x-forwarded-for": ip });

  it("132 wrong-secret requests from 12 addresses, then the right secret from a fresh address succeeds", async () => {
    const wrong = [];
    for (let a = 0; a < 12; a++) {
      for (let i = 0; i < 11; i++) {
        const path = i % 2 === 0 ? "/oauth/device/authorize" : "/oauth/token";
        wrong.push(
          server.post(
            path,
            {
              client_id: "fast-hash-agent",
              client_secret: `wrong-${a}-${i}`,
              grant_type: "urn:ietf:params:oauth:grant-type:device_code",
              device_code: "x",
            },
            from(`198.51.100.${a + 1}`),
          ),
        );
      }
    }
    const statuses = (await Promise.all(wrong)).map((r) => r.status);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    // The attackers' own addresses are slowed …
    expect(
      (
        await server.post(
          "/oauth/device/authorize",
          { client_id: "fast-hash-agent", client_secret: FAST_SECRET },
          from("198.51.100.1"),
        )
      ).status,
    ).toBe(429);
    // … the real client, from its own address, is not: on both endpoints, again and again,
    // while one wrong request per round keeps coming from the attackers.
    const legit = from("203.0.113.7");
    for (let round = 0; round < 3; round++) {
      await server.post(
        "/oauth/token",
        { client_id: "fast-hash-agent", client_secret: "wrong", grant_type: "refresh_token" },
        from(`198.51.100.${round + 1}`),
      );
      const auth = await server.post(
        "/oauth/device/authorize",
        { client_id: "fast-hash-agent", client_secret: FAST_SECRET },
        legit,
      );
      expect(auth.status).toBe(200);
      const { device_code } = (await auth.json()) as { device_code: string };
      const poll = await server.post(
        "/oauth/token",
        {
          client_id: "fast-hash-agent",
          client_secret: FAST_SECRET,
          grant_type: "urn:ietf:params:oauth:grant-type:device_code",
          device_code,
        },
        legit,
      );
      expect(await poll.json()).toMatchObject({ error: "authorization_pending" });
    }
  });

  it("a refusal is logged at warn with the limit, the client and the address", () => {
    const line = server
      .logs()
      .split("\n")
      .find((l) => l.includes('"limit":"client-auth"'));
    expect(line).toBeDefined();
    expect(JSON.parse(line as string)).toMatchObject({
      level: 40,
      client_id: "fast-hash-agent",
      ip: expect.stringMatching(/^198\.51\.100\./),
    });
  });
});
