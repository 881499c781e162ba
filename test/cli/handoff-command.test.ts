/** The `handoff` command as an operator runs it (through tsx, so no build is needed). */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { stopProcess } from "../support/redis-server.js";

const root = join(import.meta.dirname, "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");
const main = join(root, "src", "cli", "main.ts");
const run = promisify(execFile);
const clean = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child) await stopProcess(child);
  child = undefined;
});

/** Starts the command and resolves with its output once `marker` appears. */
function startUntil(args: string[], env: Record<string, string>, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    child = spawn(tsx, [main, ...args], { env: { ...clean, ...env }, cwd: root });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no "${marker}" in:\n${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(marker)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${out}`));
    });
  });
}

describe("handoff start", () => {
  it("refuses to start without explicit configuration, naming each missing setting", async () => {
    const e = await run(tsx, [main, "start"], { env: clean, cwd: root }).catch((err) => err);
    expect(e.code).toBe(1);
    for (const name of [
      "HANDOFF_ISSUER",
      "HANDOFF_CLIENTS_FILE",
      "HANDOFF_SIGNING_KEYS_FILE",
      "HANDOFF_CSRF_SECRET",
    ]) {
      expect(e.stderr).toContain(name);
    }
  });

  it("refuses a wrong value with a message naming the setting", async () => {
    const e = await run(tsx, [main, "start-dev"], {
      env: { ...clean, HANDOFF_POLL_INTERVAL: "fast" },
      cwd: root,
    }).catch((err) => err);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain("HANDOFF_POLL_INTERVAL");
  });

  it("starts with a clients file and generated keys, and seeds nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "handoff-cli-"));
    const { stdout: keys } = await run(tsx, [main, "keys", "generate"], { env: clean, cwd: root });
    expect(JSON.parse(keys).keys[0]).toMatchObject({
      kty: "EC",
      alg: "ES256",
      kid: expect.any(String),
      d: expect.any(String),
    });
    writeFileSync(join(dir, "keys.json"), keys);
    writeFileSync(
      join(dir, "clients.json"),
      JSON.stringify({
        clients: [
          { client_id: "prod-cli", grant_types: ["urn:ietf:params:oauth:grant-type:device_code"] },
        ],
      }),
    );
    const port = await freePort();
    await startUntil(
      ["start"],
      {
        PORT: String(port),
        HANDOFF_HOST: "127.0.0.1",
        HANDOFF_ISSUER: `http://127.0.0.1:${port}`,
        HANDOFF_CLIENTS_FILE: join(dir, "clients.json"),
        HANDOFF_SIGNING_KEYS_FILE: join(dir, "keys.json"),
        HANDOFF_CSRF_SECRET: "pL4mN8qR2tV6xZ0bD3fH7jK1sW5yA9cE2gI6kM0oQ4u",
      },
      '"msg":"listening"',
    );
    const post = (client: string) =>
      fetch(`http://127.0.0.1:${port}/oauth/device/authorize`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `client_id=${client}`,
      });
    expect((await post("prod-cli")).status).toBe(200);
    expect((await post("demo-cli")).status).toBe(401); // no dev seed in production
  });
});

describe("handoff start-dev", () => {
  it("seeds demo-cli, prints the banner, and serves without Redis", async () => {
    const port = await freePort();
    const out = await startUntil(
      ["start-dev"],
      { PORT: String(port), HANDOFF_HOST: "127.0.0.1" },
      "Try it:",
    );
    expect(out).toContain(`http://localhost:${port}`);
    expect(out).toContain("store: memory");
    const res = await fetch(`http://127.0.0.1:${port}/oauth/device/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "client_id=demo-cli",
    });
    expect(res.status).toBe(200); // RFC 6749 §3.3: no scope, demo-cli's defaults apply
  });

  it("logs are written in batches, yet SIGTERM loses no line: one access-log line per request, then the shutdown", async () => {
    const port = await freePort();
    await startUntil(["start-dev"], { PORT: String(port), HANDOFF_HOST: "127.0.0.1" }, "Try it:");
    const proc = child as ChildProcess;
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once("exit", resolve));
    const N = 300;
    const statuses = await Promise.all(
      Array.from({ length: N }, () =>
        fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status),
      ),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    proc.kill("SIGTERM"); // at once: most of these lines are still in the buffer
    expect(await exited).toBe(0);
    const lines = out.split("\n").filter((l) => l.startsWith("{"));
    const requests = lines.filter((l) => l.includes('"msg":"request"') && l.includes('"/healthz"'));
    expect(requests).toHaveLength(N);
    expect(lines.at(-1)).toContain('"msg":"shutting down"');
  });

  it("prints usage for an unknown command", async () => {
    const e = await run(tsx, [main, "frobnicate"], { env: clean, cwd: root }).catch((err) => err);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain("usage: handoff");
  });

  it("--help prints usage on stdout and exits 0; main.ts loads each command only when it runs", async () => {
    const { stdout } = await run(tsx, [main, "--help"], { env: clean, cwd: root });
    expect(stdout).toContain("usage: handoff");
    // A static import in main.ts would load its whole tree for every command (the server's for `--help`).
    expect(readFileSync(main, "utf8")).not.toMatch(/^import\s/m);
  });
});
