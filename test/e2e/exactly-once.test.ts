/**
 * Exactly once (README "Behaviour worth knowing"): after approval, many concurrent polls
 * through HTTP and gRPC together yield one token response; the others get
 * invalid_grant. On the memory store and on a real Redis.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OAuthErrorSchema } from "../../gen/handoff/v1/device_auth_pb.js";
import {
  authorizeDevice,
  pollToken,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";

const HTTP_POLLS = 60;
const GRPC_POLLS = 60;

async function race(server: TestServer) {
  const grpc = deviceAuthClients(server.issuer)["gRPC over h2c"] as DeviceAuthClient;
  const connect = deviceAuthClients(server.issuer)["Connect over h2c"] as DeviceAuthClient;
  const { device_code, user_code } = await authorizeDevice(server);
  await server.flow.decide({ userCode: user_code, subject: "alice", approve: true });

  const http = Array.from({ length: HTTP_POLLS }, async () => {
    const res = await pollToken(server, device_code);
    const body = (await res.json()) as { access_token?: string; error?: string };
    return body.access_token ? "token" : body.error;
  });
  const rpc = Array.from({ length: GRPC_POLLS }, async (_, i) => {
    try {
      const t = await (i % 2 ? grpc : connect).pollToken({
        clientId: "public-cli",
        deviceCode: device_code,
      });
      return t.accessToken ? "token" : "empty";
    } catch (e) {
      const ce = ConnectError.from(e);
      expect(ce.code).toBe(Code.InvalidArgument);
      return ce.findDetails(OAuthErrorSchema)[0]?.error;
    }
  });
  const outcomes = await Promise.all([...http, ...rpc]);
  const counts = outcomes.reduce<Record<string, number>>((acc, o) => {
    acc[String(o)] = (acc[String(o)] ?? 0) + 1;
    return acc;
  }, {});
  expect(counts).toEqual({ token: 1, invalid_grant: HTTP_POLLS + GRPC_POLLS - 1 });
}

describe("exactly-once issuance under concurrent polls", () => {
  it("memory store: 120 concurrent polls over HTTP/1.1, Connect and gRPC → one token", async () => {
    const server = await startTestServer();
    try {
      for (let round = 0; round < 3; round++) await race(server);
    } finally {
      await server.close();
    }
  });

  describe("redis store", () => {
    let redis: RedisProcess;
    let server: TestServer;
    beforeAll(async () => {
      redis = await startRedis();
      server = await startTestServer({ redis: { url: redis.url } });
    });
    afterAll(async () => {
      await server.close();
      await redis.stop();
    });

    it("120 concurrent polls over HTTP/1.1, Connect and gRPC → one token", async () => {
      for (let round = 0; round < 3; round++) await race(server);
    });
  });
});
