/** The client store on a real Redis Cluster: each space's keys share a slot, or scripts would fail with CROSSSLOT. */
import { Cluster } from "ioredis";
import { RedisClientStore } from "../../src/store/redis-client-store.js";
import { type RedisClusterProcess, startRedisCluster } from "../support/redis-cluster.js";
import { testConnection } from "../support/redis-server.js";
import { clientStoreContract } from "./client-store-contract.js";

let cluster: RedisClusterProcess;
let client: Cluster;

clientStoreContract(
  "redis cluster (3 masters)",
  async () => {
    cluster = await startRedisCluster();
    client = new Cluster(
      cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
      { redisOptions: { maxRetriesPerRequest: 2 } },
    );
    return new RedisClientStore(testConnection(client), { space: "registered" });
  },
  async () => {
    client.disconnect();
    await cluster.stop();
  },
);
