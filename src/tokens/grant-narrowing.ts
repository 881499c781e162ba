/** Narrowing a grant at the token endpoint: fewer scopes or resources, never more. */
import { OAuthError } from "../domain/oauth-error.js";

/**
 * RFC 8707 §2.2: the token request's `resource` values pick the audience
 * from the resources bound to the grant; none means all of them; one that
 * was not bound is `invalid_target` (a token request may narrow, never add).
 */
export function narrowResources(
  requested: readonly string[],
  granted: readonly string[],
): readonly string[] {
  if (requested.length === 0) return granted;
  const extra = requested.find((r) => !granted.includes(r));
  if (extra !== undefined) {
    throw new OAuthError("invalid_target", "a resource was not part of the grant");
  }
  return [...new Set(requested)];
}

/**
 * RFC 6749 §6: a refresh may ask for fewer scopes than were originally
 * granted, never one more (`invalid_scope`); none means all of them.
 */
export function narrowScopes(
  requested: readonly string[] | undefined,
  granted: readonly string[],
): readonly string[] {
  if (requested === undefined || requested.length === 0) return granted;
  const extra = requested.find((s) => !granted.includes(s));
  if (extra !== undefined) {
    throw new OAuthError("invalid_scope", `the scope ${extra} was not originally granted`);
  }
  return [...new Set(requested)];
}
