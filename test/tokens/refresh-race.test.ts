/**
 * Exactly one new pair: concurrent refreshes of one refresh token (OAuth 2.1
 * §4.3.1), on the memory store and on a real
 * redis-server, over HTTP/1.1, Connect and gRPC at once.
 */
import { ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OAuthErrorSchema } from "../../gen/handoff/v1/device_auth_pb.js";
import { TokenService } from "../../gen/handoff/v1/token_service_pb.js";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { deviceTokens, discover, LIFECYCLE_CLIENTS } from "./token-fixtures.js";

const RACERS = 40;

function raceSuite(name: string, start: () => Promise<TestServer>, stop: () => Promise<void>) {
  describe(`${name}: concurrent refreshes of one token`, () => {
    let server: TestServer;
    let as: oauth.AuthorizationServer;
    beforeAll(async () => {
      server = await start();
      as = await discover(server);
    });
    afterAll(async () => {
      await server.close();
      await stop();
    });

    it(`OAuth 2.1 §4.3.1: ${RACERS} concurrent refreshes over HTTP, Connect and gRPC → one new pair`, async () => {
      const t = await deviceTokens(server, as);
      const refreshToken = t.refresh_token ?? "";
      const connect = createClient(
        TokenService,
        createConnectTransport({ baseUrl: server.issuer, httpVersion: "2" }),
      );
      const grpc = createClient(TokenService, createGrpcTransport({ baseUrl: server.issuer }));
      const attempts = Array.from({ length: RACERS }, (_, i) => {
        if (i % 3 === 0) {
          return server
            .post("/oauth/token", {
              grant_type: "refresh_token",
              refresh_token: refreshToken,
              client_id: "public-cli",
            })
            .then(
              async (res): Promise<string> =>
                res.status === 200 ? "issued" : ((await res.json()) as { error: string }).error,
            );
        }
        const rpc = i % 3 === 1 ? connect : grpc;
        return rpc.refresh({ clientId: "public-cli", refreshToken }).then(
          (): string => "issued",
          (e: unknown) => ConnectError.from(e).findDetails(OAuthErrorSchema)[0]?.error ?? "?",
        );
      });
      const results = await Promise.all(attempts);
      expect(results.filter((r) => r === "issued")).toHaveLength(1);
      expect(results.filter((r) => r !== "issued").every((r) => r === "invalid_grant")).toBe(true);
    });
  });
}

raceSuite(
  "memory store",
  () => startTestServer({ clients: LIFECYCLE_CLIENTS }),
  async () => {},
);

let redis: RedisProcess;
raceSuite(
  "redis store",
  async () => {
    redis = await startRedis();
    return startTestServer({ clients: LIFECYCLE_CLIENTS, redis: { url: redis.url } });
  },
  async () => redis.stop(),
);
