/**
 * STANDARDS T7: repeated failures of client authentication are rate-limited.
 * Counted per client and address and per client, in the store (so instances
 * share them); while a delay runs every attempt is refused with 429 and
 * Retry-After, even one with the right secret, or a guesser could tell a
 * right guess from a refused one.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, OAuthErrorSchema } from "../../gen/handoff/v1/device_auth_pb.js";
import { DEFAULT_ATTEMPT_LIMITS } from "../../src/auth/attempt-limits.js";
import { sleep, startTestServer, type TestServer } from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";
import { FAST_SECRET } from "../support/test-clients.js";

const LIMITS = { ...DEFAULT_ATTEMPT_LIMITS, clientAuthPerAddress: 2, clientAuthPerClient: 100 };
const authorize = (s: TestServer, secret: string) =>
  s.post("/oauth/device/authorize", { client_id: "fast-hash-agent", client_secret: secret });

describe("limits on failed client authentication (T7)", () => {
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
