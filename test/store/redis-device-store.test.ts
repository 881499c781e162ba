import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { mintDeviceCode, parseDeviceCode, userCodeHandle } from "../../src/domain/device-code.js";
import { mintUserCode } from "../../src/domain/user-code.js";
import { RedisDeviceStore } from "../../src/store/redis-device-store.js";
import {
  type RedisProcess,
  startRedis,
  testConnection,
  useRedis,
} from "../support/redis-server.js";
import { deviceStoreContract } from "./device-store-contract.js";

let redis: RedisProcess;

deviceStoreContract(
  "redis (standalone)",
  async () => {
    redis = await startRedis();
    return new RedisDeviceStore(testConnection(new Redis(redis.url)));
  },
  async () => redis.stop(),
);

describe("Redis key layout (both keys in one hash slot, codes hashed)", () => {
  const fixture = useRedis();

  it("writes device:code and device:user_code with one hash tag, one TTL, and no plaintext codes", async () => {
    const store = new RedisDeviceStore(testConnection(fixture.client));
    const userCode = mintUserCode();
    const expiresAt = Date.now() + 120_000;
    const deviceCode = mintDeviceCode(userCode, expiresAt);
    const device = parseDeviceCode(deviceCode);
    if (!device) throw new Error("unparseable");
    await store.create(device.handle, userCodeHandle(userCode), {
      clientId: "cli",
      scopes: ["read"],
      resources: [],
      createdAt: Date.now(),
      expiresAt,
      interval: 5,
      lastPolledAt: 0,
      status: "pending",
      ipAddress: "127.0.0.1",
      userAgent: "ua",
    });
    const keys = (await fixture.client.keys("*")).sort();
    expect(keys).toHaveLength(2);
    const [codeKey, userKey] = keys as [string, string];
    expect(codeKey).toMatch(/^device:code:\{[A-Za-z0-9_-]{4}\}:[A-Za-z0-9_-]{16}$/);
    expect(userKey).toMatch(/^device:user_code:\{[A-Za-z0-9_-]{4}\}:[A-Za-z0-9_-]{16}$/);
    const tag = (k: string) => k.slice(k.indexOf("{"), k.indexOf("}") + 1);
    expect(tag(codeKey)).toBe(tag(userKey));
    // Same slot on a Cluster: CLUSTER KEYSLOT hashes only the {tag}.
    const [a, b] = await Promise.all(
      [codeKey, userKey].map((k) => fixture.client.call("CLUSTER", "KEYSLOT", k).catch(() => null)),
    );
    if (a !== null) expect(a).toBe(b);
    expect(await fixture.client.pexpiretime(codeKey)).toBe(expiresAt);
    expect(await fixture.client.pexpiretime(userKey)).toBe(expiresAt);
    // A dump must not hand out live codes.
    const dump = JSON.stringify([
      keys,
      await fixture.client.get(codeKey),
      await fixture.client.get(userKey),
    ]);
    expect(dump).not.toContain(deviceCode.split(".")[2]);
    expect(dump).not.toContain(userCode);
  });

  it("fails with temporarily_unavailable, not a crash, when Redis is gone", async () => {
    const gone = await startRedis();
    const c = new Redis(gone.url, {
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      retryStrategy: () => null,
    });
    c.on("error", () => {});
    const store = new RedisDeviceStore(testConnection(c));
    await gone.stop();
    await expect(store.ping()).rejects.toMatchObject({ code: "temporarily_unavailable" });
    c.disconnect();
  });
});
