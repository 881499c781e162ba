/** RFC 7009 token revocation: refresh tokens revoke their family, access tokens their jti. */
import type { TokenStore } from "../domain/ports/token-store.js";
import { parseRefreshToken } from "../domain/refresh-token.js";
import type { AccessTokenIssuer } from "./access-token.js";
import { ownerOf, type TokenCaller } from "./token-caller.js";

/** RFC 7009 §2.1 `token_type_hint` values (RFC 7662 §2.1 shares them). */
export type TokenTypeHint = "access_token" | "refresh_token";

/**
 * Revokes `token` if the caller may (RFC 7009 §2.1): its own tokens for a
 * client, any token for a service. Everything else (unknown, expired,
 * foreign, another client's) changes nothing and is no error: the endpoint
 * answers 200 alike (§2.2), so callers learn nothing about other tokens.
 * The two formats cannot be confused, so the hint is not needed to decide
 * (§2.1 lets the server ignore it).
 */
export async function revokeToken(
  deps: { readonly store: TokenStore; readonly accessTokens: AccessTokenIssuer },
  caller: TokenCaller,
  token: string,
  now: number,
  _hint?: TokenTypeHint,
): Promise<void> {
  const refresh = parseRefreshToken(token);
  if (refresh !== null) {
    // Revoking a refresh token revokes the whole grant: the family and its access tokens.
    await deps.store.revokeFamily(refresh.familyId, refresh.hash, ownerOf(caller), now);
    return;
  }
  const claims = await deps.accessTokens.verify(token, now);
  if (claims === null) return;
  const owner = ownerOf(caller);
  if (owner !== undefined && claims.client_id !== owner) return;
  // The jti stays revoked until the token would have expired, then the mark ends itself.
  await deps.store.revokeAccessToken({ jti: claims.jti, expiresAt: claims.exp * 1000 });
}
