/**
 * A handoff instance as its own process (`handoff start-dev` through tsx), as
 * an operator runs it: what the soak test stops with SIGTERM and
 * starts again on the same port, and checks is still alive at the end.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { stopProcess } from "./redis-server.js";

const root = join(import.meta.dirname, "..", "..");
const main = join(root, "src", "cli", "main.ts");

export interface HandoffProcess {
  readonly issuer: string;
  readonly port: number;
  /** Everything the process wrote to stdout and stderr, across restarts. */
  output(): string;
  /** True while the current process runs. */
  alive(): boolean;
  /** SIGTERM; resolves with the exit code once it has exited (it drains requests in flight first). */
  terminate(): Promise<number | null>;
  /** Starts the process again, same port and settings; resolves once it listens. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `handoff start-dev` on `port` with `env` (on top of PATH and HOME) and waits until it listens. */
export async function startHandoffProcess(
  port: number,
  env: Record<string, string>,
): Promise<HandoffProcess> {
  let child: ChildProcess | undefined;
  let out = "";
  const fullEnv = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    PORT: String(port),
    HANDOFF_ISSUER: `http://127.0.0.1:${port}`,
    HANDOFF_HOST: "127.0.0.1",
    ...env,
  };
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, ["--import", "tsx", main, "start-dev"], {
        env: fullEnv,
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = c;
      let mine = "";
      const timer = setTimeout(() => reject(new Error(`handoff did not listen:\n${mine}`)), 30_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        mine += d.toString();
        // The dev banner, printed once the server listens (whatever the log level).
        if (mine.includes(") is up: ")) {
          clearTimeout(timer);
          resolve();
        }
      };
      c.stdout?.on("data", onData);
      c.stderr?.on("data", onData);
      c.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`handoff exited with ${code} before listening:\n${mine}`));
      });
    });
  await start();
  return {
    issuer: fullEnv.HANDOFF_ISSUER,
    port,
    output: () => out,
    alive: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    terminate: () =>
      new Promise((resolve) => {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return resolve(c?.exitCode ?? null);
        c.once("exit", (code) => resolve(code));
        c.kill("SIGTERM");
      }),
    start,
    stop: async () => {
      if (child) await stopProcess(child);
    },
  };
}
