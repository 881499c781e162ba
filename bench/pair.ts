/**
 * `node --import tsx bench/pair.ts`: an A/B of server trees on the hot
 * endpoints, for working on the hot path (README "Benchmarks" says how the
 * full bench is run). Each target is `name=dir/file` (a checkout and a server
 * file inside it, e.g. `old=/tmp/old/bench/handoff-server.ts`); rounds
 * interleave the targets on one Redis and report the median throughput and
 * the server's CPU µs per request, which noise on a shared machine moves
 * less than throughput (on a busy machine run it under `nice -n -20` and
 * read the least CPU per request), and Redis's CPU µs per request (Redis
 * shares the other core with the load, so its work costs throughput too). PAIR_PROFILE=1 writes a V8 CPU profile per target
 * (node --cpu-prof) into PAIR_PROFILE_DIR. A target ending in `.js` (a tree
 * compiled with `tsc --outDir`) runs without tsx, so its profiles name lines.
 *
 * Settings (environment): PAIR_ROUNDS (3), PAIR_SECONDS (4), PAIR_CONNECTIONS
 * (50), PAIR_CPU (taskset CPU list; "1" by default on two or more cores),
 * PAIR_ENDPOINTS (authorize,poll,grpc).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { dirname } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { PollTokenRequestSchema } from "../gen/handoff/v1/device_auth_pb.js";
import { freePort } from "../test/support/free-port.js";
import { startRedis } from "../test/support/redis-server.js";
import { grpcFrame } from "./grpc-load.js";
import * as raw from "./raw-load.js";

const ROUNDS = Number(process.env.PAIR_ROUNDS ?? 3);
const SECONDS = Number(process.env.PAIR_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.PAIR_CONNECTIONS ?? 50);
const CPU = process.env.PAIR_CPU ?? (os.availableParallelism() >= 2 ? "1" : "");
const PROFILE = process.env.PAIR_PROFILE === "1";
const PROFILE_DIR = process.env.PAIR_PROFILE_DIR ?? "/tmp/pair-profiles";
const ENDPOINTS = (process.env.PAIR_ENDPOINTS ?? "authorize,poll,grpc").split(",");
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const form = { "content-type": "application/x-www-form-urlencoded" };

const targets = process.argv.slice(2).map((arg) => {
  const eq = arg.indexOf("=");
  return { name: arg.slice(0, eq), file: arg.slice(eq + 1) };
});
if (targets.length === 0) {
  process.stderr.write("usage: pair.ts name=/dir/bench/handoff-server.ts …\n");
  process.exit(2);
}

function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6;
}

async function start(t: { name: string; file: string }, redisUrl: string) {
  const port = await freePort();
  const prof = PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}/${t.name}`] : [];
  // A compiled tree (`.js`, e.g. from `tsc --outDir`) runs without tsx: its profiles keep line numbers.
  const node = t.file.endsWith(".js")
    ? [process.execPath, ...prof, t.file]
    : [process.execPath, ...prof, "--import", "tsx", t.file];
  const [cmd, ...args] = CPU ? ["taskset", "-c", CPU, ...node] : node;
  const child = spawn(cmd as string, args, {
    cwd: dirname(dirname(t.file)),
    env: { ...process.env, NODE_ENV: "production", REDIS_URL: redisUrl, PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
    child.once("exit", (c) => reject(new Error(`${t.file} exited ${c}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function codes(url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const r = await fetch(`${url}/oauth/device/authorize`, {
          method: "POST",
          headers: form,
          body: "client_id=demo-cli",
        });
        out.push(((await r.json()) as { device_code: string }).device_code);
      }),
    );
  }
  return out;
}

async function http(url: string, path: string, bodies: string[], seconds: number) {
  const r = await raw.httpLoad(url + path, bodies, { connections: CONNECTIONS, seconds });
  if (r.errors > 0 || Object.keys(r.statuses).some((s) => s >= "500"))
    throw new Error(`${path}: ${r.errors} errors, statuses ${JSON.stringify(r.statuses)}`);
  return r;
}

async function grpc(url: string, cs: string[], seconds: number) {
  const bodies = cs.map((c) =>
    grpcFrame(
      toBinary(
        PollTokenRequestSchema,
        create(PollTokenRequestSchema, { clientId: "demo-cli", deviceCode: c }),
      ),
    ),
  );
  const r = await raw.grpcLoad(url, "/handoff.v1.DeviceAuthService/PollToken", bodies, {
    sessions: 5,
    streamsPerSession: Math.max(1, Math.round(CONNECTIONS / 5)),
    seconds,
  });
  if (r.errors > 0) throw new Error(`gRPC: ${r.errors} errors`);
  return r;
}

const results = new Map<string, { rps: number; us: number; redisUs: number; busy: number }[]>();
const redis = await startRedis();
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of round % 2 ? [...targets].reverse() : targets) {
      const s = await start(t, redis.url);
      try {
        const cs = await codes(s.url, 500);
        const pid = s.child.pid ?? 0;
        const loads: Record<string, (sec: number) => Promise<raw.RawLoadResult>> = {
          authorize: (sec) => http(s.url, "/oauth/device/authorize", ["client_id=demo-cli"], sec),
          poll: (sec) =>
            http(
              s.url,
              "/oauth/token",
              cs.map((c) => `grant_type=${DEVICE_GRANT}&client_id=demo-cli&device_code=${c}`),
              sec,
            ),
          grpc: (sec) => grpc(s.url, cs, sec),
        };
        for (const ep of ENDPOINTS) {
          const load = loads[ep];
          // Only handoff and the yardstick serve gRPC.
          const grpc = /(handoff|baseline)-server\.[jt]s$/.test(t.file);
          if (!load || (ep === "grpc" && !grpc)) continue;
          await load(1); // warm-up (JIT)
          const before = cpuMicros(pid);
          const redisBefore = cpuMicros(redis.pid);
          const started = performance.now();
          const r = await load(SECONDS);
          const wall = (performance.now() - started) * 1000;
          const key = `${t.name} ${ep}`;
          results.set(key, [
            ...(results.get(key) ?? []),
            {
              rps: r.rps,
              us: (cpuMicros(pid) - before) / r.total,
              redisUs: (cpuMicros(redis.pid) - redisBefore) / r.total,
              busy: (cpuMicros(pid) - before) / wall,
            },
          ]);
        }
      } finally {
        s.child.kill("SIGINT");
        await new Promise((r) => s.child.once("exit", r));
      }
    }
  }
} finally {
  await redis.stop();
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
for (const [key, xs] of results) {
  const rps = med(xs.map((x) => x.rps));
  const us = med(xs.map((x) => x.us));
  const least = Math.min(...xs.map((x) => x.us));
  const redisUs = med(xs.map((x) => x.redisUs));
  const busy = med(xs.map((x) => x.busy));
  process.stdout.write(
    `${key.padEnd(28)} ${rps.toFixed(0).padStart(7)} req/s  ${us.toFixed(1).padStart(6)} µs/req (least ${least.toFixed(1)})  [${xs.map((x) => x.us.toFixed(0)).join(" ")}]  Redis ${redisUs.toFixed(1)} µs/req  busy ${(busy * 100).toFixed(0)} %\n`,
  );
}
