/** Reloading the signing-key file without a restart: on SIGHUP and when the file changes. */
import { readFile, type Stats, unwatchFile, watchFile } from "node:fs";
import { promisify } from "node:util";
import type { Logger } from "pino";
import { type KeyRing, parseSigningKeys } from "./signing-keys.js";

const read = promisify(readFile);

/**
 * Keeps a KeyRing in step with `HANDOFF_SIGNING_KEYS_FILE`. A reload that
 * fails (unreadable file, bad JSON, every key retired) is logged and leaves
 * the keys in service untouched: a half-edited file never stops signing.
 * Logs name kids only, never key material.
 */
export class SigningKeyFile {
  private listener: ((cur: Stats, prev: Stats) => void) | undefined;

  constructor(
    private readonly path: string,
    private readonly ring: KeyRing,
    private readonly logger: Logger,
  ) {}

  /** Reads the file and installs its keys; resolves false (and logs) when it cannot. */
  async reload(): Promise<boolean> {
    try {
      const keys = await parseSigningKeys(await read(this.path, "utf8"));
      this.ring.replace(keys);
      this.logger.info(
        {
          signingKid: this.ring.current.kid,
          kids: keys.map((k) => k.kid),
          retired: keys.filter((k) => k.retiredAt !== undefined).map((k) => k.kid),
        },
        "signing keys reloaded",
      );
      return true;
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      this.logger.error({ reason }, "signing keys not reloaded; the previous keys stay in service");
      return false;
    }
  }

  /**
   * Polls the file's stat every `intervalMs` (stat polling follows the path,
   * so it also sees the symlink swaps of Kubernetes secret volumes, which
   * inotify on the old file would miss).
   */
  watch(intervalMs: number): void {
    if (this.listener !== undefined || intervalMs <= 0) return;
    this.listener = (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino) void this.reload();
    };
    watchFile(this.path, { interval: intervalMs, persistent: false }, this.listener);
  }

  /** Stops watching (only this watcher's listener: others on the same path keep theirs). */
  close(): void {
    if (this.listener !== undefined) unwatchFile(this.path, this.listener);
    this.listener = undefined;
  }
}
