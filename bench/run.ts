/**
 * `npm run bench`: handoff against the bare node:http + EVALSHA yardstick,
 * on the device authorization and the poll, with a real redis-server. Each
 * server runs in its own process; autocannon runs in this one. Loopback only,
 * bounded in time.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
// @ts-expect-error autocannon ships no types
import autocannon from "autocannon";
import { freePort } from "../test/support/free-port.js";
import { startRedis, stopProcess } from "../test/support/redis-server.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const here = import.meta.dirname;

async function startTarget(
  file: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", join(here, file)], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
    child.once("exit", (c) => reject(new Error(`${file} exited with ${c}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function deviceCodes(url: string, n: number): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/oauth/device/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "client_id=demo-cli",
    });
    codes.push(((await res.json()) as { device_code: string }).device_code);
  }
  return codes;
}

/** CPU time (user + system) a process has used, in µs, from /proc (Linux). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return (ticks / 100) * 1e6; // USER_HZ is 100 on Linux
}

/** Throughput, and the server's own CPU per request: steadier than req/s on a shared machine. */
async function measure(
  target: { child: ChildProcess; url: string },
  path: string,
  bodies: string[],
): Promise<{ rps: number; cpuUs: number }> {
  const pid = target.child.pid ?? 0;
  const before = cpuMicros(pid);
  const { rps, total } = await load(target.url, path, bodies);
  return { rps, cpuUs: (cpuMicros(pid) - before) / total };
}

async function load(
  url: string,
  path: string,
  bodies: string[],
): Promise<{ rps: number; total: number }> {
  let i = 0;
  const result = await autocannon({
    url: url + path,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        setupRequest: (req: Record<string, unknown>) => ({
          ...req,
          body: bodies[i++ % bodies.length],
        }),
      },
    ],
  });
  if (result.errors > 0 || result.non2xx + result["2xx"] === 0)
    throw new Error(`errors: ${result.errors}`);
  return { rps: result.requests.average, total: result.requests.total };
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TARGETS = [
  ["baseline (node:http + 1 EVALSHA)", "baseline-server.ts"],
  ["handoff", "handoff-server.ts"],
] as const;

/** Appends one round's authorize and poll figures for a server. */
function record(
  table: Record<string, Record<string, number[]>>,
  name: string,
  authorize: number,
  poll: number,
) {
  const row = table[name] ?? { authorize: [], poll: [] };
  row.authorize?.push(authorize);
  row.poll?.push(poll);
  table[name] = row;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const redis = await startRedis();
try {
  // Rounds alternate the two servers, so that whatever else the machine is
  // doing weighs on both alike; the table reports medians.
  const samples: Record<string, Record<string, number[]>> = {};
  const cpu: Record<string, Record<string, number[]>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, file] of TARGETS) {
      const target = await startTarget(file, { REDIS_URL: redis.url });
      try {
        const codes = (await deviceCodes(target.url, 500)).map(
          (c) =>
            `grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=demo-cli&device_code=${c}`,
        );
        await load(target.url, "/oauth/device/authorize", ["client_id=demo-cli"]); // warm-up (JIT)
        const a = await measure(target, "/oauth/device/authorize", ["client_id=demo-cli"]);
        const p = await measure(target, "/oauth/token", codes);
        record(samples, name, a.rps, p.rps);
        record(cpu, name, a.cpuUs, p.cpuUs);
      } finally {
        await stopProcess(target.child);
      }
    }
  }
  const rows = [
    "| endpoint | baseline req/s | handoff req/s | handoff / baseline | baseline CPU µs/req | handoff CPU µs/req |",
    "|---|---|---|---|---|---|",
  ];
  for (const ep of ["authorize", "poll"]) {
    const b = median(samples[TARGETS[0][0]]?.[ep] ?? []);
    const h = median(samples[TARGETS[1][0]]?.[ep] ?? []);
    const bc = median(cpu[TARGETS[0][0]]?.[ep] ?? []);
    const hc = median(cpu[TARGETS[1][0]]?.[ep] ?? []);
    rows.push(
      `| ${ep} | ${Math.round(b)} | ${Math.round(h)} | ${Math.round((h / b) * 100)} % | ${Math.round(bc)} | ${Math.round(hc)} |`,
    );
  }
  console.log(
    `\n${ROUNDS} rounds × ${SECONDS} s per run (medians), ${CONNECTIONS} connections, loopback, one redis-server\n`,
  );
  console.log(rows.join("\n"));
  console.log(`\nsamples: ${JSON.stringify({ rps: samples, cpuUsPerRequest: cpu })}`);
} finally {
  await redis.stop();
}
