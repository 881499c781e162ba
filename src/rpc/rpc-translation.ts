/** What every RPC handler shares: credentials from request fields, token responses (errors: src/rpc/error-interceptor.ts). */
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { ClientCredentials } from "../domain/client.js";
import type { TokenSet } from "../domain/ports/token-issuer.js";

/** The caller's network address, set per request by the server adapter. */
export const peerAddressKey = createContextKey<string>("", { description: "peer address" });

/**
 * Request fields to client credentials: a secret in the message is
 * `client_secret_post`'s RPC twin; the peer address feeds the limits on
 * failed authentication.
 */
export function clientCredentials(
  clientId: string,
  clientSecret: string,
  ctx: HandlerContext,
): ClientCredentials {
  return credentialsFrom(clientId, clientSecret, ctx.values.get(peerAddressKey));
}

/** `clientCredentials` from a caller's address already resolved (the gRPC PollToken fast path). */
export function credentialsFrom(
  clientId: string,
  clientSecret: string,
  address: string,
): ClientCredentials {
  return clientSecret === ""
    ? { clientId, method: "none", address }
    : { clientId, clientSecret, method: "client_secret_post", address };
}

/** A domain TokenSet as the fields PollTokenResponse and RefreshResponse share. */
export function tokenResponse(t: TokenSet) {
  return {
    accessToken: t.accessToken,
    tokenType: t.tokenType,
    expiresIn: t.expiresIn,
    scope: t.scope,
    refreshToken: t.refreshToken ?? "",
  };
}
