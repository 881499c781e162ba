/** The Redis session store: one key per session, expiring with it. */
import type { PageSession, SessionStore } from "../domain/ports/session-store.js";
import type { RedisConnection } from "./redis-connection.js";

/** Sessions at `<prefix>session:<hash of id>` as JSON; single commands, so each step is atomic. */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keyPrefix = "",
  ) {}

  async save(idHash: string, s: PageSession): Promise<void> {
    const ttl = Math.max(1, s.expiresAt - Date.now());
    await this.redis.guard(() =>
      this.redis.client.set(this.key(idHash), JSON.stringify(s), "PX", ttl),
    );
  }

  async find(idHash: string, now: number): Promise<PageSession | null> {
    const text = await this.redis.guard(() => this.redis.client.get(this.key(idHash)));
    if (text === null) return null;
    const s = JSON.parse(text) as PageSession;
    return typeof s.subject === "string" && s.expiresAt > now ? s : null;
  }

  async destroy(idHash: string): Promise<void> {
    await this.redis.guard(() => this.redis.client.del(this.key(idHash)));
  }

  private key(idHash: string): string {
    return `${this.keyPrefix}session:${idHash}`;
  }
}
