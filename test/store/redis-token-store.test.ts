import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  hashRefreshToken,
  mintFamilyId,
  mintJti,
  mintRefreshToken,
} from "../../src/domain/refresh-token.js";
import { RedisTokenStore } from "../../src/store/redis-token-store.js";
import {
  type RedisProcess,
  startRedis,
  testConnection,
  useRedis,
} from "../support/redis-server.js";
import { tokenStoreContract } from "./token-store-contract.js";

let redis: RedisProcess;
let contractClient: Redis;

tokenStoreContract(
  "redis (standalone)",
  async () => {
    redis = await startRedis();
    contractClient = new Redis(redis.url);
    return new RedisTokenStore(testConnection(contractClient));
  },
  async () => {
    contractClient.disconnect();
    await redis.stop();
  },
);

describe("Redis token key layout (one hash slot per family)", () => {
  const fixture = useRedis();

  it("keeps a family in one hash slot ({familyId}), with its TTL, and no plaintext token", async () => {
    const store = new RedisTokenStore(testConnection(fixture.client), { keyPrefix: "t1:" });
    const familyId = mintFamilyId();
    const token = mintRefreshToken(familyId);
    const jti = mintJti(familyId);
    const now = Date.now();
    await store.createFamily(familyId, {
      clientId: "cli",
      subject: "alice",
      scopes: ["read"],
      resources: [],
      createdAt: now,
      absoluteExpiresAt: now + 600_000,
      issuedAt: now,
      idleExpiresAt: now + 60_000,
      currentHash: hashRefreshToken(token),
      rotatedHashes: [],
      accessTokens: [{ jti, expiresAt: now + 30_000 }],
    });
    const keys = (await fixture.client.keys("t1:*")).sort();
    expect(keys).toEqual([
      "t1:token:client:{cli}",
      `t1:token:family:{${familyId}}`,
      "t1:token:subject:{alice}",
    ]);
    // The client's index (operators' listing): the same, in the client's own slot.
    expect(await fixture.client.zrange("t1:token:client:{cli}", 0, -1)).toEqual([familyId]);
    expect(await fixture.client.pexpiretime("t1:token:client:{cli}")).toBe(now + 600_000);
    // The subject's index: the family id scored by creation, kept until its absolute expiry.
    expect(await fixture.client.zrange("t1:token:subject:{alice}", 0, -1)).toEqual([familyId]);
    expect(await fixture.client.pexpiretime("t1:token:subject:{alice}")).toBe(now + 600_000);
    const pttl = await fixture.client.pttl(keys[1] ?? "");
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    const dump = JSON.stringify(await fixture.client.hgetall(keys[1] ?? ""));
    expect(dump).not.toContain(token.split(".")[1]);

    // Revoking writes the family's jti marks under the same hash tag (one slot), then drops the family.
    await store.revokeFamily(familyId, hashRefreshToken(token), undefined, now + 1);
    const after = (await fixture.client.keys("t1:*")).filter(
      (k) => !k.includes(":subject:") && !k.includes(":client:"),
    );
    expect(after).toEqual([`t1:token:revoked:{${familyId}}:${jti}`]);
    // The stale index entry goes on the next read.
    expect(await store.listBySubject("alice", now + 2, 10)).toEqual([]);
    expect(await fixture.client.exists("t1:token:subject:{alice}")).toBe(0);
    expect((await store.listByClient("cli", now + 2, 10)).items).toEqual([]);
    expect(await fixture.client.exists("t1:token:client:{cli}")).toBe(0);
    expect(await fixture.client.pttl(after[0] ?? "")).toBeLessThanOrEqual(30_000);
  });

  it("turns a Redis outage into temporarily_unavailable", async () => {
    const dead = new Redis({
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on("error", () => {});
    const store = new RedisTokenStore(testConnection(dead));
    await expect(store.isAccessTokenRevoked(mintJti(), Date.now())).rejects.toMatchObject({
      code: "temporarily_unavailable",
    });
    dead.disconnect();
  });
});
