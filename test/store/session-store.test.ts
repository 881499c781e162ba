/** The page session store against memory and a real redis-server. */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionStore } from "../../src/domain/ports/session-store.js";
import { MemorySessionStore } from "../../src/store/memory-session-store.js";
import { RedisSessionStore } from "../../src/store/redis-session-store.js";
import { type RedisProcess, startRedis, testConnection } from "../support/redis-server.js";

function contract(name: string, open: () => Promise<SessionStore>, close: () => Promise<void>) {
  describe(`SessionStore: ${name}`, () => {
    let store: SessionStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(close);
    const now = Date.now();
    const session = { subject: "alice", createdAt: now, expiresAt: now + 60_000 };

    it("finds a saved session until it expires", async () => {
      await store.save("h1", session);
      expect(await store.find("h1", now)).toEqual(session);
      expect(await store.find("h1", now + 60_000)).toBeNull();
    });

    it("forgets a destroyed session and knows no other", async () => {
      await store.save("h2", session);
      await store.destroy("h2");
      expect(await store.find("h2", now)).toBeNull();
      expect(await store.find("never", now)).toBeNull();
    });
  });
}

contract(
  "memory",
  async () => new MemorySessionStore(),
  async () => {},
);

let redis: RedisProcess;
let client: Redis;
contract(
  "redis",
  async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    return new RedisSessionStore(testConnection(client), "p:");
  },
  async () => {
    // Keys carry the prefix, a hash of the id, and expire with the session.
    const ttl = await client.pttl("p:session:h1");
    expect(ttl).toBeGreaterThan(0);
    client.disconnect();
    await redis.stop();
  },
);
