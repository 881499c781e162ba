import { Cluster } from "ioredis";
import { RedisAuthorizationCodeStore } from "../../src/store/redis-authorization-code-store.js";
import { type RedisClusterProcess, startRedisCluster } from "../support/redis-cluster.js";
import { testConnection } from "../support/redis-server.js";
import { authorizationCodeStoreContract } from "./authorization-code-store-contract.js";

let cluster: RedisClusterProcess;

authorizationCodeStoreContract(
  "redis cluster (3 masters)",
  async () => {
    cluster = await startRedisCluster();
    return new RedisAuthorizationCodeStore(
      testConnection(
        new Cluster(
          cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
          { redisOptions: { maxRetriesPerRequest: 2 } },
        ),
      ),
    );
  },
  async () => cluster.stop(),
);
