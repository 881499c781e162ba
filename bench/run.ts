/**
 * `npm run bench`: handoff against the bare node:http + EVALSHA yardstick,
 * on the device authorization and the poll, with a real redis-server. Each
 * server runs in its own process; autocannon runs in this one. Loopback only,
 * bounded in time.
 */
import { type ChildProcess, spawn } from "node:child_process";
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

async function load(url: string, path: string, bodies: string[]): Promise<number> {
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
  return result.requests.average;
}

const redis = await startRedis();
const rows: string[] = [];
try {
  const results: Record<string, Record<string, number>> = {};
  for (const [name, file] of [
    ["baseline (node:http + 1 EVALSHA)", "baseline-server.ts"],
    ["handoff", "handoff-server.ts"],
  ] as const) {
    const target = await startTarget(file, { REDIS_URL: redis.url });
    try {
      const codes = (await deviceCodes(target.url, 500)).map(
        (c) =>
          `grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=demo-cli&device_code=${c}`,
      );
      await load(target.url, "/oauth/device/authorize", ["client_id=demo-cli"]); // warm-up
      results[name] = {
        authorize: await load(target.url, "/oauth/device/authorize", ["client_id=demo-cli"]),
        poll: await load(target.url, "/oauth/token", codes),
      };
    } finally {
      await stopProcess(target.child);
    }
  }
  const base = results["baseline (node:http + 1 EVALSHA)"] ?? {};
  const ours = results.handoff ?? {};
  rows.push(
    `| endpoint | baseline req/s | handoff req/s | handoff / baseline |`,
    `|---|---|---|---|`,
  );
  for (const ep of ["authorize", "poll"]) {
    const b = base[ep] ?? 0;
    const h = ours[ep] ?? 0;
    rows.push(`| ${ep} | ${Math.round(b)} | ${Math.round(h)} | ${Math.round((h / b) * 100)} % |`);
  }
  console.log(`\n${SECONDS} s per run, ${CONNECTIONS} connections, loopback, one redis-server\n`);
  console.log(rows.join("\n"));
} finally {
  await redis.stop();
}
