/** Who is calling revocation or introspection: a client, or an internal service. */
import {
  authenticateClient,
  type Client,
  type ClientCredentials,
  type ClientRegistry,
} from "../domain/client.js";
import { OAuthError } from "../domain/oauth-error.js";
import { constantTimeEqual } from "../domain/secret-hash.js";

/** A service (the `HANDOFF_SERVICE_TOKEN` bearer) acts on any token; a client only on its own. */
export type TokenCaller =
  | { readonly kind: "service" }
  | { readonly kind: "client"; readonly client: Client };

/** What a transport read from the request; at most one of the two is used. */
export interface CallerCredentials {
  /** The token of an `Authorization: Bearer` header. */
  readonly bearer?: string;
  readonly client?: ClientCredentials;
}

/**
 * Authenticates the caller of RFC 7009 revocation or RFC 7662 introspection.
 * A bearer token must be the service credential (compared in constant time;
 * with none configured, no bearer is accepted). Otherwise the client
 * authenticates as at the token endpoint; `requireSecret` refuses public
 * clients (introspection, RFC 7662 §2.1, needs real authentication).
 */
export async function authenticateCaller(
  registry: ClientRegistry,
  serviceToken: string | undefined,
  creds: CallerCredentials,
  options: { readonly requireSecret: boolean },
): Promise<TokenCaller> {
  if (creds.bearer !== undefined) {
    if (serviceToken === undefined || !constantTimeEqual(creds.bearer, serviceToken)) {
      throw new OAuthError("invalid_client", "the service credential is not valid");
    }
    return { kind: "service" };
  }
  if (creds.client === undefined) {
    throw new OAuthError("invalid_client", "client authentication is required");
  }
  const client = await authenticateClient(registry, creds.client);
  if (options.requireSecret && client.secretHash === undefined) {
    throw new OAuthError("invalid_client", "this endpoint requires a confidential client");
  }
  return { kind: "client", client };
}

/** The client id a caller may act for; undefined for a service (any client). */
export function ownerOf(caller: TokenCaller): string | undefined {
  return caller.kind === "service" ? undefined : caller.client.id;
}
