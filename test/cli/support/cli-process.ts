/**
 * Running the `handoff` command as a child process for the login/token/logout
 * tests: with pipes (no terminal), or inside a real pseudo-terminal that tmux
 * owns (its own server socket, so no other tmux on the machine is touched).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export const root = join(import.meta.dirname, "..", "..", "..");
const main = join(root, "src", "cli", "main.ts");
const execFileP = promisify(execFile);

/** The command, run with tsx (no build step): `node --import tsx src/cli/main.ts`. */
export const HANDOFF = [process.execPath, "--import", "tsx", main];

/** A fresh config directory per test: the token cache lives under it ($XDG_CONFIG_HOME/handoff). */
export function cleanEnv(): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), "handoff-login-"));
  // No DISPLAY, WAYLAND_DISPLAY or SSH variables: whatever the machine has, no browser is opened.
  return { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: join(home, "config") };
}

/** The cache files under an env's config directory. */
export function cacheFiles(env: Record<string, string>): string[] {
  const dir = join(env.XDG_CONFIG_HOME as string, "handoff");
  try {
    return readdirSync(dir)
      .filter((f) => f.startsWith("tokens-") && f.endsWith(".json"))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

export function readCache(file: string): {
  accessToken: string;
  refreshToken?: string;
  expiresAt: number;
} {
  return JSON.parse(readFileSync(file, "utf8"));
}

export interface PipedRun {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` in stdout + stderr. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  readonly exited: Promise<number>;
}

/** Starts `handoff <args>` (or another `command`) with pipes for stdin, stdout and stderr. */
export function runPiped(
  args: readonly string[],
  env: Record<string, string>,
  command: readonly string[] = HANDOFF,
): PipedRun {
  const [cmd, ...pre] = command as [string, ...string[]];
  const child = spawn(cmd, [...pre, ...args], { env, cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout?.on("data", (d) => {
    out += String(d);
    for (const l of listeners) l();
  });
  child.stderr?.on("data", (d) => {
    err += String(d);
    for (const l of listeners) l();
  });
  const exited = new Promise<number>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : -1))),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out + err);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${re} in:\n${out}\n${err}`));
        }, timeoutMs);
        listeners.add(check);
        // Once the process has ended (and its last output arrived), no match is final.
        void exited.then(() =>
          setTimeout(() => {
            check();
            if (!listeners.has(check)) return;
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`exited without ${re}:\n${out}\n${err}`));
          }, 0),
        );
        check();
      });
    },
  };
}

/** Runs `handoff <args>` to the end. */
export async function runToEnd(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...pre] = HANDOFF as [string, ...string[]];
  try {
    const { stdout, stderr } = await execFileP(cmd, [...pre, ...args], { env, cwd: root });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** A command running in a tmux pane of `width` × `height`, on a tmux server of its own. */
export class TmuxPane {
  private constructor(
    private readonly socket: string,
    private readonly exitFile: string,
  ) {}

  /** Starts `handoff <args>` in a detached 120×40 pane; its exit code is written to a file. */
  static async start(
    args: readonly string[],
    env: Record<string, string>,
    size = { width: 120, height: 40 },
  ): Promise<TmuxPane> {
    try {
      execFileSync("tmux", ["-V"], { stdio: "ignore" });
    } catch {
      throw new Error("tmux is not installed (scripts/ensure-system-deps.sh installs it)");
    }
    const socket = `handoff-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const exitFile = join(env.HOME as string, "exit-code");
    const vars = Object.entries({ ...env, TERM: "xterm-256color" }).map(
      ([k, v]) => `${k}=${shellQuote(v)}`,
    );
    // env -i: the pane sees exactly these variables, not the tmux server's.
    const command = `env -i ${vars.join(" ")} ${[...HANDOFF, ...args].map(shellQuote).join(" ")}; echo $? > ${shellQuote(exitFile)}; sleep 600`;
    await execFileP("tmux", [
      "-L",
      socket,
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-x",
      String(size.width),
      "-y",
      String(size.height),
      "-c",
      root,
      command,
    ]);
    return new TmuxPane(socket, exitFile);
  }

  private tmux(...args: string[]): Promise<string> {
    return execFileP("tmux", ["-L", this.socket, ...args]).then((r) => r.stdout);
  }

  /** The visible screen as text (`escapes`: with the colour codes, for a screenshot). */
  capture(escapes = false): Promise<string> {
    return this.tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []));
  }

  /** Polls the screen until `test` holds; resolves with that screen. */
  async waitFor(test: (screen: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    let screen = "";
    while (Date.now() < until) {
      screen = await this.capture();
      if (test(screen)) return screen;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the screen never matched:\n${screen}`);
  }

  /** The exit code, once the command has ended. */
  async exitCode(timeoutMs = 30_000): Promise<number> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      try {
        const text = readFileSync(this.exitFile, "utf8").trim();
        if (text !== "") return Number(text);
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the command did not end:\n${await this.capture()}`);
  }

  /** Whether the pane's cursor is visible (tmux's cursor_flag). */
  async cursorVisible(): Promise<boolean> {
    return (await this.tmux("display-message", "-p", "#{cursor_flag}")).trim() === "1";
  }

  sendKeys(...keys: string[]): Promise<string> {
    return this.tmux("send-keys", ...keys);
  }

  /** Ends the pane and its tmux server. */
  async close(): Promise<void> {
    await this.tmux("kill-server").catch(() => {});
  }
}
