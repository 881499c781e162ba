/** OAuth clients: what they may do, and how they prove who they are. */
import { OAuthError } from "./oauth-error.js";
import { verifySecret } from "./secret-hash.js";

export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
export const REFRESH_TOKEN_GRANT = "refresh_token";
/** RFC 6749 §4.1, with PKCE required (RFC 7636, OAuth 2.1 §4.1). */
export const AUTHORIZATION_CODE_GRANT = "authorization_code";

/** A registered client. A client without `secretHash` is public. */
export interface Client {
  readonly id: string;
  /** Shown to the person on the consent screen (RFC 8628 §5.4). */
  readonly name: string;
  /** `sha256:<base64url>` or `scrypt:<N>:<r>:<p>:<salt>:<hash>`; see secret-hash.ts. */
  readonly secretHash?: string;
  readonly grantTypes: readonly string[];
  /** Scopes the client may request. */
  readonly scopes: readonly string[];
  /** Scopes used when a request has no `scope` (RFC 6749 §3.3). */
  readonly defaultScopes: readonly string[];
  /**
   * Where the authorization code grant may send the browser back to, each
   * valid under `checkRedirectUri` (src/domain/redirect-uri.ts); matched by
   * `matchRedirectUri`. Empty for clients without that grant.
   */
  readonly redirectUris: readonly string[];
  readonly active: boolean;
  /** Where the description came from; absent: configured by the operator (clients file, admin). */
  readonly origin?: ClientOrigin;
}

/**
 * Who vouches for a client's description, so the consent screen can say so:
 * `registered` clients (RFC 7591) named themselves; a `metadata_document`
 * client is described by whoever controls `host` (its `client_id` URL).
 */
export type ClientOrigin =
  | { readonly kind: "registered" }
  | { readonly kind: "metadata_document"; readonly host: string };

/** What a lookup knows about who is asking, for limits on lookups that cost (a document fetch). */
export interface ClientLookup {
  /** The requester's address (rate limits per address); absent for the server's own lookups. */
  readonly address?: string;
}

/**
 * The one place the domain finds clients. Behind it (ClientDirectory): the
 * clients file, clients in the state store (RFC 7591, admin) and Client ID
 * Metadata Documents.
 */
export interface ClientRegistry {
  find(clientId: string, lookup?: ClientLookup): Promise<Client | undefined>;
  /** Applied to every authentication of a confidential client, when set. */
  readonly throttle?: ClientAuthThrottle | undefined;
}

/**
 * How a request presented its client: the transport decodes the header or form
 * fields, the domain decides. `method` lets the RFC gateway report which one
 * failed (a 401 carries `WWW-Authenticate` only for `basic`).
 */
export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly method: "none" | "client_secret_basic" | "client_secret_post";
  /** Where the request came from, for the limits on failed authentication (docs/hostile-input.md). */
  readonly address?: string;
}

/**
 * Limits on failed authentication of confidential clients (docs/hostile-input.md),
 * backed by the shared attempt counters. `begin` runs before the secret is
 * checked: while a delay runs, or while the caller's checks in flight fill
 * what is left before the next one, it throws `invalid_client` with
 * `retryAfter`; otherwise it holds one place in flight and resolves with
 * `end`, called once when the check is over: `end(true)` charges a wrong
 * secret, `end(false)` only frees the place. Nothing is charged before the
 * check, so a right secret is never charged, whatever the store does. `end`
 * never rejects: a place it could not free frees itself after a while.
 */
export interface ClientAuthThrottle {
  begin(clientId: string, address: string): Promise<(failed: boolean) => Promise<void>>;
}

/**
 * Authenticates a client (RFC 6749 §2.3.1, RFC 8628 §3.1/§3.4): public clients
 * present only their id; confidential clients must present their secret; a
 * public client that sends a secret is refused rather than silently trusted.
 */
export async function authenticateClient(
  registry: ClientRegistry,
  creds: ClientCredentials,
): Promise<Client> {
  const client =
    creds.clientId === ""
      ? undefined
      : await registry.find(
          creds.clientId,
          creds.address === undefined ? undefined : { address: creds.address },
        );
  if (!client?.active) {
    throw new OAuthError("invalid_client", "client authentication failed");
  }
  if (client.secretHash === undefined) {
    if (creds.clientSecret !== undefined)
      throw new OAuthError("invalid_client", "client authentication failed");
    return client;
  }
  // Only a failed check is charged, so no store fault can leave a charge on a
  // right secret; the place in flight taken first bounds concurrent guesses.
  const end = await registry.throttle?.begin(client.id, creds.address ?? "");
  let right: boolean | undefined;
  try {
    right =
      creds.clientSecret !== undefined &&
      (await verifySecret(creds.clientSecret, client.secretHash));
  } finally {
    // A wrong secret waits for its charge; a right one (or a check that threw)
    // only frees its place, and its answer does not wait on the store.
    if (right === false) await end?.(true);
    else void end?.(false);
  }
  if (!right) throw new OAuthError("invalid_client", "client authentication failed");
  return client;
}

/** Throws `unauthorized_client` unless the client may use `grantType` (RFC 6749 §5.2). */
export function requireGrant(client: Client, grantType: string): void {
  if (!client.grantTypes.includes(grantType)) {
    throw new OAuthError(
      "unauthorized_client",
      `the client may not use the grant type ${grantType}`,
    );
  }
}
