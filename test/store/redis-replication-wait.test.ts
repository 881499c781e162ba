/**
 * WAIT after durable writes (HANDOFF_REDIS_WAIT_REPLICAS, docs/failure.md
 * "Replication"): Redis replicates asynchronously, so a write answered by a
 * master may exist nowhere else when that master dies. With the setting on,
 * RedisConnection.guardDurable answers a write only once the replica holds
 * it. The replica is stopped (SIGSTOP) to make the gap observable: with
 * WAIT, the answer is held until the replica runs again and then the
 * replica has the write; without it, the write is answered while only the
 * master has it.
 */

import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisConnection, type ReplicationWait } from "../../src/store/redis-connection.js";
import { RedisDeviceStore } from "../../src/store/redis-device-store.js";
import { sleep } from "../support/handoff-server.js";
import {
  type RedisClusterProcess,
  replicaOf,
  startRedisCluster,
  waitForReplicasInSync,
} from "../support/redis-cluster.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { until } from "../support/until.js";
import { newRequest } from "./device-store-contract.js";

async function waitCalls(client: Redis): Promise<number> {
  const stats = String(await client.info("commandstats"));
  return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

/** Runs `body` with the replica stopped (it neither answers nor acknowledges replication). */
async function withReplicaStopped<T>(replica: RedisProcess, body: () => Promise<T>): Promise<T> {
  process.kill(replica.pid, "SIGSTOP");
  try {
    return await body();
  } finally {
    process.kill(replica.pid, "SIGCONT");
  }
}

describe("guardDurable on one Redis with a replica", () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let admin: Redis;
  let onReplica: Redis;
  const clients: Redis[] = [];
  const connection = (replication: ReplicationWait, deadlineMs = 10_000) => {
    const client = new Redis(master.url, { enableAutoPipelining: true });
    clients.push(client);
    return { client, redis: new RedisConnection(client, deadlineMs, replication) };
  };

  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ args: ["--replicaof", "127.0.0.1", String(master.port)] });
    await waitForReplicasInSync([replica.port]);
    admin = new Redis(master.url);
    onReplica = new Redis(replica.url);
  });
  afterAll(async () => {
    for (const c of [...clients, admin, onReplica]) c.disconnect();
    await replica.stop();
    await master.stop();
  });

  it("WAIT 1: the answer waits for the replica, and right after it the replica holds the write", async () => {
    const shorts: unknown[] = [];
    const { client, redis } = connection({
      replicas: 1,
      timeoutMs: 5000,
      onShort: (e) => shorts.push(e),
    });
    const before = await waitCalls(admin);
    await withReplicaStopped(replica, async () => {
      let answered = false;
      const write = redis
        .guardDurable("approved:1", () => client.set("approved:1", "yes"))
        .then(() => {
          answered = true;
        });
      // The master has the write; its answer is held while no replica acknowledged it.
      await until(async () => (await admin.get("approved:1")) === "yes", {
        timeoutMs: 10000,
        everyMs: 20,
      });
      await sleep(200);
      expect(answered).toBe(false);
      process.kill(replica.pid, "SIGCONT");
      await write;
    });
    expect(await onReplica.get("approved:1")).toBe("yes");
    expect(await waitCalls(admin)).toBe(before + 1);
    expect(shorts).toEqual([]);
  });

  it("WAIT off (the default): the write is answered while only the master holds it", async () => {
    const { client, redis } = connection({ replicas: 0, timeoutMs: 100 });
    const before = await waitCalls(admin);
    await withReplicaStopped(replica, async () => {
      await redis.guardDurable("approved:2", () => client.set("approved:2", "yes"));
      // Answered, and the replica (stopped) has not got it: a master crash now would lose it.
      expect(await admin.get("approved:2")).toBe("yes");
    });
    await until(async () => (await onReplica.get("approved:2")) === "yes", {
      timeoutMs: 10000,
      everyMs: 20,
    });
    expect(await waitCalls(admin)).toBe(before);
  });

  it("fewer replicas than asked within the WAIT timeout: temporarily_unavailable and counted; then no WAIT to that node for the backoff, still refused", async () => {
    const shorts: Array<{ acked: number; skipped: boolean }> = [];
    const { client, redis } = connection({
      replicas: 1,
      timeoutMs: 200,
      onShort: (e) => shorts.push(e),
    });
    const before = await waitCalls(admin);
    const outcomes: unknown[] = [];
    await withReplicaStopped(replica, async () => {
      for (const key of ["approved:3", "approved:4"]) {
        outcomes.push(
          await redis
            .guardDurable(key, () => client.set(key, "yes"))
            .then(
              () => "answered",
              (e: { code?: string }) => e.code,
            ),
        );
      }
    });
    // Not answered as done: a failover now could undo the write (docs/failure.md "Replication").
    expect(outcomes).toEqual(["temporarily_unavailable", "temporarily_unavailable"]);
    expect(shorts).toEqual([
      { acked: 0, skipped: false },
      { acked: 0, skipped: true },
    ]);
    expect(await waitCalls(admin)).toBe(before + 1);
    expect(await admin.mget("approved:3", "approved:4")).toEqual(["yes", "yes"]);
  });

  it("a device code's consumption and its retry (reissued) are both durable: with the replica stopped neither is answered, once it holds them the retry gets the set", async () => {
    const { redis } = connection({ replicas: 1, timeoutMs: 100 });
    const store = new RedisDeviceStore(redis);
    const pacing = { minGapMs: 0, stepSeconds: 5 };
    const retry = { windowMs: 60_000, leaseMs: 1000 };
    const r = newRequest({ expiresAt: Date.now() + 60_000, issuanceNonce: "n0nce" });
    await store.create(r.device, r.user, r.record);
    await store.decide(
      r.user,
      { approve: true, subject: "alice", grantedScopes: ["read"] },
      Date.now(),
    );
    const t = Date.now();
    const poll = (at: number) =>
      store.poll(r.device, "cli", at, pacing, [], retry).then(
        (o) => o.kind,
        (e: { code?: string }) => e.code,
      );
    const outcomes = await withReplicaStopped(replica, async () => {
      const consumed = await poll(t);
      // Past the backoff: this retry sends its own WAIT, which comes back short too.
      await sleep(1100);
      return [consumed, await poll(t + 5000)];
    });
    // The consumption is on the master only: answering its retry with the set
    // would acknowledge a consumption a failover could undo (docs/failure.md "Replication").
    expect(outcomes).toEqual(["temporarily_unavailable", "temporarily_unavailable"]);
    await sleep(1100);
    expect(await poll(t + 10_000)).toBe("reissued");
  });

  it("a decision whose WAIT came back short, retried on another connection, is answered only once a replica holds it", async () => {
    // Two instances, two connections. The retry writes nothing (the request is
    // decided); its WAIT still waits for the master's offset, not only for
    // the writes of its own connection (seen on Redis 7.0: a WAIT on a fresh
    // connection after another's write answers 0 while the replica lags).
    const first = new RedisDeviceStore(connection({ replicas: 1, timeoutMs: 100 }).redis);
    const second = new RedisDeviceStore(connection({ replicas: 1, timeoutMs: 100 }).redis);
    const r = newRequest({ expiresAt: Date.now() + 60_000 });
    await first.create(r.device, r.user, r.record);
    const approve = { approve: true, subject: "alice", grantedScopes: ["read"] };
    const decide = (store: RedisDeviceStore) =>
      store.decide(r.user, approve, Date.now()).then(
        (o) => o.kind,
        (e: { code?: string }) => e.code,
      );
    const outcomes = await withReplicaStopped(replica, async () => [
      await decide(first),
      // The retry finds the decision made: answering it now would acknowledge
      // what a failover can undo (docs/failure.md "Replication").
      await decide(second),
    ]);
    expect(outcomes).toEqual(["temporarily_unavailable", "temporarily_unavailable"]);
    await waitForReplicasInSync([replica.port]);
    await sleep(1100); // past the second connection's backoff
    expect(await second.decide(r.user, approve, Date.now())).toMatchObject({
      kind: "already_decided",
      authorization: { status: "approved", subject: "alice" },
    });
  });

  it("a write whose answer says nothing durable happened sends no WAIT", async () => {
    const { client, redis } = connection({ replicas: 1, timeoutMs: 1000 });
    const before = await waitCalls(admin);
    expect(
      await redis.guardDurable(
        "pending:1",
        () => client.get("pending:1"),
        (r) => r !== null,
      ),
    ).toBeNull();
    expect(await waitCalls(admin)).toBe(before);
  });

  it("a WAIT that gets no answer (the master stops after the write): temporarily_unavailable at the deadline", async () => {
    const { client, redis } = connection({ replicas: 1, timeoutMs: 100 }, 500);
    const pausing = new Redis(master.url);
    clients.push(pausing);
    const outcome = await redis
      .guardDurable("approved:5", async () => {
        const r = await client.set("approved:5", "yes");
        await pausing.call("CLIENT", "PAUSE", "1000", "ALL");
        return r;
      })
      .then(
        () => "answered",
        (e: { code?: string }) => e.code,
      );
    await admin.call("CLIENT", "UNPAUSE");
    expect(outcome).toBe("temporarily_unavailable");
  });
});

