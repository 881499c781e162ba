/** The attempt counter contract against memory, a real redis-server and a real Redis Cluster. */
import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { MemoryAttemptCounter } from "../../src/store/memory-attempt-counter.js";
import { checksKey, RedisAttemptCounter } from "../../src/store/redis-attempt-counter.js";
import { type RedisClusterProcess, startRedisCluster } from "../support/redis-cluster.js";
import { type RedisProcess, startRedis, testConnection } from "../support/redis-server.js";
import { attemptCounterContract } from "./attempt-counter-contract.js";

attemptCounterContract("memory", async () => new MemoryAttemptCounter());

let redis: RedisProcess;
let client: Redis;
attemptCounterContract(
  "redis",
  async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    return new RedisAttemptCounter(testConnection(client));
  },
  async () => {
    client.disconnect();
    await redis.stop();
  },
);

let cluster: RedisClusterProcess;
let clusterClient: Cluster;
attemptCounterContract(
  "redis cluster (3 masters): the keys of one call share a hash tag, so no CROSSSLOT",
  async () => {
    cluster = await startRedisCluster();
    clusterClient = new Cluster(cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })));
    return new RedisAttemptCounter(testConnection(clusterClient));
  },
  async () => {
    clusterClient.disconnect();
    await cluster.stop();
  },
);

describe("Redis counter keys", () => {
  it("expire on their own once the window and the delay are over", async () => {
    const r = await startRedis();
    const c = new Redis(r.url);
    try {
      const counter = new RedisAttemptCounter(testConnection(c));
      const key = "ratelimit:{code}:ip:192.0.2.1";
      const policy = { free: 0, baseDelayMs: 5000, maxDelayMs: 5000, windowMs: 60_000 };
      await counter.attempt([{ key, policy }], Date.now());
      const ttl = await c.pttl(key);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(await c.hgetall(key)).toMatchObject({ n: "1" });
      // A check in flight whose end is lost: its set expires with its lease.
      const slot = { key: "ratelimit:{client}:ip:192.0.2.1:x", policy };
      await counter.beginCheck([slot], { id: "lost", ms: 3000 }, Date.now());
      const checks = await c.pttl(checksKey(slot));
      expect(checks).toBeGreaterThan(2000);
      expect(checks).toBeLessThanOrEqual(3000);
      // A refund that leaves no failure leaves no counter.
      const refunded = "ratelimit:{code}:ip:192.0.2.2";
      await counter.attempt([{ key: refunded, policy }], Date.now());
      await counter.forgive([{ key: refunded, policy }], Date.now());
      expect(await c.exists(refunded)).toBe(0);
    } finally {
      c.disconnect();
      await r.stop();
    }
  });
});

describe("Redis counter under auto-pipelining", () => {
  it("a key count used for the first time while a pipeline is pending answers, and nothing throws outside it", async () => {
    // As the server's client runs (enableAutoPipelining): a command issued in
    // the same tick as another joins its pipeline. Commands defined after the
    // pipeline was created were missing from it; ioredis then threw from its
    // reply callback and the process died (docs/failure.md "Soak").
    const r = await startRedis();
    const c = new Redis(r.url, { enableAutoPipelining: true });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on("uncaughtException", onUncaught);
    try {
      await c.ping();
      const counter = new RedisAttemptCounter(testConnection(c));
      const policy = { free: 5, baseDelayMs: 0, maxDelayMs: 0, windowMs: 60_000 };
      const slots = (n: number) =>
        Array.from({ length: n }, (_, i) => ({ key: `ratelimit:{p}:k${n}-${i}`, policy }));
      for (let n = 1; n <= 3; n++) {
        const pending = c.get("unrelated"); // opens this tick's pipeline
        const [verdict] = await Promise.all([counter.attempt(slots(n), Date.now()), pending]);
        expect(verdict).toEqual({ allowed: true });
        await counter.forgive(slots(n), Date.now());
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      c.disconnect();
      await r.stop();
    }
  });
});
