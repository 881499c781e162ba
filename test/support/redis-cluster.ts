/**
 * A real Redis Cluster for tests: three masters (and, for failover tests, a
 * replica each) from Debian's redis-server on free loopback ports, joined
 * with `redis-cli --cluster create`, ready when every node reports
 * cluster_state:ok (never a sleep).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { freePort } from "./free-port.js";
import { type RedisProcess, requireBinary, startRedis } from "./redis-server.js";

const run = promisify(execFile);

export interface RedisClusterProcess {
  /** Masters first, then replicas (`--cluster create` pairs them in that order). */
  readonly nodes: readonly RedisProcess[];
  /** `host:port` seeds, as REDIS_CLUSTER_NODES takes them. */
  readonly seeds: readonly string[];
  /** Kills node `i` (SIGKILL); its directory and cluster config stay for `restart`. */
  kill(i: number): Promise<void>;
  /** Starts node `i` again on its port from its directory: it rejoins with its old identity. */
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of a test cluster. */
export interface ClusterOptions {
  readonly masters?: number;
  /** Replicas per master (0: none, as the store contract tests use). */
  readonly replicas?: number;
  /** cluster-node-timeout: how long a master may be silent before its replica takes over. */
  readonly nodeTimeoutMs?: number;
  /** More redis-server flags for every node. */
  readonly args?: readonly string[];
}

/** A port whose cluster-bus twin (port + 10000) is free too. */
async function clusterPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p + 10000 > 65535) continue;
    try {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(p + 10000, "127.0.0.1", () => server.close(() => resolve()));
      });
      return p;
    } catch {
      // the bus port is taken; try another
    }
  }
  throw new Error("no free port pair for a cluster node");
}

export async function waitForClusterOk(
  ports: readonly number[],
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    const c = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await c.connect();
      for (;;) {
        const info = String(await c.call("CLUSTER", "INFO"));
        if (info.includes("cluster_state:ok")) break;
        if (Date.now() > deadline) throw new Error(`cluster not ok on ${port}:\n${info}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      c.disconnect();
    }
  }
}

export async function startRedisCluster(
  options: ClusterOptions | number = {},
): Promise<RedisClusterProcess> {
  const o = typeof options === "number" ? { masters: options } : options;
  const masters = o.masters ?? 3;
  const replicas = o.replicas ?? 0;
  requireBinary("redis-cli", "redis-tools");
  const nodes: RedisProcess[] = [];
  const dirs: string[] = [];
  const argsFor = (port: number) => [
    "--cluster-enabled", "yes",
    "--cluster-config-file", `nodes-${port}.conf`,
    "--cluster-node-timeout", String(o.nodeTimeoutMs ?? 2000),
    // A replica takes over whatever its replication offset: the tests kill masters on purpose.
    "--cluster-replica-validity-factor", "0",
    ...(o.args ?? []),
  ]; // biome-ignore format: flag/value pairs
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await clusterPort();
      const dir = mkdtempSync(join(tmpdir(), "handoff-cluster-"));
      dirs.push(dir);
      nodes.push(await startRedis({ port, dir, args: argsFor(port) }));
    }
    const seeds = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run("redis-cli", [
      "--cluster",
      "create",
      ...seeds,
      "--cluster-replicas",
      String(replicas),
      "--cluster-yes",
    ]);
    await waitForClusterOk(nodes.map((n) => n.port));
    if (replicas > 0) await waitForReplicasInSync(nodes.map((n) => n.port));
    const node = (i: number) => {
      const n = nodes[i];
      if (!n) throw new Error(`no cluster node ${i}`);
      return n;
    };
    return {
      nodes,
      seeds,
      kill: (i) => node(i).kill(),
      restart: async (i) => {
        const { port, dir } = node(i);
        nodes[i] = await startRedis({ port, dir, args: argsFor(port) });
      },
      stop: async () => {
        await Promise.all(nodes.map((n) => n.stop()));
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    throw e;
  }
}

/** Resolves when every replica among `ports` reports its link to its master up. */
export async function waitForReplicasInSync(
  ports: readonly number[],
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    const c = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1 });
    try {
      for (;;) {
        const info = String(await c.info("replication"));
        if (info.includes("role:master") || info.includes("master_link_status:up")) break;
        if (Date.now() > deadline) throw new Error(`replica ${port} not in sync:\n${info}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      c.disconnect();
    }
  }
}

