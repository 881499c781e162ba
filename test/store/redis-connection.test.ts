/**
 * The store deadline (src/store/redis-connection.ts) holds whatever ioredis
 * does with a command: a Cluster that never got a slots map keeps commands
 * in its offline queue, where no per-node commandTimeout runs.
 */
import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisDeviceStore } from "../../src/store/redis-device-store.js";
import { freePort } from "../support/free-port.js";
import { startRedis, testConnection } from "../support/redis-server.js";

const DEADLINE_MS = 300;
const MARGIN_MS = 2500; // a loaded CI machine; a hang lasts forever, so this still tells them apart

async function settle(p: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { ms: performance.now() - started, error };
}

describe("RedisConnection: a deadline of its own", () => {
  it("a Cluster that never connects: the command sits in ioredis's offline queue; the caller still gets temporarily_unavailable", async () => {
    const nobody = await freePort();
    const cluster = new Cluster([{ host: "127.0.0.1", port: nobody }], {
      clusterRetryStrategy: () => 200, // keeps trying, as a production client does
      redisOptions: { commandTimeout: 50 }, // never applies: the command never reaches a node
    });
    cluster.on("error", () => {});
    const store = new RedisDeviceStore(testConnection(cluster, DEADLINE_MS));
    try {
      const { ms, error } = await settle(store.ping());
      expect(error).toMatchObject({ code: "temporarily_unavailable" });
      expect(ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    } finally {
      cluster.disconnect();
    }
  });

  it("a Redis that takes the command and never answers, with no commandTimeout: cut off at the deadline", async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url); // no commandTimeout at all
    const admin = new Redis(redis.url);
    const store = new RedisDeviceStore(testConnection(client, DEADLINE_MS));
    try {
      await store.ping();
      await admin.call("CLIENT", "PAUSE", "1500", "ALL");
      const { ms, error } = await settle(store.ping());
      expect(error).toMatchObject({ code: "temporarily_unavailable" });
      expect(ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
      await admin.call("CLIENT", "UNPAUSE");
      await store.ping(); // the same connection serves again
    } finally {
      client.disconnect();
      admin.disconnect();
      await redis.stop();
    }
  });

  it("once it has been ready, a client that lost its connection fails at once instead of queueing", async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url, { retryStrategy: () => 200 });
    client.on("error", () => {});
    const store = new RedisDeviceStore(testConnection(client, 5000));
    try {
      await store.ping();
      await redis.stop();
      await new Promise((r) => client.once("close", r));
      const { ms, error } = await settle(store.ping());
      expect(error).toMatchObject({ code: "temporarily_unavailable" });
      // Far below the 5 s deadline: nothing waited in the offline queue.
      expect(ms).toBeLessThan(2500);
    } finally {
      client.disconnect();
    }
  });
});