describe("guardDurable on a Cluster (3 masters + 3 replicas)", () => {
  let cluster: RedisClusterProcess;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it("WAIT goes to the master that holds the key's slot, and the answer waits for that master's replica", async () => {
    const client = new Cluster([{ host: "127.0.0.1", port: cluster.nodes[0]?.port ?? 0 }], {
      enableAutoPipelining: true,
    });
    const masters = [0, 1, 2].map((i) => new Redis(cluster.nodes[i]?.port ?? 0, "127.0.0.1"));
    try {
      const redis = new RedisConnection(client, 10_000, { replicas: 1, timeoutMs: 5000 });
      // Keys in many slots, so every master holds some.
      const keys = Array.from({ length: 12 }, (_, i) => `device:code:{t${i}}:x`);
      const m0 = masters[0] as Redis;
      const slots = (await m0.call("CLUSTER", "SLOTS")) as Array<
        [number, number, [string, number]]
      >;
      const owner = async (key: string) => {
        const slot = Number(await m0.call("CLUSTER", "KEYSLOT", key));
        const port = slots.find(([lo, hi]) => slot >= lo && slot <= hi)?.[2][1];
        return cluster.nodes.findIndex((n) => n.port === port);
      };
      const owners = await Promise.all(keys.map(owner));
      const before = await Promise.all(masters.map(waitCalls));
      for (const k of keys) await redis.guardDurable(k, () => client.set(k, "yes"));
      const after = await Promise.all(masters.map(waitCalls));
      expect(after.map((n, i) => n - (before[i] ?? 0))).toEqual(
        [0, 1, 2].map((i) => owners.filter((o) => o === i).length),
      );

      // The replica of one key's master stopped: that key's answer waits for it.
      const key = keys[0] as string;
      const replica = cluster.nodes[await replicaOf(cluster, owners[0] as number)] as RedisProcess;
      await withReplicaStopped(replica, async () => {
        let answered = false;
        const write = redis
          .guardDurable(key, () => client.set(key, "again"))
          .then(() => {
            answered = true;
          });
        await until(async () => (await client.get(key)) === "again", {
          timeoutMs: 10000,
          everyMs: 20,
        });
        await sleep(200);
        expect(answered).toBe(false);
        process.kill(replica.pid, "SIGCONT");
        await write;
      });
      const direct = new Redis(replica.port, "127.0.0.1");
      try {
        await direct.call("READONLY");
        expect(await direct.get(key)).toBe("again");
      } finally {
        direct.disconnect();
      }
    } finally {
      client.disconnect();
      for (const m of masters) m.disconnect();
    }
  });
});
