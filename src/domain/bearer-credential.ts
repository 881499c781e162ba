/**
 * The one reader of `Authorization: Bearer <token>` (RFC 6750 §2.1) for every
 * transport of the server: HTTP endpoints, RPC services, the metrics scrape.
 * It lives in the domain so that http/, rpc/ and pages/ share it without
 * importing each other (docs/architecture.md). handoff/resource-server keeps
 * its own copy (src/resource-server/challenges.ts) because that package
 * imports nothing of ours; test/domain/bearer-credential.test.ts keeps the
 * two equal.
 */

/**
 * RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token`, the scheme
 * case-insensitive (RFC 7235 §2.1), b64token = 1*( ALPHA / DIGIT / "-" / "." /
 * "_" / "~" / "+" / "/" ) *"=". Trailing spaces are optional whitespace
 * around a field value (RFC 7230 §3.2) and are tolerated.
 */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of a well-formed Bearer credential; undefined for none, another scheme or a malformed value. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (authorization === null || authorization === undefined) return undefined;
  return BEARER.exec(authorization)?.[1];
}

/** True when the credentials name the Bearer scheme at all (well-formed or not): its 401 gets a Bearer challenge (RFC 6750 §3). */
export function namesBearerScheme(authorization: string | null | undefined): boolean {
  return authorization !== null && authorization !== undefined && /^bearer /i.test(authorization);
}