/** The index of the node that replicates node `master` (a master of a cluster built with replicas). */
export async function replicaOf(cluster: RedisClusterProcess, master: number): Promise<number> {
  const masterPort = cluster.nodes[master]?.port;
  for (let i = 0; i < cluster.nodes.length; i++) {
    const n = cluster.nodes[i] as RedisProcess;
    const c = new Redis(n.port, "127.0.0.1", { maxRetriesPerRequest: 1 });
    try {
      const info = String(await c.info("replication"));
      if (info.includes("role:slave") && info.includes(`master_port:${masterPort}\r`)) return i;
    } finally {
      c.disconnect();
    }
  }
  throw new Error(`node ${master} has no replica`);
}

/** The role node `i` reports (`master` or `slave`), from ROLE. */
export async function roleOf(cluster: RedisClusterProcess, i: number): Promise<string> {
  const c = new Redis(cluster.nodes[i]?.port ?? 0, "127.0.0.1", {
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  try {
    await c.connect();
    return String(((await c.call("ROLE")) as unknown[])[0]);
  } finally {
    c.disconnect();
  }
}

/**
 * Resolves when node `replica` has taken over as master and every node in
 * `live` reports cluster_state:ok again: the failover is over, observed, not
 * waited out. Returns how long it took.
 */
export async function waitForPromotion(
  cluster: RedisClusterProcess,
  replica: number,
  live: readonly number[],
  timeoutMs = 20_000,
): Promise<number> {
  const started = Date.now();
  while ((await roleOf(cluster, replica).catch(() => "")) !== "master") {
    if (Date.now() - started > timeoutMs) throw new Error(`node ${replica} was not promoted`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await waitForClusterOk(
    live.map((i) => cluster.nodes[i]?.port ?? 0),
    Math.max(1, timeoutMs - (Date.now() - started)),
  );
  return Date.now() - started;
}

/** Moves one slot, with its keys, to another master (CLUSTER SETSLOT + MIGRATE, as `--cluster reshard` does). */
export async function migrateSlot(
  cluster: RedisClusterProcess,
  slot: number,
): Promise<{ from: number; to: number }> {
  const clients = cluster.nodes.map((n) => new Redis(n.port, "127.0.0.1"));
  try {
    const ids = await Promise.all(
      clients.map(async (c) => String(await c.call("CLUSTER", "MYID"))),
    );
    const slots = (await (clients[0] as Redis).call("CLUSTER", "SLOTS")) as Array<
      [number, number, [string, number, string]]
    >;
    const range = slots.find(([lo, hi]) => slot >= lo && slot <= hi);
    if (!range) throw new Error(`slot ${slot} has no owner`);
    const fromIndex = ids.indexOf(range[2][2]);
    const toIndex = (fromIndex + 1) % clients.length;
    const from = clients[fromIndex] as Redis;
    const to = clients[toIndex] as Redis;
    const toPort = cluster.nodes[toIndex]?.port ?? 0;
    await to.call("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[fromIndex] as string);
    await from.call("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[toIndex] as string);
    for (;;) {
      const keys = (await from.call("CLUSTER", "GETKEYSINSLOT", slot, 100)) as string[];
      if (keys.length === 0) break;
      await from.call("MIGRATE", "127.0.0.1", toPort, "", 0, 5000, "KEYS", ...keys);
    }
    for (const c of clients)
      await c.call("CLUSTER", "SETSLOT", slot, "NODE", ids[toIndex] as string);
    return { from: cluster.nodes[fromIndex]?.port ?? 0, to: toPort };
  } finally {
    for (const c of clients) c.disconnect();
  }
}
