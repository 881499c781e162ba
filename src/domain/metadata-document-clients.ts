/**
 * The metadata-document source of the ClientDirectory: looks an https
 * client id up in the shared cache (a space of the client store), else
 * fetches the document once (concurrent lookups share one fetch), validates
 * it and caches the client for the document's max-age, clamped to a floor
 * and a ceiling.
 */
import type { Client, ClientLookup } from "./client.js";
import type { ClientSource } from "./client-directory.js";
import type { ClientMetadataPolicy } from "./client-metadata.js";
import {
  clientFromDocument,
  isMetadataDocumentId,
  type MetadataDocumentFetcher,
} from "./client-metadata-document.js";
import { isOAuthError, OAuthError } from "./oauth-error.js";
import type { ClientStore } from "./ports/client-store.js";

export interface MetadataDocumentOptions {
  readonly policy: Omit<ClientMetadataPolicy, "confidentialAllowed">;
  /** Seconds a document stays cached at least (also when it says no-store) and at most. */
  readonly cacheMinTtl: number;
  readonly cacheMaxTtl: number;
  /** Documents cached at most (the cache is shared by instances, in the store). */
  readonly cacheMaxEntries: number;
  /** Fetches in flight at most, per instance; past it a lookup is temporarily_unavailable. */
  readonly maxConcurrentFetches: number;
}

/**
 * How many fetches one requester may cause (docs/client-registration.md):
 * `charge` resolves when `address` may cause one more, else throws
 * `temporarily_unavailable` with `retryAfter`. Every transport passes the
 * requester's address; a lookup without one is the server's own (the name
 * on a consent screen for a request that was charged when it was made), and
 * is not charged: one shared bucket would let anyone exhaust it for everyone.
 */
export interface MetadataFetchBudget {
  charge(address: string): Promise<void>;
}

export class MetadataDocumentClients implements ClientSource {
  private readonly inFlight = new Map<string, Promise<Client>>();

  constructor(
    private readonly deps: {
      readonly cache: ClientStore;
      readonly fetcher: MetadataDocumentFetcher;
      readonly options: MetadataDocumentOptions;
      readonly budget?: MetadataFetchBudget;
      readonly clock?: () => number;
    },
  ) {}

  handles(clientId: string): boolean {
    return isMetadataDocumentId(clientId, this.deps.options.policy.maxUriLength);
  }

  async find(clientId: string, lookup?: ClientLookup): Promise<Client | undefined> {
    const now = this.now();
    const cached = await this.deps.cache.get(clientId, now);
    if (cached) return cached.client;
    const running = this.inFlight.get(clientId);
    if (running) return running;
    // Only a fetch is charged: cached documents and shared fetches cost nothing.
    if (lookup?.address !== undefined) await this.deps.budget?.charge(lookup.address);
    // Another lookup may have started the same fetch while this one was charged.
    const started = this.inFlight.get(clientId);
    if (started) return started;
    if (this.inFlight.size >= this.deps.options.maxConcurrentFetches) {
      throw new OAuthError(
        "temporarily_unavailable",
        "too many client metadata documents are being fetched; try again",
      );
    }
    const fetching = this.load(clientId).finally(() => this.inFlight.delete(clientId));
    this.inFlight.set(clientId, fetching);
    return fetching;
  }

  private async load(url: string): Promise<Client> {
    const { fetcher, options, cache } = this.deps;
    let fetched: Awaited<ReturnType<MetadataDocumentFetcher["fetch"]>>;
    try {
      fetched = await fetcher.fetch(url);
    } catch (e) {
      if (isOAuthError(e)) throw e;
      throw new OAuthError(
        "invalid_client",
        `the client metadata document at ${url} could not be fetched: ${(e as Error).message}`,
      );
    }
    const client = clientFromDocument(url, fetched.body, options.policy);
    const ttl = Math.min(
      options.cacheMaxTtl,
      Math.max(options.cacheMinTtl, fetched.maxAgeSeconds ?? options.cacheMinTtl),
    );
    const now = this.now();
    // `full`: served uncached this time; the cap protects the store, not the client.
    await cache.put(
      { client, createdAt: now, idleTtlMs: 0, expiresAt: now + ttl * 1000, metadata: {} },
      "create",
      options.cacheMaxEntries,
    );
    return client;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }
}
