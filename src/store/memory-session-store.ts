/** The embedded session store: a Map with expiry. */
import type { PageSession, SessionStore } from "./session-store.js";

/** Sessions in one process; expired ones are invisible at once and swept every `sweepMs`. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, PageSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(clock: () => number = Date.now, sweepMs = 60_000) {
    this.sweeper = setInterval(() => {
      const now = clock();
      for (const [k, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(k);
    }, sweepMs);
    this.sweeper.unref();
  }

  async save(idHash: string, session: PageSession): Promise<void> {
    this.sessions.set(idHash, session);
  }

  async find(idHash: string, now: number): Promise<PageSession | null> {
    const s = this.sessions.get(idHash);
    return s && s.expiresAt > now ? s : null;
  }

  async destroy(idHash: string): Promise<void> {
    this.sessions.delete(idHash);
  }

  /** Stops the sweeper. */
  close(): void {
    clearInterval(this.sweeper);
  }
}
