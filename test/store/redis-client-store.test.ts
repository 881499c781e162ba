/** The client store on a real Redis: the contract suite, and the key layout. */
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisClientStore } from "../../src/store/redis-client-store.js";
import {
  type RedisProcess,
  startRedis,
  testConnection,
  useRedis,
} from "../support/redis-server.js";
import { clientStoreContract } from "./client-store-contract.js";

let redis: RedisProcess;
let contractClient: Redis;

clientStoreContract(
  "redis (standalone)",
  async () => {
    redis = await startRedis();
    contractClient = new Redis(redis.url);
    return new RedisClientStore(testConnection(contractClient), { space: "registered" });
  },
  async () => {
    contractClient.disconnect();
    await redis.stop();
  },
);

describe("Redis client key layout", () => {
  const fixture = useRedis();

  it("keeps a space in one hash slot, with the record's TTL, and two spaces apart", async () => {
    const registered = new RedisClientStore(testConnection(fixture.client), {
      keyPrefix: "k1:",
      space: "registered",
    });
    const documents = new RedisClientStore(testConnection(fixture.client), {
      keyPrefix: "k1:",
      space: "document",
    });
    const now = Date.now();
    const client = {
      id: "abc",
      name: "A",
      grantTypes: ["refresh_token"],
      scopes: [],
      defaultScopes: [],
      redirectUris: [],
      active: true,
    };
    await registered.put(
      { client, createdAt: now, idleTtlMs: 60_000, expiresAt: now + 60_000, metadata: {} },
      "create",
      0,
    );
    expect((await fixture.client.keys("k1:*")).sort()).toEqual([
      "k1:client:{registered}:c:abc",
      "k1:client:{registered}:exp",
      "k1:client:{registered}:ids",
    ]);
    const pttl = await fixture.client.pttl("k1:client:{registered}:c:abc");
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await documents.get("abc", now)).toBeUndefined();
  });

  it("turns a Redis outage into temporarily_unavailable", async () => {
    const dead = new Redis({
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on("error", () => {});
    const store = new RedisClientStore(testConnection(dead), { space: "registered" });
    await expect(store.get("x", Date.now())).rejects.toMatchObject({
      code: "temporarily_unavailable",
    });
    dead.disconnect();
  });
});
