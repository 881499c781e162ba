/** The embedded client store: one process, same contract as Redis. */
import {
  type ClientPage,
  type ClientStore,
  type PutMode,
  type PutOutcome,
  type StoredClient,
  slidExpiry,
} from "../domain/ports/client-store.js";
import { sweepEvery, TtlMap } from "./ttl-map.js";

/** A client without expiry (admin-made) stays until deleted. */
const FOREVER = Number.POSITIVE_INFINITY;
const until = (s: StoredClient) => (s.expiresAt === 0 ? FOREVER : s.expiresAt);

/**
 * Clients in a TtlMap. Node runs each method's body without yielding, so
 * every method is atomic. Expired clients are invisible at once and swept
 * every `sweepMs`, so memory stays bounded by live clients (and the put cap).
 */
export class MemoryClientStore implements ClientStore {
  private readonly clients = new TtlMap<string, StoredClient>();
  /** Ids of the clients with an expiry, for the cap (may hold ids already expired). */
  private readonly expiring = new Set<string>();
  private readonly stopSweeping: () => void;

  constructor(
    private readonly clock: () => number = Date.now,
    sweepMs = 60_000,
  ) {
    this.stopSweeping = sweepEvery(sweepMs, clock, [this.clients]);
  }

  async put(client: StoredClient, mode: PutMode, maxExpiring: number): Promise<PutOutcome> {
    const id = client.client.id;
    const now = this.clock();
    const existing = this.clients.get(id, now);
    if (mode === "create" && existing) return "exists";
    if (mode !== "create" && !existing) return "missing";
    if (client.expiresAt > 0 && !existing && maxExpiring > 0) {
      for (const e of this.expiring)
        if (this.clients.get(e, now) === undefined) this.expiring.delete(e);
      if (this.expiring.size >= maxExpiring) return "full";
    }
    const kept =
      mode === "update" && existing
        ? { ...client, client: { ...client.client, active: existing.client.active } }
        : client;
    this.clients.set(id, kept, until(kept));
    if (client.expiresAt > 0) this.expiring.add(id);
    else this.expiring.delete(id);
    return "stored";
  }

  async get(clientId: string, now: number): Promise<StoredClient | undefined> {
    const s = this.clients.get(clientId, now);
    if (!s) return undefined;
    const next = slidExpiry(s, now);
    if (next === undefined) return s;
    const moved = { ...s, expiresAt: next };
    this.clients.set(clientId, moved, next);
    return moved;
  }

  async list(after: string | undefined, limit: number, now: number): Promise<ClientPage> {
    this.clients.sweep(now);
    const ids: string[] = [];
    for (const id of this.clients.keys(now)) if (after === undefined || id > after) ids.push(id);
    ids.sort();
    const page = ids.slice(0, limit);
    const clients = page.flatMap((id) => this.clients.get(id, now) ?? []);
    const last = page.at(-1);
    return ids.length > limit && last !== undefined ? { clients, next: last } : { clients };
  }

  async delete(clientId: string): Promise<boolean> {
    const had = this.clients.get(clientId, this.clock()) !== undefined;
    this.clients.delete(clientId);
    this.expiring.delete(clientId);
    return had;
  }

  async setDisabled(clientId: string, disabled: boolean): Promise<boolean> {
    const s = this.clients.get(clientId, this.clock());
    if (!s) return false;
    this.clients.set(clientId, { ...s, client: { ...s.client, active: !disabled } }, until(s));
    return true;
  }

  async close(): Promise<void> {
    this.stopSweeping();
  }
}
