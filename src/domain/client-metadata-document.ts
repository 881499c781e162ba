/**
 * Client ID Metadata Documents (MCP 2025-11-25 authorization; the OAuth
 * draft "Client ID Metadata Document"): a `client_id` that is an https URL
 * names a JSON document describing the client. This file holds the rules:
 * which ids are document URLs, and what a fetched document must say.
 */
import type { Client } from "./client.js";
import { type ClientMetadataPolicy, validateClientMetadata } from "./client-metadata.js";
import { isOAuthError, OAuthError } from "./oauth-error.js";

/**
 * True for an id that names a metadata document: an https URL with a path,
 * no fragment, no credentials, no dot segments, written exactly as the URL
 * parser would (so the id compared with the document's is unambiguous).
 */
export function isMetadataDocumentId(id: string, maxLength: number): boolean {
  if (!id.startsWith("https://") || id.length > maxLength) return false;
  let url: URL;
  try {
    url = new URL(id);
  } catch {
    return false;
  }
  return (
    url.href === id &&
    url.hash === "" &&
    url.username === "" &&
    url.password === "" &&
    url.pathname !== "/" &&
    !/\/\.\.?(\/|$)/.test(url.pathname)
  );
}

/** A fetched document, before validation. */
export interface FetchedDocument {
  readonly body: unknown;
  /** Cache-Control max-age in seconds; undefined when absent; 0 for no-store / no-cache. */
  readonly maxAgeSeconds: number | undefined;
}

/** Fetches a document URL (SSRF-safe; see src/outbound). Throws an Error saying why it could not. */
export interface MetadataDocumentFetcher {
  fetch(url: string): Promise<FetchedDocument>;
}

/**
 * The client a document describes. Its `client_id` must equal the URL
 * exactly; it is public (`token_endpoint_auth_method` none: no secret can
 * be shared through a public document); everything else follows the same
 * metadata rule as a registration. Anything wrong is `invalid_client`.
 */
export function clientFromDocument(
  url: string,
  body: unknown,
  policy: Omit<ClientMetadataPolicy, "confidentialAllowed">,
): Client {
  const refuse = (why: string) =>
    new OAuthError("invalid_client", `the client metadata document at ${url} ${why}`);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw refuse("is not a JSON object");
  }
  if ((body as { client_id?: unknown }).client_id !== url) {
    throw refuse("does not name itself: its client_id must equal its URL exactly");
  }
  let m: ReturnType<typeof validateClientMetadata>;
  try {
    m = validateClientMetadata(body, { ...policy, confidentialAllowed: false }, "none");
  } catch (e) {
    if (isOAuthError(e)) throw refuse(`is refused: ${e.description}`);
    throw e;
  }
  const host = new URL(url).host;
  return {
    id: url,
    name: m.clientName ?? host,
    grantTypes: m.grantTypes,
    scopes: m.scopes,
    defaultScopes: m.scopes,
    redirectUris: m.redirectUris,
    active: true,
    origin: { kind: "metadata_document", host },
  };
}
