/**
 * `npm run bench`: handoff against the bare node:http + EVALSHA yardstick and
 * against node-oidc-provider, on the device authorization and the poll, with
 * a real redis-server this script starts (and stops) on a free port; plus
 * gRPC PollToken over h2c, Redis bytes per pending authorization, and the
 * poll's cost with 1k … 1M pending authorizations (flat-cost table).
 *
 * Each server runs in its own process (pinned to one CPU with taskset when
 * BENCH_CPU is set, the default "1" on a machine with two or more); the load
 * generators run in this one. Rounds interleave the servers, so whatever else
 * the machine does weighs on each alike; tables report medians. Loopback
 * only, bounded in time; exits non-zero when a run fails (connection errors,
 * 5xx, a server that does not start) and, with BENCH_STRICT=1, when a target
 * is missed.
 *
 * Settings (environment): BENCH_QUICK=1 (1 round of 2 s: a fast check),
 * BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_CONNECTIONS (50), BENCH_CPU,
 * BENCH_FLAT_REDIS (1000,100000,1000000), BENCH_FLAT_MEMORY (1000,100000),
 * BENCH_STRICT.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { PollTokenRequestSchema } from "../gen/handoff/v1/device_auth_pb.js";
import { freePort } from "../test/support/free-port.js";
import { startRedis, stopProcess } from "../test/support/redis-server.js";
import { grpcFrame, grpcLoad } from "./grpc-load.js";
import * as raw from "./raw-load.js";

const QUICK = process.env.BENCH_QUICK === "1";
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 2 : 5));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CPU = process.env.BENCH_CPU ?? (os.availableParallelism() >= 2 ? "1" : "");
const list = (v: string | undefined, d: string) => (v ?? d).split(",").filter(Boolean).map(Number);
const FLAT_REDIS = list(
  process.env.BENCH_FLAT_REDIS,
  QUICK ? "1000,100000" : "1000,100000,1000000",
);
const FLAT_MEMORY = list(process.env.BENCH_FLAT_MEMORY, "1000,100000");
const STRICT = process.env.BENCH_STRICT === "1";
const POLL_CODES = 500;
const BYTES_SAMPLE = 2000;
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const AUTHORIZE = "/oauth/device/authorize";
const TOKEN = "/oauth/token";
const GRPC_POLL = "/handoff.v1.DeviceAuthService/PollToken";
const here = import.meta.dirname;

type Target = { child: ChildProcess; url: string };
const running = new Set<ChildProcess>();
/** Stops the redis-server at once (signal or failure paths). */
let killRedis: () => Promise<void> = async () => {};

