/**
 * `node --import tsx bench/instructions.ts dir/bench/handoff-server.ts`:
 * machine instructions per request of a server on the hot endpoints, counted
 * by valgrind's callgrind (every thread of the process). Unlike time, the
 * count does not move with whatever else the machine runs, so two trees can
 * be compared on a busy machine; it is a relative measure (valgrind slows
 * the server some 50 times, and the JIT sees that), never a throughput.
 *
 * Settings (environment): INSTR_WARMUP (3000 requests per endpoint before
 * counting), INSTR_REQUESTS (2000 counted), INSTR_ENDPOINTS (authorize,poll;
 * grpc is PollToken over h2c by bench/grpc-load.ts, the same codes as poll).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { PollTokenRequestSchema } from "../gen/handoff/v1/device_auth_pb.js";
import { freePort } from "../test/support/free-port.js";
import { startRedis } from "../test/support/redis-server.js";
import { formLoad } from "./form-load.js";
import { grpcFrame, grpcLoad } from "./grpc-load.js";

const WARMUP = Number(process.env.INSTR_WARMUP ?? 3000);
const REQUESTS = Number(process.env.INSTR_REQUESTS ?? 2000);
const ENDPOINTS = (process.env.INSTR_ENDPOINTS ?? "authorize,poll").split(",");
const form = { "content-type": "application/x-www-form-urlencoded" };
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

async function load(url: string, path: string, bodies: string[], amount: number) {
  const r = await formLoad(url + path, bodies, { connections: 10, amount, timeout: 120 });
  if (r.errors > 0 || r["5xx"] > 0) throw new Error(`${path}: ${r.errors} errors, ${r["5xx"]} 5xx`);
}

/** PollToken over h2c: 10 streams in flight (2 sessions of 5), as many as the form load's connections. */
async function grpcPolls(url: string, bodies: Buffer[], amount: number) {
  const r = await grpcLoad(url, "/handoff.v1.DeviceAuthService/PollToken", bodies, {
    sessions: 2,
    streamsPerSession: 5,
    amount,
  });
  // An answer is FAILED_PRECONDITION (authorization_pending) or RESOURCE_EXHAUSTED (slow_down).
  const faults = Object.keys(r.statuses).filter((s) => s !== "9" && s !== "8");
  if (r.errors > 0 || faults.length > 0) {
    throw new Error(`grpc: ${r.errors} errors, statuses ${JSON.stringify(r.statuses)}`);
  }
}

const files = process.argv.slice(2);
const redis = await startRedis();
try {
  for (const file of files) {
    const out = mkdtempSync(join(tmpdir(), "callgrind-"));
    const port = await freePort();
    const child = spawn(
      "valgrind",
      [
        "--tool=callgrind",
        `--callgrind-out-file=${out}/cg.%p`,
        "--instr-atstart=no",
        process.execPath,
        "--import",
        "tsx",
        file,
      ],
      {
        cwd: dirname(dirname(file)),
        env: {
          ...process.env,
          NODE_ENV: "production",
          REDIS_URL: redis.url,
          PORT: String(port),
          BENCH_REDIS_TIMEOUT_MS: "60000",
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
      child.once("exit", (c) => reject(new Error(`${file} exited ${c}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const codes: string[] = [];
    for (let i = 0; i < 500; i++) {
      const r = await fetch(`${url}/oauth/device/authorize`, {
        method: "POST",
        headers: form,
        body: "client_id=demo-cli",
      });
      codes.push(((await r.json()) as { device_code: string }).device_code);
    }
    const polls = codes.map(
      (c) => `grant_type=${DEVICE_GRANT}&client_id=demo-cli&device_code=${c}`,
    );
    const frames = codes.map((c) =>
      grpcFrame(
        toBinary(
          PollTokenRequestSchema,
          create(PollTokenRequestSchema, { clientId: "demo-cli", deviceCode: c }),
        ),
      ),
    );
    const loads: Record<string, (amount: number) => Promise<void>> = {
      authorize: (n) => load(url, "/oauth/device/authorize", ["client_id=demo-cli"], n),
      poll: (n) => load(url, "/oauth/token", polls, n),
      grpc: (n) => grpcPolls(url, frames, n),
    };
    const pid = String(child.pid);
    for (const ep of ENDPOINTS) {
      const run = loads[ep];
      if (!run) throw new Error(`unknown endpoint ${ep}`);
      await run(WARMUP);
      execFileSync("callgrind_control", ["--instr=on", pid]);
      execFileSync("callgrind_control", ["-z", pid]);
      await run(REQUESTS);
      execFileSync("callgrind_control", ["-d", ep, pid]);
      execFileSync("callgrind_control", ["--instr=off", pid]);
      await new Promise((r) => setTimeout(r, 500));
      const dump = readdirSync(out)
        .map((f) => readFileSync(join(out, f), "utf8"))
        .find((t) => t.includes(`desc: Trigger: Client Request: ${ep}`) || t.includes(`${ep}`));
      const total = Number(/^summary: (\d+)/m.exec(dump ?? "")?.[1] ?? Number.NaN);
      process.stdout.write(
        `${file.padEnd(44)} ${ep.padEnd(10)} ${(total / REQUESTS / 1000).toFixed(1).padStart(8)} k instructions/request\n`,
      );
      for (const f of readdirSync(out)) execFileSync("rm", ["-f", join(out, f)]);
    }
    child.kill("SIGKILL");
  }
} finally {
  await redis.stop();
}
