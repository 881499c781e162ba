/**
 * `node --import tsx bench/instructions.ts dir/bench/handoff-server.ts`:
 * machine instructions per request of a server on the hot endpoints, counted
 * by valgrind's callgrind (every thread of the process). Unlike time, the
 * count does not move with whatever else the machine runs, so two trees can
 * be compared on a busy machine; it is a relative measure (valgrind slows
 * the server some 50 times, and the JIT sees that), never a throughput.
 *
 * Settings (environment): INSTR_WARMUP (3000 requests per endpoint before
 * counting), INSTR_REQUESTS (2000 counted), INSTR_ENDPOINTS (authorize,poll).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort } from "../test/support/free-port.js";
import { startRedis } from "../test/support/redis-server.js";
import { formLoad } from "./form-load.js";

const WARMUP = Number(process.env.INSTR_WARMUP ?? 3000);
const REQUESTS = Number(process.env.INSTR_REQUESTS ?? 2000);
const ENDPOINTS = (process.env.INSTR_ENDPOINTS ?? "authorize,poll").split(",");
const form = { "content-type": "application/x-www-form-urlencoded" };
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

async function load(url: string, path: string, bodies: string[], amount: number) {
  const r = await formLoad(url + path, bodies, { connections: 10, amount, timeout: 120 });
  if (r.errors > 0 || r["5xx"] > 0) throw new Error(`${path}: ${r.errors} errors, ${r["5xx"]} 5xx`);
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
        stdio: ["ignore", "pipe", "pipe"],
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
    const bodies: Record<string, [string, string[]]> = {
      authorize: ["/oauth/device/authorize", ["client_id=demo-cli"]],
      poll: [
        "/oauth/token",
        codes.map((c) => `grant_type=${DEVICE_GRANT}&client_id=demo-cli&device_code=${c}`),
      ],
    };
    const pid = String(child.pid);
    for (const ep of ENDPOINTS) {
      const [path, b] = bodies[ep] ?? ["", []];
      await load(url, path, b, WARMUP);
      execFileSync("callgrind_control", ["--instr=on", pid]);
      execFileSync("callgrind_control", ["-z", pid]);
      await load(url, path, b, REQUESTS);
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