/** Starts a server file in its own process (pinned if BENCH_CPU) and waits for "ready". */
async function startTarget(file: string, env: Record<string, string>): Promise<Target> {
  const port = await freePort();
  const node = [process.execPath, "--import", "tsx", join(here, file)];
  const [cmd, ...args] = CPU ? ["taskset", "-c", CPU, ...node] : node;
  const clean = { ...process.env };
  delete clean.REDIS_URL;
  const child = spawn(cmd as string, args, {
    env: { ...clean, NODE_ENV: "production", ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start:\n${err}`)), 120_000);
    child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (c) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${c}:\n${err}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function stopTarget(t: Target): Promise<void> {
  await stopProcess(t.child);
}

const form = { "content-type": "application/x-www-form-urlencoded" };

/** Device codes from `n` real device authorizations, 20 at a time. */
async function deviceCodes(url: string, n: number): Promise<string[]> {
  const codes: string[] = [];
  const one = async () => {
    const res = await fetch(url + AUTHORIZE, {
      method: "POST",
      headers: form,
      body: "client_id=demo-cli",
    });
    if (res.status !== 200) throw new Error(`authorize: ${res.status} ${await res.text()}`);
    codes.push(((await res.json()) as { device_code: string }).device_code);
  };
  for (let i = 0; i < n; i += 20)
    await Promise.all(Array.from({ length: Math.min(20, n - i) }, one));
  return codes;
}

/** CPU time (user + system) a process has used, in µs, from /proc (Linux). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return (ticks / 100) * 1e6; // USER_HZ is 100 on Linux
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
  /**
   * The server's share of its core while loaded (CPU time / wall time). Well
   * under 100 % says something else held the rate: the load, Redis, or
   * waiting between them.
   */
  busy: number;
}

/**
 * HTTP/1.1 load (bench/raw-load.ts): `CONNECTIONS` keep-alive connections,
 * bodies in turn; every answer must have the status `expect`.
 */
async function httpLoad(
  url: string,
  path: string,
  bodies: string[],
  expect: string,
  seconds = SECONDS,
) {
  const r = await raw.httpLoad(url + path, bodies, { connections: CONNECTIONS, seconds });
  const other = Object.keys(r.statuses).filter((s) => s !== expect);
  if (r.errors > 0 || other.length > 0 || r.total === 0)
    throw new Error(`${url}${path}: ${r.errors} errors, statuses ${JSON.stringify(r.statuses)}`);
  return r;
}

/** Runs a load and adds the server's CPU per request. */
async function measure(
  t: Target,
  run: () => Promise<{ rps: number; total: number; p50: number; p99: number }>,
): Promise<Sample> {
  const pid = t.child.pid ?? 0;
  const before = cpuMicros(pid);
  const started = performance.now();
  const r = await run();
  const used = cpuMicros(pid) - before;
  const busy = used / ((performance.now() - started) * 1000);
  return { rps: r.rps, p50: r.p50, p99: r.p99, cpuUs: used / r.total, busy };
}

const pollBody = (c: string) => `grant_type=${DEVICE_GRANT}&client_id=demo-cli&device_code=${c}`;
const grpcBody = (c: string) =>
  grpcFrame(
    toBinary(
      PollTokenRequestSchema,
      create(PollTokenRequestSchema, { clientId: "demo-cli", deviceCode: c }),
    ),
  );

const grpcShape = { sessions: 5, streamsPerSession: Math.max(1, Math.round(CONNECTIONS / 5)) };

/**
 * gRPC PollToken through node:http2's client, which reads each grpc-status: 9
 * FAILED_PRECONDITION (authorization_pending) or 8 RESOURCE_EXHAUSTED
 * (slow_down). The warm-up, before the timed load, which cannot read them.
 */
async function checkGrpcPoll(url: string, codes: string[]) {
  const r = await grpcLoad(url, GRPC_POLL, codes.map(grpcBody), { ...grpcShape, seconds: 1 });
  const unexpected = Object.keys(r.statuses).filter((s) => s !== "9" && s !== "8");
  if (r.errors > 0 || unexpected.length > 0 || r.total === 0)
    throw new Error(`gRPC poll: ${r.errors} errors, statuses ${JSON.stringify(r.statuses)}`);
}

/** gRPC PollToken, the same 50 calls in flight over 5 h2c sessions (bench/raw-load.ts): each a Trailers-Only answer. */
async function grpcPoll(url: string, codes: string[], seconds = SECONDS) {
  const r = await raw.grpcLoad(url, GRPC_POLL, codes.map(grpcBody), { ...grpcShape, seconds });
  const other = Object.keys(r.statuses).filter((s) => s !== "trailers-only");
  if (r.errors > 0 || other.length > 0 || r.total === 0)
    throw new Error(`gRPC poll: ${r.errors} errors, answers ${JSON.stringify(r.statuses)}`);
  return r;
}

type Endpoint = "authorize" | "poll" | "grpc poll";
const samples = new Map<string, Sample[]>();
const keyOf = (server: string, ep: Endpoint) => `${server}|${ep}`;
function record(server: string, ep: Endpoint, s: Sample) {
  samples.set(keyOf(server, ep), [...(samples.get(keyOf(server, ep)) ?? []), s]);
}
const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const med = (server: string, ep: Endpoint, f: keyof Sample) =>
  median((samples.get(keyOf(server, ep)) ?? []).map((s) => s[f]));

const SERVERS = [
  { name: "yardstick", file: "baseline-server.ts", grpc: true },
  { name: "handoff", file: "handoff-server.ts", grpc: true },
  { name: "oidc-provider", file: "oidc-provider-server.ts", grpc: false },
] as const;

/** One round for one server: warm-up, authorize, poll (and gRPC poll). */
async function round(s: (typeof SERVERS)[number], redisUrl: string) {
  const t = await startTarget(s.file, { REDIS_URL: redisUrl });
  try {
    const codes = await deviceCodes(t.url, POLL_CODES);
    await httpLoad(t.url, AUTHORIZE, ["client_id=demo-cli"], "200", Math.min(2, SECONDS)); // warm-up (JIT)
    await httpLoad(t.url, TOKEN, codes.map(pollBody), "400", 1);
    record(
      s.name,
      "authorize",
      await measure(t, () => httpLoad(t.url, AUTHORIZE, ["client_id=demo-cli"], "200")),
    );
    record(
      s.name,
      "poll",
      await measure(t, () => httpLoad(t.url, TOKEN, codes.map(pollBody), "400")),
    );
    if (s.grpc) {
      await checkGrpcPoll(t.url, codes);
      record(s.name, "grpc poll", await measure(t, () => grpcPoll(t.url, codes)));
    }
  } finally {
    await stopTarget(t);
  }
}

/** Redis memory (and keys) that N pending authorizations take, after the server's own start-up keys. */
async function bytesPerPending(s: (typeof SERVERS)[number], redisUrl: string, redis: Redis) {
  await redis.flushall();
  const t = await startTarget(s.file, { REDIS_URL: redisUrl });
  try {
    await deviceCodes(t.url, 10); // scripts loaded, connections made
    const m0 = await usedMemory(redis);
    const k0 = await redis.dbsize();
    await deviceCodes(t.url, BYTES_SAMPLE);
    return {
      bytes: ((await usedMemory(redis)) - m0) / BYTES_SAMPLE,
      keys: ((await redis.dbsize()) - k0) / BYTES_SAMPLE,
    };
  } finally {
    await stopTarget(t);
    await redis.flushall();
  }
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/**
 * Fills Redis up to `total` pending authorizations: copies of a real record
 * and its user-code index under fresh keys (same layout, tags spread), in
 * chunks of 50k per script so Redis never blocks for long.
 */
const FILL = `
local n, start, record, index, at = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
for i = start, start + n - 1 do
  local tag = string.format('%04x', i % 65536)
  redis.call('SET', 'device:code:{' .. tag .. '}:fill' .. i, record, 'PXAT', at)
  redis.call('SET', 'device:user_code:{' .. tag .. '}:fill' .. i, 'fill' .. i, 'PXAT', at)
end
return n`;
async function fillTo(redis: Redis, total: number, have: number): Promise<number> {
  const [, keys] = await redis.scan("0", "MATCH", "device:code:*", "COUNT", 1000);
  const recordKey = keys[0];
  if (recordKey === undefined) throw new Error("no device record to copy");
  const record = (await redis.get(recordKey)) ?? "";
  const at = Date.now() + 3_600_000;
  for (let done = have; done < total; ) {
    const n = Math.min(50_000, total - done);
    await redis.eval(FILL, 0, n, done, record, "x", at);
    done += n;
  }
  return Math.max(total, have);
}

interface FlatRow {
  store: string;
  pending: number;
  sample: Sample;
  redisMb?: number;
}

/** The poll's cost as pending authorizations grow: Redis (filled by script) and memory (prefilled in-process). */
async function flatCost(redisUrl: string, redis: Redis): Promise<FlatRow[]> {
  const rows: FlatRow[] = [];
  await redis.flushall();
  const t = await startTarget("handoff-server.ts", { REDIS_URL: redisUrl });
  try {
    const codes = await deviceCodes(t.url, POLL_CODES);
    await httpLoad(t.url, TOKEN, codes.map(pollBody), "400", 1);
    let have = POLL_CODES;
    for (const n of FLAT_REDIS) {
      have = await fillTo(redis, n, have);
      const sample = await measure(t, () => httpLoad(t.url, TOKEN, codes.map(pollBody), "400"));
      rows.push({
        store: "redis",
        pending: await pendingOnRedis(redis),
        sample,
        redisMb: (await usedMemory(redis)) / 2 ** 20,
      });
    }
  } finally {
    await stopTarget(t);
    await redis.flushall();
  }
  for (const n of FLAT_MEMORY) {
    const m = await startTarget("handoff-server.ts", {
      BENCH_PREFILL: String(Math.max(0, n - POLL_CODES)),
    });
    try {
      const codes = await deviceCodes(m.url, POLL_CODES);
      await httpLoad(m.url, TOKEN, codes.map(pollBody), "400", 1);
      rows.push({
        store: "memory",
        pending: n,
        sample: await measure(m, () => httpLoad(m.url, TOKEN, codes.map(pollBody), "400")),
      });
    } finally {
      await stopTarget(m);
    }
  }
  return rows;
}

/** Device records on Redis (each record has one index key beside it). */
async function pendingOnRedis(redis: Redis): Promise<number> {
  return Math.round((await redis.dbsize()) / 2);
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const pct = (a: number, b: number) => `${fmt((a / b) * 100)} %`;

function report(bytes: Map<string, { bytes: number; keys: number }>, flat: FlatRow[]): boolean {
  const cpuModel = os.cpus()[0]?.model ?? "unknown CPU";
  const lines: string[] = [];
  lines.push(
    `${new Date().toISOString().slice(0, 10)}, ${cpuModel} (${os.availableParallelism()} CPUs), Node ${process.version}, ` +
      `redis-server ${
        execFileSync("redis-server", ["--version"])
          .toString()
          .match(/v=(\S+)/)?.[1] ?? "?"
      }`,
  );
  lines.push(
    `${ROUNDS} interleaved round(s) × ${SECONDS} s per run, medians; ${CONNECTIONS} keep-alive connections (gRPC: ${CONNECTIONS} streams on 5 h2c sessions); ` +
      `each server alone on ${CPU ? `CPU ${CPU} (taskset)` : "any CPU"}, load generators (bench/raw-load.ts) in the bench process; loopback; one redis-server.`,
  );
  lines.push("");
  lines.push(
    "| endpoint | yardstick req/s | handoff req/s | oidc-provider req/s | handoff / yardstick | handoff / oidc-provider | p50 / p99 ms (yardstick · handoff · oidc-provider) | server CPU µs/req (yardstick · handoff · oidc-provider) | server core busy (yardstick · handoff · oidc-provider) |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|");
  for (const ep of ["authorize", "poll"] as const) {
    const [y, h, o] = ["yardstick", "handoff", "oidc-provider"].map((s) => med(s, ep, "rps")) as [
      number,
      number,
      number,
    ];
    const lat = ["yardstick", "handoff", "oidc-provider"]
      .map((s) => `${fmt(med(s, ep, "p50"), 1)}/${fmt(med(s, ep, "p99"), 1)}`)
      .join(" · ");
    const cpu = ["yardstick", "handoff", "oidc-provider"]
      .map((s) => fmt(med(s, ep, "cpuUs")))
      .join(" · ");
    const busy = ["yardstick", "handoff", "oidc-provider"]
      .map((s) => pct(med(s, ep, "busy"), 1))
      .join(" · ");
    lines.push(
      `| ${ep} | ${fmt(y)} | ${fmt(h)} | ${fmt(o)} | ${pct(h, y)} | ${pct(h, o)} | ${lat} | ${cpu} | ${busy} |`,
    );
  }
  const g = med("handoff", "grpc poll", "rps");
  const gy = med("yardstick", "grpc poll", "rps");
  const hp = med("handoff", "poll", "rps");
  const yp = med("yardstick", "poll", "rps");
  const glat = ["yardstick", "handoff"]
    .map((s) => `${fmt(med(s, "grpc poll", "p50"), 1)}/${fmt(med(s, "grpc poll", "p99"), 1)}`)
    .join(" · ");
  lines.push(
    `| poll, gRPC h2c (PollToken) | ${fmt(gy)} | ${fmt(g)} | – | ${pct(g, gy)} | ${pct(g, med("oidc-provider", "poll", "rps"))} (its HTTP poll) | ${glat} · – | ${fmt(med("yardstick", "grpc poll", "cpuUs"))} · ${fmt(med("handoff", "grpc poll", "cpuUs"))} · – | ${pct(med("yardstick", "grpc poll", "busy"), 1)} · ${pct(med("handoff", "grpc poll", "busy"), 1)} · – |`,
  );
  lines.push("");
  lines.push(
    `gRPC against HTTP/1.1: handoff's gRPC poll is ${pct(g, hp)} of its HTTP poll; the yardstick's (bare node:http2, Trailers-Only, the same EVALSHA) is ${pct(gy, yp)} of its bare node:http poll.`,
  );
  // The servers of one round ran minutes apart, not the rounds: a round's ratio moves less than its rates.
  const byRound = (a: [string, Endpoint], b: [string, Endpoint]) => {
    const xs = samples.get(keyOf(...a)) ?? [];
    const ys = samples.get(keyOf(...b)) ?? [];
    return xs.map((x, i) => pct(x.rps, ys[i]?.rps ?? Number.NaN)).join(", ");
  };
  lines.push(
    `By round: handoff / yardstick, authorize ${byRound(["handoff", "authorize"], ["yardstick", "authorize"])}; ` +
      `poll ${byRound(["handoff", "poll"], ["yardstick", "poll"])}; ` +
      `gRPC poll ${byRound(["handoff", "grpc poll"], ["yardstick", "grpc poll"])}; ` +
      `handoff's gRPC poll / its HTTP poll ${byRound(["handoff", "grpc poll"], ["handoff", "poll"])}.`,
  );
  lines.push("");
  lines.push(
    "Redis memory per pending device authorization (used_memory growth over " +
      `${BYTES_SAMPLE} authorizations):`,
  );
  lines.push("");
  lines.push("| server | bytes per pending authorization | keys per pending authorization |");
  lines.push("|---|---|---|");
  for (const [name, b] of bytes) lines.push(`| ${name} | ${fmt(b.bytes)} | ${fmt(b.keys, 1)} |`);
  lines.push("");
  lines.push("Poll cost as pending authorizations grow (handoff, HTTP poll, one run each):");
  lines.push("");
  lines.push(
    "| store | pending authorizations | poll req/s | p50 / p99 ms | server CPU µs/req | server core busy | Redis used_memory MB |",
  );
  lines.push("|---|---|---|---|---|---|---|");
  for (const r of flat)
    lines.push(
      `| ${r.store} | ${r.pending.toLocaleString("en-US")} | ${fmt(r.sample.rps)} | ${fmt(r.sample.p50, 1)}/${fmt(r.sample.p99, 1)} | ${fmt(r.sample.cpuUs)} | ${pct(r.sample.busy, 1)} | ${r.redisMb === undefined ? "–" : fmt(r.redisMb)} |`,
    );
  lines.push("");
  const checks = [
    [
      `authorize: handoff ≥ 80 % of the yardstick`,
      med("handoff", "authorize", "rps") >= 0.8 * med("yardstick", "authorize", "rps"),
    ],
    [`poll: handoff ≥ 80 % of the yardstick`, hp >= 0.8 * med("yardstick", "poll", "rps")],
    [`gRPC poll ≥ HTTP poll`, g >= hp],
    [`gRPC poll: handoff ≥ 80 % of the gRPC yardstick`, g >= 0.8 * gy],
  ] as const;
  for (const [what, ok] of checks) lines.push(`${ok ? "met   " : "MISSED"} ${what}`);
  console.log(`\n${lines.join("\n")}`);
  console.log(`\nsamples: ${JSON.stringify(Object.fromEntries(samples))}`);
  return checks.every(([, ok]) => ok);
}

async function main(): Promise<number> {
  const redisProcess = await startRedis();
  killRedis = redisProcess.kill;
  const redis = new Redis(redisProcess.url);
  try {
    const bytes = new Map<string, { bytes: number; keys: number }>();
    for (const s of SERVERS) bytes.set(s.name, await bytesPerPending(s, redisProcess.url, redis));
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate the order too, so no server always runs first.
      for (let i = 0; i < SERVERS.length; i++) {
        const s = SERVERS[(i + r) % SERVERS.length] as (typeof SERVERS)[number];
        process.stderr.write(`round ${r + 1}/${ROUNDS}: ${s.name}\n`);
        await round(s, redisProcess.url);
        await redis.flushall();
      }
    }
    process.stderr.write("flat-cost table\n");
    const flat = await flatCost(redisProcess.url, redis);
    const met = report(bytes, flat);
    return STRICT && !met ? 2 : 0;
  } finally {
    redis.disconnect();
    for (const c of running) c.kill("SIGKILL");
    await redisProcess.stop();
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const c of running) c.kill("SIGKILL");
    void killRedis().finally(() => process.exit(130));
  });
}
main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    for (const c of running) c.kill("SIGKILL");
    process.exit(1);
  },
);
