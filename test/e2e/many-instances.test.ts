/**
 * Several handoff processes sharing one Redis behave as one server:
 * authorize through one, approve through another, poll alternately through
 * both; pacing and exactly-once hold across them. Standalone and Cluster.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision, OAuthErrorSchema } from "../../gen/handoff/v1/device_auth_pb.js";
import { DEFAULT_ATTEMPT_LIMITS } from "../../src/auth/attempt-limits.js";
import type { RedisTarget } from "../../src/store/redis-connection.js";
import { ALICE, FormClient, testUsers } from "../pages/page-fixtures.js";
import {
  authorizeDevice,
  pollToken,
  SERVICE_TOKEN,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisClusterProcess, startRedisCluster } from "../support/redis-cluster.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { bearer, type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";

const errorOf = async (res: Response) =>
  (await res.json()) as { error?: string; interval?: number };

function suite(
  name: string,
  backend: () => Promise<{
    redis: RedisTarget;
    stop(): Promise<void>;
  }>,
) {
  describe(`three instances on ${name}`, () => {
    let stop: () => Promise<void>;
    let instances: TestServer[];
    beforeAll(async () => {
      const b = await backend();
      stop = b.stop;
      const authenticator = await testUsers();
      instances = await Promise.all(
        [0, 1, 2].map(() =>
          startTestServer({
            redis: b.redis,
            authenticator,
            // Tight per-address guess limit, long first delay: see the guess-limit test below.
            attemptLimits: { ...DEFAULT_ATTEMPT_LIMITS, codePerAddress: 2, firstDelayMs: 60_000 },
            // 300 concurrent polls on a loaded 2-core machine: a deadline far above their queueing.
            redisTimeoutMs: 5000,
          }),
        ),
      );
    });
    afterAll(async () => {
      await Promise.all(instances.map((s) => s.close()));
      await stop();
    });
    const at = (i: number) => instances[i % instances.length] as TestServer;

    it("authorize on A, approve on B over gRPC, poll on C: one token", async () => {
      const { device_code, user_code } = await authorizeDevice(at(0));
      const b = deviceAuthClients(at(1).issuer, [bearer(SERVICE_TOKEN)])[
        "gRPC over h2c"
      ] as DeviceAuthClient;
      const view = await b.getDeviceAuthorization({ userCode: user_code });
      expect(view.clientId).toBe("public-cli");
      await b.approve({ userCode: user_code, subject: "alice", decision: Decision.APPROVE });
      expect((await pollToken(at(2), device_code)).status).toBe(200);
      expect(await errorOf(await pollToken(at(0), device_code))).toMatchObject({
        error: "invalid_grant",
      });
    });

    it("RFC 8628 §3.5: pacing holds across instances (poll A then B at once: slow_down)", async () => {
      const { device_code } = await authorizeDevice(at(0));
      expect(await errorOf(await pollToken(at(0), device_code))).toMatchObject({
        error: "authorization_pending",
      });
      expect(await errorOf(await pollToken(at(1), device_code))).toMatchObject({
        error: "slow_down",
        interval: 6,
      });
      expect(await errorOf(await pollToken(at(2), device_code))).toMatchObject({
        error: "slow_down",
        interval: 11,
      });
    });

    it("exactly once: 300 concurrent polls spread over 3 instances and 3 transports", async () => {
      const { device_code, user_code } = await authorizeDevice(at(1));
      await at(2).flow.decide({ userCode: user_code, subject: "alice", approve: true });
      const rpc = instances.map((s) => deviceAuthClients(s.issuer));
      const polls = Array.from({ length: 300 }, async (_, i) => {
        const s = at(i);
        switch (i % 3) {
          case 0: {
            const res = await pollToken(s, device_code);
            return res.status === 200 ? "token" : (await errorOf(res)).error;
          }
          default: {
            const client = rpc[i % 3]?.[
              i % 2 ? "gRPC over h2c" : "Connect over HTTP/1.1"
            ] as DeviceAuthClient;
            try {
              await client.pollToken({ clientId: "public-cli", deviceCode: device_code });
              return "token";
            } catch (e) {
              const ce = ConnectError.from(e);
              expect(ce.code).toBe(Code.InvalidArgument);
              return ce.findDetails(OAuthErrorSchema)[0]?.error;
            }
          }
        }
      });
      const outcomes = await Promise.all(polls);
      expect(outcomes.filter((o) => o === "token")).toHaveLength(1);
      expect(outcomes.filter((o) => o === "invalid_grant")).toHaveLength(299);
    });

    it("concurrent refreshes of one refresh token over 3 instances: exactly one new pair (OAuth 2.1 §4.3)", async () => {
      const { device_code, user_code } = await authorizeDevice(at(0));
      await at(1).flow.decide({ userCode: user_code, subject: "alice", approve: true });
      const first = (await (await pollToken(at(2), device_code)).json()) as {
        refresh_token?: string;
      };
      expect(first.refresh_token).toBeTruthy();
      const results = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const res = await at(i).post("/oauth/token", {
            grant_type: "refresh_token",
            refresh_token: first.refresh_token ?? "",
            client_id: "public-cli",
          });
          return res.status === 200 ? "pair" : (await errorOf(res)).error;
        }),
      );
      expect(results.filter((r) => r === "pair")).toHaveLength(1);
      expect(results.filter((r) => r === "invalid_grant")).toHaveLength(59);
    });

    it("RFC 8628 §5.1: guess limits hold across instances (wrong codes on A and B, refused on C)", async () => {
      const enter = async (s: TestServer, code: string) => {
        const client = new FormClient(s.issuer);
        await client.signIn(ALICE);
        await client.get("/device");
        return (await client.post("/device", { _csrf: client.csrf(), user_code: code })).status;
      };
      expect(await enter(at(0), "WXYZ-2345")).toBe(400);
      expect(await enter(at(1), "WXYZ-2346")).toBe(400);
      expect(await enter(at(0), "WXYZ-2347")).toBe(400); // past the allowance: starts the delay
      const { user_code } = await authorizeDevice(at(1));
      expect(await enter(at(2), user_code)).toBe(429); // even the right code waits, on any instance
    });

    it("concurrent Approve and Deny on one code through different instances: exactly one decision", async () => {
      const { device_code, user_code } = await authorizeDevice(at(0));
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          at(i).flow.decide({ userCode: user_code, subject: `u${i}`, approve: i % 2 === 0 }),
        ),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "already_decided" });
      }
      const approved = (won[0] as PromiseFulfilledResult<{ approved: boolean }>).value.approved;
      const res = await pollToken(at(1), device_code);
      if (approved) expect(res.status).toBe(200);
      else expect(await errorOf(res)).toMatchObject({ error: "access_denied" });
    });
  });
}

suite("one Redis", async () => {
  const r: RedisProcess = await startRedis();
  return { redis: { url: r.url }, stop: () => r.stop() };
});

suite("a Redis Cluster", async () => {
  const c: RedisClusterProcess = await startRedisCluster();
  return { redis: { clusterNodes: c.seeds }, stop: () => c.stop() };
});
