/**
 * Spawns real `redis-server` processes on free loopback ports for tests.
 * A missing binary fails the run at once with the install command: Redis
 * tests never skip.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster } from "ioredis";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { RedisConnection } from "../../src/store/redis-connection.js";
import { freePort } from "./free-port.js";

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** The process id, for SIGSTOP/SIGCONT (a Redis that stops answering and replicating). */
  readonly pid: number;
  /** Stops the server (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL: a crash, no shutdown save); keeps its directory. */
  kill(): Promise<void>;
}

export function requireBinary(name: string, pkg: string): void {
  try {
    execFileSync(name, ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error(`${name} is not installed; install it with: apt-get install -y ${pkg}`);
  }
}

/** Starts one redis-server and resolves when it accepts connections. */
export async function startRedis(
  options: { args?: string[]; dir?: string; port?: number } = {},
): Promise<RedisProcess> {
  requireBinary("redis-server", "redis-server");
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "handoff-redis-"));
  const port = options.port ?? (await freePort());
  const args = [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--dir", dir,
    "--save", "",
    "--appendonly", "no",
    "--protected-mode", "no",
    ...(options.args ?? []),
  ]; // biome-ignore format: flag/value pairs
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  await waitForReady(child, port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid: child.pid ?? 0,
    stop: () =>
      stopProcess(
        child,
        () => options.dir === undefined && rmSync(dir, { recursive: true, force: true }),
      ),
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

function waitForReady(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`redis-server on ${port} did not start:\n${out}`)),
      10_000,
    );
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on ${port} exited with ${code}:\n${out}`));
    });
  });
}

export function stopProcess(child: ChildProcess, cleanup: () => void = () => {}): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      cleanup();
      resolve();
      return;
    }
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      cleanup();
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * A redis-server and a client for the enclosing describe block (or file):
 * started in beforeAll, stopped in afterAll. Read them inside tests.
 */
export function useRedis(): { readonly server: RedisProcess; readonly client: Redis } {
  let server: RedisProcess | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });
  const started = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error("useRedis: read it inside a test, after beforeAll");
    return x;
  };
  return {
    get server() {
      return started(server);
    },
    get client() {
      return started(client);
    },
  };
}

/** A store connection around a test's own client, with a deadline far above any healthy call. */
export function testConnection(client: Redis | Cluster, deadlineMs = 5000): RedisConnection {
  return new RedisConnection(client, deadlineMs);
}
