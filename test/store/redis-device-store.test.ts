import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { mintDeviceCode, parseDeviceCode, userCodeHandle } from "../../src/domain/device-code.js";
import { mintUserCode } from "../../src/domain/user-code.js";
import { RedisAttemptCounter } from "../../src/store/redis-attempt-counter.js";
import { RedisDeviceStore } from "../../src/store/redis-device-store.js";
import { FORGET_BUCKET } from "../../src/store/redis-operator-scripts.js";
import {
  type RedisProcess,
  startRedis,
  testConnection,
  useRedis,
} from "../support/redis-server.js";
import { deviceStoreContract, newRequest } from "./device-store-contract.js";

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
    const createdAt = Date.now();
    const expiresAt = createdAt + 120_000;
    const deviceCode = mintDeviceCode(userCode, expiresAt);
    const device = parseDeviceCode(deviceCode);
    if (!device) throw new Error("unparseable");
    await store.create(device.handle, userCodeHandle(userCode), {
      clientId: "cli",
      scopes: ["read"],
      resources: [],
      createdAt,
      expiresAt,
      interval: 5,
      lastPolledAt: 0,
      status: "pending",
      ipAddress: "127.0.0.1",
      userAgent: "ua",
    });
    const all = (await fixture.client.keys("*")).sort();
    expect(all).toHaveLength(4);
    const [bucketSet, bucketKey, ...keys] = all as [string, string, string, string];
    const [codeKey, userKey] = keys as [string, string];
    expect(codeKey).toMatch(/^device:code:\{[A-Za-z0-9_-]{4}\}:[A-Za-z0-9_-]{16}$/);
    expect(userKey).toMatch(/^device:user_code:\{[A-Za-z0-9_-]{4}\}:[A-Za-z0-9_-]{16}$/);
    // The client's pending index (operators' listing), in the client's own slot:
    // a one-minute bucket holding the device-code handle and the creation
    // time (never a code), and the set of buckets, until the request ends.
    expect(bucketSet).toBe("device:client:{cli}");
    const [bucketId] = await fixture.client.zrange(bucketSet, 0, -1);
    expect(bucketKey).toBe(`device:client:{cli}:${bucketId}`);
    const entry = await fixture.client.get(bucketKey);
    expect(entry).toHaveLength(28);
    expect(entry?.slice(0, 20)).toBe(codeKey.slice("device:code:".length).replace(/[{}:]/g, ""));
    // Kept until the last request its minute can hold ends (at this lifetime), the set with it.
    const bucketEnd = Number.parseInt(bucketId as string, 36) * 60_000 + 60_000 + 120_000;
    expect(await fixture.client.pexpiretime(bucketKey)).toBe(bucketEnd);
    expect(await fixture.client.pexpiretime(bucketSet)).toBe(bucketEnd);
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
      all,
      entry,
      await fixture.client.get(codeKey),
      await fixture.client.get(userKey),
    ]);
    expect(dump).not.toContain(deviceCode.split(".")[2]);
    expect(dump).not.toContain(userCode);
  });

  it("a reader forgets a gone bucket only while it is still gone: a create may have started it again since the read", async () => {
    await fixture.client.flushall();
    const set = "device:client:{cli}";
    await fixture.client.zadd(set, 1, "a", 2, "b");
    await fixture.client.set(`${set}:b`, "x".repeat(28));
    for (const id of ["a", "b"])
      await fixture.client.eval(FORGET_BUCKET, 2, set, `${set}:${id}`, id);
    expect(await fixture.client.zrange(set, 0, -1)).toEqual(["b"]);
  });

  it("prunes the client's pending index on read: decided entries leave their bucket, an emptied bucket goes", async () => {
    const store = new RedisDeviceStore(testConnection(fixture.client));
    await fixture.client.flushall();
    const now = Date.now();
    const made = [];
    for (let n = 0; n < 3; n++) {
      const userCode = mintUserCode();
      const parsed = parseDeviceCode(mintDeviceCode(userCode, now + 120_000));
      if (!parsed) throw new Error("unparseable");
      const user = userCodeHandle(userCode);
      await store.create(parsed.handle, user, {
        clientId: "prune-cli",
        scopes: [],
        resources: [],
        createdAt: now,
        expiresAt: now + 120_000,
        interval: 5,
        lastPolledAt: 0,
        status: "pending",
        ipAddress: "127.0.0.1",
        userAgent: "ua",
      });
      made.push({ device: parsed.handle, user });
    }
    const [bucket] = (await fixture.client.keys("device:client:{prune-cli}:*")) as [string];
    expect(await fixture.client.strlen(bucket)).toBe(3 * 28);
    const deny = { approve: false, subject: "operator", grantedScopes: [] };
    await store.decideByDevice(made[0]?.device as never, deny, now + 1);
    expect((await store.listPendingByClient("prune-cli", now + 2, 10)).items).toHaveLength(2);
    expect(await fixture.client.strlen(bucket)).toBe(2 * 28);
    for (const m of made.slice(1)) await store.decideByDevice(m.device, deny, now + 3);
    expect(await store.listPendingByClient("prune-cli", now + 4, 10)).toEqual({ items: [] });
    expect(await fixture.client.exists(bucket)).toBe(0);
    // The bucket set forgets a bucket once it is gone.
    expect(await store.listPendingByClient("prune-cli", now + 5, 10)).toEqual({ items: [] });
    expect(await fixture.client.exists("device:client:{prune-cli}")).toBe(0);
  });

  it("on one Redis a device authorization is one script: the record, its user code and the client's pending index", async () => {
    await fixture.client.flushall();
    const store = new RedisDeviceStore(testConnection(new Redis(fixture.server.url)));
    const now = Date.now();
    const request = (clientId: string) => {
      const userCode = mintUserCode();
      const parsed = parseDeviceCode(mintDeviceCode(userCode, now + 120_000));
      if (!parsed) throw new Error("unparseable");
      const record = {
        clientId,
        scopes: [],
        resources: [],
        createdAt: now,
        expiresAt: now + 120_000,
        interval: 5,
        lastPolledAt: 0,
        status: "pending" as const,
        ipAddress: "127.0.0.1",
        userAgent: "ua",
      };
      return { device: parsed.handle, user: userCodeHandle(userCode), record };
    };
    // The first use loads the script (EVALSHA, NOSCRIPT, EVAL); count after it.
    const first = request("one-cli");
    expect(await store.create(first.device, first.user, first.record)).toBe(true);
    await fixture.client.config("RESETSTAT");
    const r = request("one-cli");
    expect(await store.create(r.device, r.user, r.record)).toBe(true);
    const stats = String(await fixture.client.info("commandstats"));
    const calls = (name: string) =>
      Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    expect(calls("evalsha") + calls("eval")).toBe(1);
    const listed = await store.listPendingByClient("one-cli", now + 1, 10);
    expect(listed.items.map((e) => e.device).sort((a, b) => a.hash.localeCompare(b.hash))).toEqual(
      [first.device, r.device].sort((a, b) => a.hash.localeCompare(b.hash)),
    );
    // Best effort inside the script: an index it cannot write (here a key of
    // another type) leaves the request created and unlisted, as a lost second
    // step would.
    await fixture.client.set("device:client:{broken-cli}", "not a sorted set");
    const unlisted = request("broken-cli");
    expect(await store.create(unlisted.device, unlisted.user, unlisted.record)).toBe(true);
    expect(await store.findByUserCode(unlisted.user, now + 1)).toMatchObject({
      clientId: "broken-cli",
      status: "pending",
    });
    await store.close();
  });

  it("on one Redis the device-authorization quota is charged in CREATE's own step: one script; a refusal writes and charges nothing; a taken user code is still charged", async () => {
    await fixture.client.flushall();
    const connection = testConnection(new Redis(fixture.server.url));
    const store = new RedisDeviceStore(connection);
    const counter = new RedisAttemptCounter(connection);
    const createCharged = store.createCharged;
    if (createCharged === undefined) throw new Error("one Redis: createCharged expected");
    // The address may make 1 for free, then a 60 s delay; the client 100.
    const policy = { free: 1, baseDelayMs: 60_000, maxDelayMs: 60_000, windowMs: 600_000 };
    const slots = [
      { key: "ratelimit:{authorize}:ip:a", policy },
      { key: "ratelimit:{authorize}:client:c", policy: { ...policy, free: 100 } },
    ];
    const now = Date.now();
    const at = { createdAt: now, expiresAt: now + 120_000 };
    const first = newRequest(at);
    expect(await createCharged(first.device, first.user, first.record, { slots, now })).toEqual({
      kind: "created",
    });
    expect(await store.findByUserCode(first.user, now)).toMatchObject({ status: "pending" });
    await fixture.client.config("RESETSTAT");
    // The same user code: taken, nothing written, and charged all the same.
    const twin = newRequest(at, first.userCode);
    expect(await createCharged(twin.device, twin.user, twin.record, { slots, now })).toEqual({
      kind: "taken",
    });
    const stats = String(await fixture.client.info("commandstats"));
    expect(Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1])).toBe(1);
    expect(
      await fixture.client.exists(`device:code:{${twin.device.tag}}:${twin.device.hash}`),
    ).toBe(0);
    expect(await fixture.client.hget("ratelimit:{authorize}:client:c", "n")).toBe("2");
    // The address's second charge started its delay: refused, nothing written or charged.
    const third = newRequest(at);
    expect(
      await createCharged(third.device, third.user, third.record, { slots, now: now + 1 }),
    ).toEqual({ kind: "limited", retryAfterMs: 59_999 });
    expect(await store.findByUserCode(third.user, now + 1)).toBeNull();
    expect(await fixture.client.hget("ratelimit:{authorize}:client:c", "n")).toBe("2");
    // The same counters as the attempt counter's ATTEMPT: it sees the same delay.
    expect(await counter.attempt(slots, now + 1)).toEqual({ allowed: false, retryAfterMs: 59_999 });
    await store.close();
  });

  it("a record of the earlier layouts (12 and 17 fields) is approved and consumed with its origin; an approver adds the 18th field", async () => {
    const store = new RedisDeviceStore(testConnection(fixture.client));
    const pacing = { minGapMs: 4000, stepSeconds: 5 };
    for (const fields of [12, 17]) {
      const r = newRequest({ expiresAt: Date.now() + 60_000, issuanceNonce: "n0nce" });
      await store.create(r.device, r.user, r.record);
      const key = `device:code:{${r.device.tag}}:${r.device.hash}`;
      const packed = (await fixture.client.get(key)) as string;
      // What the previous versions wrote: no approver field (and at 12, no issuance fields).
      expect(packed.split("\x1f")).toHaveLength(17);
      await fixture.client.set(key, packed.split("\x1f").slice(0, fields).join("\x1f"), "KEEPTTL");
      await store.decide(
        r.user,
        {
          approve: true,
          subject: "alice",
          grantedScopes: ["read"],
          approverAddress: "198.51.100.9",
        },
        Date.now(),
      );
      expect((await fixture.client.get(key))?.split("\x1f")).toHaveLength(18);
      expect(await store.poll(r.device, "cli", Date.now(), pacing)).toMatchObject({
        kind: "issued",
        grant: {
          subject: "alice",
          origin: {
            requesterAddress: "203.0.113.7",
            requesterUserAgent: "agent/1.0 (test)",
            approverAddress: "198.51.100.9",
          },
        },
      });
    }
    // Decided with no approver address (an earlier instance's decision): the record stays at 17.
    const r = newRequest({ expiresAt: Date.now() + 60_000 });
    await store.create(r.device, r.user, r.record);
    await store.decide(r.user, { approve: true, subject: "bob", grantedScopes: [] }, Date.now());
    const key = `device:code:{${r.device.tag}}:${r.device.hash}`;
    expect((await fixture.client.get(key))?.split("\x1f")).toHaveLength(17);
    const out = await store.poll(r.device, "cli", Date.now(), pacing);
    expect(out).toMatchObject({
      grant: {
        origin: { requesterAddress: "203.0.113.7", requesterUserAgent: "agent/1.0 (test)" },
      },
    });
    expect(out.kind === "issued" && out.grant.origin?.approverAddress).toBe(undefined);
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
