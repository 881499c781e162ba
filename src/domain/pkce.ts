/** PKCE (RFC 7636), S256 only: OAuth 2.1 §4.1.1 and MCP refuse `plain`. */
import { createHash } from "node:crypto";

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)), 32 bytes → 43 characters, no padding. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** The one method accepted (and advertised in `code_challenge_methods_supported`). */
export const PKCE_METHOD = "S256";

/** True for a well-formed S256 `code_challenge`. */
export function isS256Challenge(challenge: string): boolean {
  return S256_CHALLENGE.test(challenge);
}

/**
 * The S256 challenge of a `code_verifier` (RFC 7636 §4.6), or "" when the
 * verifier is missing or malformed: "" matches no stored challenge, so such a
 * request fails like a wrong verifier, without a separate path.
 */
export function s256ChallengeOf(verifier: string | undefined): string {
  if (verifier === undefined || !VERIFIER.test(verifier)) return "";
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}
