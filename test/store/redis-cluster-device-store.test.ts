import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEVICE_CODE_GRANT } from "../../src/domain/client.js";
import { RedisDeviceStore } from "../../src/store/redis-device-store.js";
import {
  authorizeDevice,
  pollToken,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import {
  migrateSlot,
  type RedisClusterProcess,
  startRedisCluster,
} from "../support/redis-cluster.js";
import { testConnection } from "../support/redis-server.js";
import { deviceStoreContract } from "./device-store-contract.js";

let contractCluster: RedisClusterProcess;

const clusterClient = (c: RedisClusterProcess) =>
  new Cluster(
    c.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
    { redisOptions: { maxRetriesPerRequest: 2 } },
  );

deviceStoreContract(
  "redis cluster (3 masters)",
  async () => {
    contractCluster = await startRedisCluster();
    return new RedisDeviceStore(testConnection(clusterClient(contractCluster)));
  },
  async () => contractCluster.stop(),
);

describe("Redis Cluster end to end", () => {
  let cluster: RedisClusterProcess;
  let server: TestServer;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    server = await startTestServer({ redis: { clusterNodes: cluster.seeds } });
  });
  afterAll(async () => {
    await server.close();
    await cluster.stop();
  });

  it("charges the device-authorization quota beside CREATE, not in it: the counter's keys are in another slot", async () => {
    const store = new RedisDeviceStore(testConnection(clusterClient(cluster)));
    expect(store.createCharged).toBeUndefined();
    await store.close();
  });

  it("spreads requests over every master (the tags spread slots)", async () => {
    for (let i = 0; i < 30; i++) await authorizeDevice(server);
    const counts = await Promise.all(
      cluster.nodes.map(async (n) => {
        const c = new Redis(n.port, "127.0.0.1");
        const size = await c.dbsize();
        c.disconnect();
        return size;
      }),
    );
    for (const size of counts) expect(size).toBeGreaterThan(0);
  });

  it("finishes a flow whose slot moved to another master mid-way (MOVED is followed)", async () => {
    const { device_code, user_code } = await authorizeDevice(server);
    const tag = device_code.slice(0, 4);
    const probe = new Redis(cluster.nodes[0]?.port ?? 0, "127.0.0.1");
    const slot = Number(await probe.call("CLUSTER", "KEYSLOT", `{${tag}}`));
    probe.disconnect();

    const before = await (await pollToken(server, device_code)).json();
    expect(before).toMatchObject({ error: "authorization_pending" });

    const moved = await migrateSlot(cluster, slot);
    expect(moved.from).not.toBe(moved.to);
    const target = new Redis(moved.to, "127.0.0.1");
    expect(Number(await target.call("CLUSTER", "COUNTKEYSINSLOT", slot))).toBeGreaterThanOrEqual(2);
    target.disconnect();

    await server.flow.decide({ userCode: user_code, subject: "alice", approve: true });
    const res = await server.post("/oauth/token", {
      grant_type: DEVICE_CODE_GRANT,
      device_code,
      client_id: "public-cli",
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { access_token: string }).access_token).toBeTruthy();
  });
});
