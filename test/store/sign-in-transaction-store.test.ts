/**
 * Sign-ins in progress at an identity provider (README "Sign in with your
 * identity provider"): taken once, gone after HANDOFF_OIDC_LOGIN_TTL, and
 * without Redis capped at HANDOFF_MEMORY_MAX_PENDING. On memory and on a
 * real Redis.
 */
import { describe, expect, it } from "vitest";
import type { SignInTransaction } from "../../src/domain/ports/sign-in-transaction-store.js";
import { MemorySignInTransactionStore } from "../../src/store/memory-sign-in-transaction-store.js";
import { RedisSignInTransactionStore } from "../../src/store/redis-sign-in-transaction-store.js";
import { testConnection, useRedis } from "../support/redis-server.js";

const tx = (expiresAt: number): SignInTransaction => ({
  state: "s",
  nonce: "n",
  codeVerifier: "v",
  returnTo: "/device",
  expiresAt,
});

describe("memory sign-in transactions", () => {
  it("a transaction is taken once", async () => {
    const store = new MemorySignInTransactionStore(10, () => 1000);
    await store.save("k", tx(5000));
    expect(await store.take("k", 1000)).toMatchObject({ state: "s" });
    expect(await store.take("k", 1000)).toBeNull();
    store.close();
  });

  it("HANDOFF_OIDC_LOGIN_TTL: past its expiry a transaction is gone", async () => {
    const store = new MemorySignInTransactionStore(10, () => 1000);
    await store.save("k", tx(5000));
    expect(await store.take("k", 5000)).toBeNull();
    store.close();
  });

  it("HANDOFF_MEMORY_MAX_PENDING: past the cap a new sign-in is refused until one is taken", async () => {
    const store = new MemorySignInTransactionStore(2, () => 1000);
    expect(await store.save("a", tx(5000))).toBe("saved");
    expect(await store.save("b", tx(5000))).toBe("saved");
    expect(await store.save("c", tx(5000))).toBe("full");
    await store.take("a", 1000);
    expect(await store.save("c", tx(5000))).toBe("saved");
    store.close();
  });
});

describe("Redis sign-in transactions", () => {
  const redis = useRedis();

  it("GETDEL: two takes racing on one transaction, on two connections, find it once", async () => {
    const a = new RedisSignInTransactionStore(testConnection(redis.client), "t1:");
    const second = redis.client.duplicate();
    const b = new RedisSignInTransactionStore(testConnection(second), "t1:");
    await a.save("k", tx(Date.now() + 60_000));
    expect(await redis.client.pttl("t1:signin-tx:k")).toBeGreaterThan(50_000);
    const both = await Promise.all([a.take("k", Date.now()), b.take("k", Date.now())]);
    expect(both.filter((x) => x !== null)).toHaveLength(1);
    expect(await redis.client.exists("t1:signin-tx:k")).toBe(0);
    second.disconnect();
  });
});
