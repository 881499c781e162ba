/**
 * `WWW-Authenticate` challenges of a protected resource (RFC 6750 §3, RFC 9728 §5.1):
 * where to find its metadata, and why a request was refused.
 */

/** RFC 7230 quoted-string: backslash-escape `"` and `\`; drop what a header cannot carry. */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20-\x7E]/g, "").replace(/["\\]/g, "\\$&")}"`;
}

/** Why a request was refused, as RFC 6750 §3.1 names it; absent: no credentials were sent. */
export type BearerError = "invalid_request" | "invalid_token" | "insufficient_scope";

/** The parts of one Bearer challenge. */
export interface Challenge {
  /** RFC 9728 §5.1: the URL of the resource's metadata. */
  readonly resourceMetadata: string;
  /** RFC 6750 §3.1: absent when the request carried no credentials. */
  readonly error?: BearerError;
  readonly description?: string;
  /** RFC 6750 §3: the scopes the request needs (sent with insufficient_scope). */
  readonly scope?: readonly string[];
}

/** The header value: `Bearer resource_metadata="…"[, error="…", …]`. */
export function bearerChallenge(c: Challenge): string {
  const parts = [`resource_metadata=${quoted(c.resourceMetadata)}`];
  if (c.error !== undefined) parts.push(`error=${quoted(c.error)}`);
  if (c.description !== undefined) parts.push(`error_description=${quoted(c.description)}`);
  if (c.scope !== undefined && c.scope.length > 0) parts.push(`scope=${quoted(c.scope.join(" "))}`);
  return `Bearer ${parts.join(", ")}`;
}

/**
 * RFC 6750 §2.1: `Bearer <b64token>`, the scheme in any case. Undefined: no Bearer credentials.
 * The server has the same reader (src/domain/bearer-credential.ts); this package imports nothing
 * of ours, so it keeps its own, and test/domain/bearer-credential.test.ts keeps the two equal.
 */
export function bearerTokenOf(authorization: string | undefined): string | undefined | null {
  if (authorization === undefined || authorization === "") return undefined;
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  // Credentials of another scheme, or a malformed Bearer value: invalid_request.
  return m?.[1] ?? null;
}
