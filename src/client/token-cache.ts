/**
 * Tokens kept between runs: one file per issuer + client + resource under
 * the user's config directory, mode 0600, written atomically (a temporary
 * file renamed over the old one). Refreshes are serialised across processes
 * with a lock file, so two CLI processes never present the same refresh
 * token at once (a replayed refresh token revokes its whole family).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import type { Tokens } from "./token-request.js";

/** `$XDG_CONFIG_HOME/handoff`, else the platform's config directory. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "handoff");
  if (process.platform === "darwin") return join(homedir(), "Library", "Preferences", "handoff");
  if (process.platform === "win32" && env.APPDATA) return join(env.APPDATA, "handoff", "Config");
  return join(homedir(), ".config", "handoff");
}

/** What one cache entry is for. */
export interface CacheKey {
  readonly issuer: string;
  readonly clientId: string;
  readonly resource?: readonly string[];
}

export class TokenCache {
  constructor(readonly dir: string = defaultCacheDir()) {}

  /** The entry's file: a hash of its key, so the name says nothing about it. */
  file(key: CacheKey): string {
    const id = JSON.stringify([key.issuer, key.clientId, [...(key.resource ?? [])].sort()]);
    return join(
      this.dir,
      `tokens-${createHash("sha256").update(id).digest("hex").slice(0, 32)}.json`,
    );
  }

  async read(key: CacheKey): Promise<Tokens | undefined> {
    try {
      const t = JSON.parse(await readFile(this.file(key), "utf8")) as Tokens;
      return typeof t.accessToken === "string" && typeof t.expiresAt === "number" ? t : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes atomically: readers see the old file or the new one, never half of either. */
  async write(key: CacheKey, tokens: Tokens): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const target = this.file(key);
    const temp = `${target}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(temp, JSON.stringify(tokens), { mode: 0o600, flag: "wx" });
    await rename(temp, target);
  }

  async remove(key: CacheKey): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  /** Runs `fn` holding the entry's lock (other processes wait; a crashed holder's lock goes stale). */
  async locked<T>(key: CacheKey, fn: () => Promise<T>): Promise<T> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const release = await lockfile.lock(this.file(key), {
      realpath: false,
      stale: 15_000,
      retries: { retries: 100, minTimeout: 20, maxTimeout: 250 },
    });
    try {
      return await fn();
    } finally {
      await release();
    }
  }
}
