/** The embedded session store: a TTL map. */
import type { PageSession, SessionStore } from "../domain/ports/session-store.js";
import { sweepEvery, TtlMap } from "./ttl-map.js";

/** Sessions in one process; expired ones are invisible at once and dropped every `sweepMs`. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new TtlMap<string, PageSession>();
  private readonly stopSweeping: () => void;

  constructor(clock: () => number = Date.now, sweepMs = 60_000) {
    this.stopSweeping = sweepEvery(sweepMs, clock, [this.sessions]);
  }

  async save(idHash: string, session: PageSession): Promise<void> {
    this.sessions.set(idHash, session, session.expiresAt);
  }

  async find(idHash: string, now: number): Promise<PageSession | null> {
    return this.sessions.get(idHash, now) ?? null;
  }

  async destroy(idHash: string): Promise<void> {
    this.sessions.delete(idHash);
  }

  /** Stops the sweeper. */
  close(): void {
    this.stopSweeping();
  }
}
