/**
 * The token store on a real Redis Cluster: the contract suite, and a whole
 * lifecycle through a server (a family's scripts touch the family key and its
 * jti marks; the shared {familyId} tag keeps them in one slot, or Redis would
 * answer CROSSSLOT).
 */
import { Cluster } from "ioredis";
import type * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisTokenStore } from "../../src/store/redis-token-store.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { type RedisClusterProcess, startRedisCluster } from "../support/redis-cluster.js";
import { testConnection } from "../support/redis-server.js";
import {
  deviceTokens,
  discover,
  LIFECYCLE_CLIENTS,
  oauthErrorOf,
  refresh,
} from "../tokens/token-fixtures.js";
import { tokenStoreContract } from "./token-store-contract.js";

let contractCluster: RedisClusterProcess;
let contractClient: Cluster;

tokenStoreContract(
  "redis cluster (3 masters)",
  async () => {
    contractCluster = await startRedisCluster();
    contractClient = new Cluster(
      contractCluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
      { redisOptions: { maxRetriesPerRequest: 2 } },
    );
    return new RedisTokenStore(testConnection(contractClient));
  },
  async () => {
    contractClient.disconnect();
    await contractCluster.stop();
  },
);

describe("token lifecycle on Redis Cluster", () => {
  let cluster: RedisClusterProcess;
  let server: TestServer;
  let as: oauth.AuthorizationServer;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    server = await startTestServer({
      clients: LIFECYCLE_CLIENTS,
      redis: { clusterNodes: cluster.seeds },
    });
    as = await discover(server);
  });
  afterAll(async () => {
    await server.close();
    await cluster.stop();
  });

  it("OAuth 2.1 §4.3.1 / RFC 7009 / RFC 7662: rotate, reuse kills the family, its access tokens go inactive", async () => {
    const t = await deviceTokens(server, as);
    const r = await refresh(as, t.refresh_token ?? "");
    expect((await oauthErrorOf(refresh(as, t.refresh_token ?? ""))).error).toBe("invalid_grant");
    for (const token of [t.access_token, r.access_token, r.refresh_token ?? ""]) {
      const res = await server.post(
        "/oauth/introspect",
        { token },
        { authorization: `Bearer ${SERVICE_TOKEN}` },
      );
      expect(await res.json()).toEqual({ active: false });
    }
  });
});
