/** Scope strings (RFC 6749 §3.3) and RFC 8707 resource indicators. */
import type { Client } from "./client.js";
import { OAuthError } from "./oauth-error.js";

// scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Splits a `scope` parameter into unique tokens; a malformed token is `invalid_scope`. */
export function parseScope(scope: string): string[] {
  return checkScopeTokens(scope.split(" ").filter((t) => t !== ""));
}

/** Checks each token against the RFC 6749 §3.3 grammar and folds duplicates. */
export function checkScopeTokens(tokens: readonly string[]): string[] {
  for (const t of tokens) {
    if (!SCOPE_TOKEN.test(t)) throw new OAuthError("invalid_scope", "a scope token is malformed");
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

/**
 * Validates RFC 8707 §2 resource indicators: absolute URIs without a
 * fragment; duplicates are folded.
 */
export function parseResources(resources: readonly string[]): string[] {
  for (const r of resources) {
    let url: URL;
    try {
      url = new URL(r);
    } catch {
      throw new OAuthError("invalid_target", "a resource must be an absolute URI");
    }
    // No fragment (RFC 8707 §2); no whitespace or controls (a valid URI has none).
    if (r.includes("#") || url.hash !== "" || /[\s\p{Cc}]/u.test(r)) {
      throw new OAuthError(
        "invalid_target",
        "a resource must not contain a fragment or whitespace",
      );
    }
  }
  return [...new Set(resources)];
}
