/**
 * Startup step 3: every client the domain can find, in one directory: the
 * clients file, registrations in the store, and Client ID Metadata Documents
 * (fetched SSRF-safe, cached in the store) when they are on.
 */
import { clientAuthThrottle } from "../auth/client-auth-throttle.js";
import { metadataFetchBudget } from "../auth/metadata-fetch-budget.js";
import { ClientAdministration } from "../domain/client-administration.js";
import { ClientDirectory } from "../domain/client-directory.js";
import { MetadataDocumentClients } from "../domain/metadata-document-clients.js";
import { SafeMetadataDocumentFetcher } from "../outbound/metadata-document-fetch.js";
import type { Stores } from "./build-stores.js";
import type { Telemetry } from "./build-telemetry.js";
import type { HandoffConfig } from "./handoff-config.js";

export interface Clients {
  readonly directory: ClientDirectory;
  /** The metadata-document clients, when they are on. */
  readonly documents: MetadataDocumentClients | undefined;
  /** Every scope a configured client has: the metadata's scopes_supported. */
  readonly scopesSupported: readonly string[];
  /** ClientService's operations on the store's clients (the clients file stays read-only). */
  readonly admin: ClientAdministration;
}

export function buildClients(c: HandoffConfig, stores: Stores, t: Telemetry): Clients {
  const scopesSupported = [...new Set(c.clients.flatMap((cl) => cl.scopes))].sort();
  const md = c.metadataDocuments;
  const documents =
    md && stores.documents
      ? new MetadataDocumentClients({
          cache: stores.documents,
          fetcher: new SafeMetadataDocumentFetcher({
            timeoutMs: md.timeoutMs,
            maxBytes: md.maxBytes,
            allowLoopback: md.allowLoopback,
            ...(md.ca === undefined ? {} : { ca: md.ca }),
            ...(md.resolve === undefined ? {} : { resolve: md.resolve }),
          }),
          options: {
            policy: {
              allowedGrants: md.grants,
              allowedScopes: md.scopes ?? scopesSupported,
              ...md.limits,
            },
            cacheMinTtl: md.cacheMinTtl,
            cacheMaxTtl: md.cacheMaxTtl,
            cacheMaxEntries: md.cacheMaxEntries,
            maxConcurrentFetches: md.maxConcurrentFetches,
          },
          budget: metadataFetchBudget(stores.limiter, t.logger),
        })
      : undefined;
  const directory = new ClientDirectory({
    configured: c.clients,
    stored: stores.clients,
    ...(documents ? { documents } : {}),
    throttle: clientAuthThrottle(stores.limiter, t.logger),
  });
  const admin = new ClientAdministration({
    store: stores.clients,
    configured: c.clients,
    events: t.events,
    // The defaults of HANDOFF_CLIENT_MAX_REDIRECT_URIS, _URI_LENGTH, _NAME_LENGTH.
    limits: c.clientMetadataLimits ?? {
      maxRedirectUris: 10,
      maxUriLength: 1024,
      maxNameLength: 128,
    },
  });
  return { directory, documents, scopesSupported, admin };
}
