/** RFC 7662 token introspection: what is known about an active token, or only that it is not. */
import type { TokenStore } from "../domain/ports/token-store.js";
import { parseRefreshToken } from "../domain/refresh-token.js";
import type { AccessTokenIssuer } from "./access-token.js";
import { ownerOf, type TokenCaller } from "./token-caller.js";
import type { TokenTypeHint } from "./token-revocation.js";

/** RFC 7662 §2.2: an inactive token says nothing else. */
export type IntrospectionResult =
  | { readonly active: false }
  | {
      readonly active: true;
      readonly scope: string;
      readonly client_id: string;
      readonly sub: string;
      readonly aud: readonly string[];
      readonly iss: string;
      /** Unix seconds. */
      readonly exp: number;
      readonly iat: number;
      /** Present for access tokens only. */
      readonly jti?: string;
      /** `Bearer` for access tokens (RFC 6749 §7.1), `refresh_token` for refresh tokens. */
      readonly token_type: "Bearer" | "refresh_token";
    };

/** The whole answer for every token that is not active. */
export const INACTIVE: IntrospectionResult = { active: false };

/**
 * Introspects `token` for `caller` (RFC 7662 §2.1–2.2). A client sees only
 * its own tokens; another client's, an unknown, expired or revoked token,
 * and a rotated-out refresh token are all exactly `{active: false}`.
 */
export async function introspectToken(
  deps: { readonly store: TokenStore; readonly accessTokens: AccessTokenIssuer },
  caller: TokenCaller,
  token: string,
  now: number,
  _hint?: TokenTypeHint,
): Promise<IntrospectionResult> {
  const owner = ownerOf(caller);
  const refresh = parseRefreshToken(token);
  if (refresh !== null) {
    const f = await deps.store.inspect(refresh.familyId, refresh.hash, now);
    if (f === null || (owner !== undefined && f.clientId !== owner)) return INACTIVE;
    return {
      active: true,
      scope: f.scopes.join(" "),
      client_id: f.clientId,
      sub: f.subject,
      aud: deps.accessTokens.audienceFor(f.resources),
      iss: deps.accessTokens.issuer,
      exp: Math.floor(f.idleExpiresAt / 1000),
      iat: Math.floor(f.issuedAt / 1000),
      token_type: "refresh_token",
    };
  }
  const c = await deps.accessTokens.verify(token, now);
  if (c === null || (owner !== undefined && c.client_id !== owner)) return INACTIVE;
  if (await deps.store.isAccessTokenRevoked(c.jti, now)) return INACTIVE;
  return {
    active: true,
    scope: c.scope,
    client_id: c.client_id,
    sub: c.sub,
    aud: c.aud,
    iss: c.iss,
    exp: c.exp,
    iat: c.iat,
    jti: c.jti,
    token_type: "Bearer",
  };
}
