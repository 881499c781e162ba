/** Scope strings (RFC 6749 §3.3); resource indicators live in resource.ts. */
import type { Client } from "./client.js";
import { OAuthError } from "./oauth-error.js";

// scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
/** RFC 6749 §3.3 scope-token. */
export const SCOPE_TOKEN_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Splits a `scope` parameter into unique tokens; a malformed token is `invalid_scope`. */
export function parseScope(scope: string): string[] {
  return checkScopeTokens(scope.split(" ").filter((t) => t !== ""));
}

/** Checks each token against the RFC 6749 §3.3 grammar and folds duplicates. */
export function checkScopeTokens(tokens: readonly string[]): string[] {
  for (const t of tokens) {
    if (!SCOPE_TOKEN_PATTERN.test(t))
      throw new OAuthError("invalid_scope", "a scope token is malformed");
  }
  return [...new Set(tokens)];
}

/**
 * The scopes a request gets: the requested ones if the client may have them
 * all, the client's defaults when none were requested (RFC 6749 §3.3).
 */
export function resolveScopes(client: Client, requested: readonly string[] | undefined): string[] {
  if (requested === undefined || requested.length === 0) return [...client.defaultScopes];
  const unknown = requested.filter((s) => !client.scopes.includes(s));
  if (unknown.length > 0) {
    throw new OAuthError("invalid_scope", `the client may not request the scope ${unknown[0]}`);
  }
  return [...requested];
}

/** Requires `granted` ⊆ `requested`: a decision may narrow, never widen. */
export function requireSubset(granted: readonly string[], requested: readonly string[]): void {
  const extra = granted.find((s) => !requested.includes(s));
  if (extra !== undefined)
    throw new OAuthError("invalid_scope", `the scope ${extra} was not requested`);
}
