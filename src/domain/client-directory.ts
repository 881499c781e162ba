/**
 * The one ClientRegistry the domain sees, over three sources: the clients
 * file (declarative, read-only), clients in the state store (RFC 7591
 * registration, the admin ClientService) and Client ID Metadata
 * Documents (an `https` client id, fetched and cached).
 */
import type { Client, ClientAuthThrottle, ClientLookup, ClientRegistry } from "./client.js";
import type { ClientStore } from "./ports/client-store.js";

/** A source of clients the directory asks for ids it `handles` (the metadata documents). */
export interface ClientSource {
  handles(clientId: string): boolean;
  find(clientId: string, lookup?: ClientLookup): Promise<Client | undefined>;
}

export interface ClientDirectoryDeps {
  /** The clients file: always wins, so a registration can never shadow an operator's client. */
  readonly configured: readonly Client[];
  /** Registered (and admin-made) clients, shared by every instance. */
  readonly stored: ClientStore;
  /** Client ID Metadata Documents; absent: the feature is off. */
  readonly documents?: ClientSource;
  readonly throttle?: ClientAuthThrottle;
  readonly clock?: () => number;
}

/** Finds a client in the clients file, then in the metadata documents or the store. */
export class ClientDirectory implements ClientRegistry {
  private readonly configured: ReadonlyMap<string, Client>;
  readonly throttle: ClientAuthThrottle | undefined;

  constructor(private readonly deps: ClientDirectoryDeps) {
    this.configured = new Map(deps.configured.map((c) => [c.id, c]));
    this.throttle = deps.throttle;
  }

  async find(clientId: string, lookup?: ClientLookup): Promise<Client | undefined> {
    const file = this.configured.get(clientId);
    if (file) return file;
    // An https URL is only ever a metadata document's id: registration mints
    // opaque ids, so the two sources cannot answer for the same id.
    if (this.deps.documents?.handles(clientId)) return this.deps.documents.find(clientId, lookup);
    return (await this.deps.stored.get(clientId, (this.deps.clock ?? Date.now)()))?.client;
  }

  /** True when the clients file holds `clientId` (registration must never take such an id). */
  isConfigured(clientId: string): boolean {
    return this.configured.has(clientId);
  }
}
