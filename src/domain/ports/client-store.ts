/**
 * The client store port: clients kept in the state store (memory or Redis),
 * shared by every instance. It holds clients registered through RFC 7591 and
 * made by the admin ClientService (client-administration.ts) and, in a second space, the cached
 * Client ID Metadata Documents. The clients file never goes through it.
 */
import type { Client } from "../client.js";

/** One client as the store keeps it. */
export interface StoredClient {
  readonly client: Client;
  /** Epoch ms when first stored (RFC 7591 §3.2.1 `client_id_issued_at`, in seconds). */
  readonly createdAt: number;
  /**
   * Sliding expiry: a client unused this long (ms) is forgotten; each lookup
   * pushes the end out again. 0: no sliding expiry.
   */
  readonly idleTtlMs: number;
  /**
   * Epoch ms at which the store forgets the client (for a sliding client, the
   * end as of its last use; for a cached document, its max-age). 0: never.
   */
  readonly expiresAt: number;
  /** RFC 7591 metadata echoed in responses (software_id …), already validated. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * `create` refuses an existing id; `replace` refuses a missing one; `update`
 * is `replace` that keeps the stored active flag, so an administrative change
 * racing a Disable never re-enables the client.
 */
export type PutMode = "create" | "replace" | "update";

/** What a put did. `full`: the space already holds `maxExpiring` expiring clients. */
export type PutOutcome = "stored" | "exists" | "missing" | "full";

/** One page of a listing, ordered by client id. */
export interface ClientPage {
  readonly clients: readonly StoredClient[];
  /** Pass as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

/**
 * Every method is one atomic step (one Lua script on Redis; a space's keys
 * share one hash slot). Expired clients are invisible at once and their
 * memory is reclaimed by the store.
 */
export interface ClientStore {
  /**
   * Stores a client. `maxExpiring` caps how many clients with an expiry the
   * space holds (0: no cap), so unauthenticated registration cannot fill the
   * store; clients without expiry (admin) never count against it.
   */
  put(client: StoredClient, mode: PutMode, maxExpiring: number): Promise<PutOutcome>;
  /** The client if stored and unexpired; a sliding client's expiry moves to `now + idleTtlMs`. */
  get(clientId: string, now: number): Promise<StoredClient | undefined>;
  /** Up to `limit` clients with ids after `after` (exclusive), in id order. */
  list(after: string | undefined, limit: number, now: number): Promise<ClientPage>;
  /** Forgets a client; false if there was none. */
  delete(clientId: string): Promise<boolean>;
  /** Disables or re-enables a client (`active`); false if there is none. */
  setDisabled(clientId: string, disabled: boolean): Promise<boolean>;
  /** Releases timers (a Redis connection belongs to the composition root). */
  close(): Promise<void>;
}

/**
 * When a lookup moves a sliding expiry: once a hundredth of the idle life has
 * passed since the last move, not on every read (a poll every 5 s would be a
 * write every 5 s). Memory and Redis (the get script) apply the same rule.
 */
export function slidExpiry(s: StoredClient, now: number): number | undefined {
  if (s.idleTtlMs <= 0) return undefined;
  const next = now + s.idleTtlMs;
  return next - s.expiresAt >= Math.max(1, Math.floor(s.idleTtlMs / 100)) ? next : undefined;
}
