/**
 * What HANDOFF_REDIS_WAIT_REPLICAS costs (docs/failure.md "Replication"):
 * on a real 3-master, 3-replica Redis Cluster, one handoff instance,
 * closed-loop device flows (authorize, approve over the RPC, the one poll
 * that gets the tokens), with WAIT off, WAIT 1, and WAIT 1 with one
 * master's replica stopped (SIGSTOP: the degraded case the backoff is for).
 *
 *   node --import tsx bench/replication-wait.ts [seconds per run] [concurrency]
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Cluster } from "ioredis";
import { Decision, DeviceAuthService } from "../gen/handoff/v1/device_auth_pb.js";
import { RedisConnection } from "../src/store/redis-connection.js";
import { percentile } from "../test/support/device-flows.js";
import { DEVICE_GRANT, SERVICE_TOKEN, startTestServer } from "../test/support/handoff-server.js";
import { replicaOf, startRedisCluster } from "../test/support/redis-cluster.js";
import { bearer } from "../test/support/rpc-clients.js";

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 16);

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

async function run(label: string, seeds: readonly string[], waitReplicas: number): Promise<string> {
  const server = await startTestServer({
    redis: { clusterNodes: seeds },
    redisTimeoutMs: 2000,
    redisWaitReplicas: waitReplicas,
    redisWaitTimeoutMs: 100,
    logLevel: "error",
  });
  const base = server.issuer;
  const rpc = createClient(
    DeviceAuthService,
    createConnectTransport({
      baseUrl: base,
      httpVersion: "1.1",
      interceptors: [bearer(SERVICE_TOKEN)],
    }),
  );
  const ms = { authorize: [] as number[], approve: [] as number[], poll: [] as number[] };
  let flows = 0;
  let failures = 0;
  const timed = async <T>(into: number[], f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await f();
    into.push(performance.now() - t);
    return r;
  };
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        try {
          const a = (await timed(ms.authorize, async () =>
            (
              await fetch(`${base}/oauth/device/authorize`, form({ client_id: "public-cli" }))
            ).json(),
          )) as { device_code: string; user_code: string };
          await timed(ms.approve, () =>
            rpc.approve({ userCode: a.user_code, subject: "alice", decision: Decision.APPROVE }),
          );
          const t = (await timed(ms.poll, async () =>
            (
              await fetch(
                `${base}/oauth/token`,
                form({
                  grant_type: DEVICE_GRANT,
                  device_code: a.device_code,
                  client_id: "public-cli",
                }),
              )
            ).json(),
          )) as { access_token?: string };
          if (t.access_token) flows++;
          else failures++;
        } catch {
          failures++;
        }
      }
    }),
  );
  await server.close();
  const q = (xs: number[]) =>
    `p50 ${percentile(xs, 50).toFixed(1)} p99 ${percentile(xs, 99).toFixed(1)}`;
  return `| ${label} | ${(flows / seconds).toFixed(0)} | ${q(ms.authorize)} | ${q(ms.approve)} | ${q(ms.poll)} | ${failures} |`;
}

/** The store-level cost alone: durable writes (SET) through guardDurable, one at a time and `concurrency` at once. */
async function raw(seeds: readonly string[], waitReplicas: number): Promise<string> {
  const [host, port] = (seeds[0] as string).split(":");
  const client = new Cluster([{ host: host as string, port: Number(port) }], {
    enableAutoPipelining: true,
  });
  const redis = new RedisConnection(client, 2000, { replicas: waitReplicas, timeoutMs: 100 });
  const write = (i: number) =>
    redis.guardDurable(`bench:{${i % 1000}}`, () => client.set(`bench:{${i % 1000}}`, "x"));
  for (let i = 0; i < 200; i++) await write(i); // warm up
  const one: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    await write(i);
    one.push(performance.now() - t);
  }
  let done = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = w; Date.now() < end; i += concurrency) {
        await write(i);
        done++;
      }
    }),
  );
  client.disconnect();
  return `| WAIT ${waitReplicas} | p50 ${percentile(one, 50).toFixed(3)} p99 ${percentile(one, 99).toFixed(3)} | ${(done / seconds).toFixed(0)} |`;
}

const cluster = await startRedisCluster({ masters: 3, replicas: 1 });
try {
  const store = [
    "| durable SET | one at a time, ms | writes/s, " + concurrency + " in flight |",
    "|---|---|---|",
  ];
  for (const n of [0, 1, 0, 1]) store.push(await raw(cluster.seeds, n));
  const stopped = cluster.nodes[await replicaOf(cluster, 0)];
  if (!stopped) throw new Error("no replica");
  process.kill(stopped.pid, "SIGSTOP");
  try {
    store.push((await raw(cluster.seeds, 1)).replace("WAIT 1", "WAIT 1, one replica stopped"));
  } finally {
    process.kill(stopped.pid, "SIGCONT");
  }
  console.log(store.join("\n"));
  const rows = [
    "| run | flows/s | authorize ms | approve ms | consuming poll ms | failed |",
    "|---|---|---|---|---|---|",
  ];
  rows.push(await run("WAIT off (0)", cluster.seeds, 0));
  rows.push(await run("WAIT 1", cluster.seeds, 1));
  rows.push(await run("WAIT off (0), again", cluster.seeds, 0));
  rows.push(await run("WAIT 1, again", cluster.seeds, 1));
  const replica = cluster.nodes[await replicaOf(cluster, 0)];
  if (!replica) throw new Error("no replica");
  process.kill(replica.pid, "SIGSTOP");
  try {
    rows.push(await run("WAIT off (0), one replica stopped", cluster.seeds, 0));
    rows.push(await run("WAIT 1, one replica stopped", cluster.seeds, 1));
  } finally {
    process.kill(replica.pid, "SIGCONT");
  }
  console.log(`${seconds} s per run, ${concurrency} concurrent flows, one instance\n`);
  console.log(rows.join("\n"));
} finally {
  await cluster.stop();
}
