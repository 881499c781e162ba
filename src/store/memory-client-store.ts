/** The embedded client store: one process, same contract as Redis. */
import {
  type ClientPage,
  type ClientStore,
  type PutMode,
  type PutOutcome,
  type StoredClient,
  slidExpiry,
} from "../domain/client-store.js";

/**
 * Clients in a Map. Node runs each method's body without yielding, so every
 * method is atomic. Expired clients are invisible at once and swept every
 * `sweepMs`, so memory stays bounded by live clients (and the put cap).
 */
export class MemoryClientStore implements ClientStore {
  private readonly clients = new Map<string, StoredClient>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clock: () => number = Date.now,
    sweepMs = 60_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(this.clock()), sweepMs);
    this.sweeper.unref();
  }

  async put(client: StoredClient, mode: PutMode, maxExpiring: number): Promise<PutOutcome> {
    const id = client.client.id;
    const existing = this.live(id, this.clock());
    if (mode === "create" && existing) return "exists";
    if (mode === "replace" && !existing) return "missing";
    if (client.expiresAt > 0 && !existing && maxExpiring > 0) {
      this.sweep(this.clock());
      let expiring = 0;
      for (const c of this.clients.values()) if (c.expiresAt > 0) expiring++;
      if (expiring >= maxExpiring) return "full";
    }
    this.clients.set(id, client);
    return "stored";
  }

  async get(clientId: string, now: number): Promise<StoredClient | undefined> {
    const s = this.live(clientId, now);
    if (!s) return undefined;
    const next = slidExpiry(s, now);
    if (next === undefined) return s;
    const moved = { ...s, expiresAt: next };
    this.clients.set(clientId, moved);
    return moved;
  }

  async list(after: string | undefined, limit: number, now: number): Promise<ClientPage> {
    this.sweep(now);
    const ids = [...this.clients.keys()].filter((id) => after === undefined || id > after).sort();
    const page = ids.slice(0, limit);
    const clients = page.flatMap((id) => this.clients.get(id) ?? []);
    const last = page.at(-1);
    return ids.length > limit && last !== undefined ? { clients, next: last } : { clients };
  }

  async delete(clientId: string): Promise<boolean> {
    const had = this.live(clientId, this.clock()) !== undefined;
    this.clients.delete(clientId);
    return had;
  }

  async setDisabled(clientId: string, disabled: boolean): Promise<boolean> {
    const s = this.live(clientId, this.clock());
    if (!s) return false;
    this.clients.set(clientId, { ...s, client: { ...s.client, active: !disabled } });
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private live(clientId: string, now: number): StoredClient | undefined {
    const s = this.clients.get(clientId);
    return s && (s.expiresAt === 0 || s.expiresAt > now) ? s : undefined;
  }

  private sweep(now: number): void {
    for (const [id, s] of this.clients)
      if (s.expiresAt !== 0 && s.expiresAt <= now) this.clients.delete(id);
  }
}
