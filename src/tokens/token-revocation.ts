/** RFC 7009 token revocation: refresh tokens revoke their family, access tokens their jti. */
import type { TokenStore } from "../domain/ports/token-store.js";
import { parseRefreshToken } from "../domain/refresh-token.js";
import type { AccessTokenIssuer } from "./access-token.js";
import { ownerOf, type TokenCaller } from "./token-caller.js";

/** RFC 7009 §2.1 `token_type_hint` values (RFC 7662 §2.1 shares them). */
export type TokenTypeHint = "access_token" | "refresh_token";

/** What a revocation revoked, for the audit event. */
export interface RevokedToken {
  readonly tokenType: TokenTypeHint;
  readonly clientId: string | undefined;
  readonly subject: string | undefined;
}

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
): Promise<RevokedToken | null> {
  const owner = ownerOf(caller);
  const refresh = parseRefreshToken(token);
  if (refresh !== null) {
    // Revoking a refresh token revokes the whole grant: the family and its access tokens.
    const outcome = await deps.store.revokeFamily(refresh.familyId, refresh.hash, owner, now);
    if (outcome.kind !== "revoked") return null;
    return { tokenType: "refresh_token", clientId: owner, subject: undefined };
  }
  const claims = await deps.accessTokens.verify(token, now);
  if (claims === null) return null;
  if (owner !== undefined && claims.client_id !== owner) return null;
  // The jti stays revoked until the token would have expired, then the mark ends itself.
  await deps.store.revokeAccessToken({ jti: claims.jti, expiresAt: claims.exp * 1000 });
  return { tokenType: "access_token", clientId: claims.client_id, subject: claims.sub };
}
