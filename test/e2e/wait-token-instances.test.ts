/**
 * WaitToken across instances sharing one Redis (pub/sub) and a Redis Cluster
 * (sharded pub/sub): a decision on B wakes the stream held by A, and 200
 * streams and polls racing for one approved code get one token set.
 * Re-checks are a minute apart here, so only the message can wake a stream in time.
 */
import { ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Decision,
  OAuthErrorSchema,
  type WaitTokenResponse,
} from "../../gen/handoff/v1/device_auth_pb.js";
import type { RedisTarget } from "../../src/store/redis-connection.js";
import { ALICE, FormClient, testUsers } from "../pages/page-fixtures.js";
import {
  pollToken,
  SERVICE_TOKEN,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisClusterProcess, startRedisCluster } from "../support/redis-cluster.js";
import { startRedis } from "../support/redis-server.js";
import { bearer, type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";

const TRANSPORTS = [
  "Connect over HTTP/1.1",
  "Connect over h2c",
  "gRPC over h2c",
  "gRPC-Web over HTTP/1.1",
];

/** Opens a stream and collects it; `opened` resolves on its first heartbeat. */
function openStream(c: DeviceAuthClient, deviceCode: string) {
  let opened: () => void = () => {};
  const heartbeat = new Promise<void>((r) => {
    opened = r;
  });
  const result = (async () => {
    const messages: WaitTokenResponse[] = [];
    try {
      for await (const m of c.waitToken({ clientId: "public-cli", deviceCode })) {
        messages.push(m);
        if (m.event.case === "heartbeat") opened();
      }
      return { messages, error: undefined };
    } catch (e) {
      opened();
      return {
        messages,
        error: ConnectError.from(e).findDetails(OAuthErrorSchema)[0]?.error ?? "other",
      };
    }
  })();
  return { heartbeat, result };
}

function suite(
  name: string,
  backend: () => Promise<{ redis: RedisTarget; stop(): Promise<void> }>,
) {
  describe(`WaitToken on two instances on ${name}`, () => {
    let stop: () => Promise<void>;
    let a: TestServer;
    let b: TestServer;
    beforeAll(async () => {
      const be = await backend();
      stop = be.stop;
      const authenticator = await testUsers();
      [a, b] = (await Promise.all(
        [0, 1].map(() =>
          startTestServer({ redis: be.redis, authenticator, waitRecheckMs: 60_000 }),
        ),
      )) as [TestServer, TestServer];
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await stop();
    });

    it("a decision over RPC on B wakes the stream held by A, over every transport", async () => {
      const approver = deviceAuthClients(b.issuer, [bearer(SERVICE_TOKEN)])[
        "gRPC over h2c"
      ] as DeviceAuthClient;
      for (const t of TRANSPORTS) {
        const c = deviceAuthClients(a.issuer)[t] as DeviceAuthClient;
        const auth = await c.authorize({ clientId: "public-cli" });
        const s = openStream(c, auth.deviceCode);
        await s.heartbeat;
        await approver.approve({
          userCode: auth.userCode,
          subject: "alice",
          decision: Decision.APPROVE,
        });
        const { messages, error } = await s.result;
        expect(error, t).toBeUndefined();
        expect(messages.at(-1)?.event.case, t).toBe("token");
      }
    }, 20_000);

    it("approval on B's page (sign-in, Approve) wakes the stream held by A", async () => {
      const c = deviceAuthClients(a.issuer)["gRPC over h2c"] as DeviceAuthClient;
      const auth = await c.authorize({ clientId: "public-cli" });
      const s = openStream(c, auth.deviceCode);
      await s.heartbeat;
      const page = new FormClient(b.issuer);
      await page.signIn(ALICE);
      const decided = await page.post("/device/decision", {
        _csrf: page.csrf(),
        user_code: auth.userCode,
        decision: "approve",
      });
      expect(decided.status).toBe(200);
      const { messages } = await s.result;
      expect(messages.at(-1)?.event.case).toBe("token");
    }, 20_000);

    it("200 streams and polls racing for one approved code, on both instances: one token set", async () => {
      const rpc = deviceAuthClients(a.issuer)["gRPC over h2c"] as DeviceAuthClient;
      const auth = await rpc.authorize({ clientId: "public-cli" });
      const approver = deviceAuthClients(b.issuer, [bearer(SERVICE_TOKEN)])[
        "gRPC over h2c"
      ] as DeviceAuthClient;
      await approver.approve({
        userCode: auth.userCode,
        subject: "alice",
        decision: Decision.APPROVE,
      });
      const clients = [a, b].flatMap((s) =>
        TRANSPORTS.map((t) => deviceAuthClients(s.issuer)[t] as DeviceAuthClient),
      );
      const racers = Array.from({ length: 200 }, (_, i) => {
        const server = i % 2 === 0 ? a : b;
        if (i % 4 < 2)
          return openStream(
            clients[i % clients.length] as DeviceAuthClient,
            auth.deviceCode,
          ).result.then((r) =>
            r.messages.some((m) => m.event.case === "token") ? "token" : r.error,
          );
        if (i % 4 === 2)
          return pollToken(server, auth.deviceCode).then(async (res) =>
            res.status === 200 ? "token" : ((await res.json()) as { error: string }).error,
          );
        return (clients[i % clients.length] as DeviceAuthClient)
          .pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode })
          .then(
            () => "token",
            (e: unknown) => ConnectError.from(e).findDetails(OAuthErrorSchema)[0]?.error ?? "other",
          );
      });
      const outcomes = await Promise.all(racers);
      expect(outcomes.filter((o) => o === "token")).toHaveLength(1);
      expect(new Set(outcomes.filter((o) => o !== "token"))).toEqual(new Set(["invalid_grant"]));
    }, 30_000);

    it("a stream and a poll racing at the moment of approval: one token set", async () => {
      const c = deviceAuthClients(a.issuer)["Connect over h2c"] as DeviceAuthClient;
      const auth = await c.authorize({ clientId: "public-cli" });
      const s = openStream(c, auth.deviceCode);
      await s.heartbeat;
      await sleep(1000); // the poll below is on time (interval 1 s)
      const approver = deviceAuthClients(b.issuer, [bearer(SERVICE_TOKEN)])[
        "gRPC over h2c"
      ] as DeviceAuthClient;
      await approver.approve({
        userCode: auth.userCode,
        subject: "alice",
        decision: Decision.APPROVE,
      });
      const [stream, poll] = await Promise.all([s.result, pollToken(b, auth.deviceCode)]);
      const tokens =
        (stream.messages.some((m) => m.event.case === "token") ? 1 : 0) +
        (poll.status === 200 ? 1 : 0);
      expect(tokens).toBe(1);
    }, 20_000);
  });
}

suite("one Redis", async () => {
  const r = await startRedis();
  return { redis: { url: r.url }, stop: () => r.stop() };
});
suite("a Redis Cluster (sharded pub/sub)", async () => {
  const c: RedisClusterProcess = await startRedisCluster();
  return { redis: { clusterNodes: c.seeds }, stop: () => c.stop() };
});
