/** Refresh tokens and access-token ids: minting from the CSPRNG, parsing, hashing for storage. */
import { createHash } from "node:crypto";
import { csprngBytes } from "./csprng-pool.js";

/**
 * A refresh token is `<family id>.<secret>`: 16 random bytes name the family
 * (and its Redis Cluster hash tag, so every key of a family shares a slot),
 * 32 random bytes (256 bits) are the secret. Only a SHA-256 of the whole
 * token is stored: a dump of the store hands out no live refresh token.
 */
export interface RefreshTokenHandle {
  readonly familyId: string;
  readonly hash: string;
}

const FAMILY_BYTES = 16;
const SECRET_BYTES = 32; // OAuth 2.1 §7.1.2 / RFC 6749 §10.10: unguessable
const REFRESH_TOKEN_RE = /^([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}$/;
const JTI_RE = /^([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{22}$/;

/** A new family id (also the hash tag of its store keys). */
export function mintFamilyId(): string {
  return csprngBytes(FAMILY_BYTES).toString("base64url");
}

/** A new refresh token of the family `familyId`. */
export function mintRefreshToken(familyId: string): string {
  return `${familyId}.${csprngBytes(SECRET_BYTES).toString("base64url")}`;
}

/** The family and storage hash of a refresh token, or null if it is not one of ours. */
export function parseRefreshToken(token: string): RefreshTokenHandle | null {
  const m = REFRESH_TOKEN_RE.exec(token);
  if (!m?.[1]) return null;
  return { familyId: m[1], hash: hashRefreshToken(token) };
}

/** SHA-256 with a domain label: a fast hash suffices for a 256-bit random secret. */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update("handoff/refresh-token\0").update(token).digest("base64url");
}

/**
 * An access token's `jti`: `<tag>.<random>`. The tag is the family id when the
 * token belongs to a refresh family, so the family's revocation can mark its
 * access tokens revoked in the same hash slot; otherwise a fresh random tag.
 */
export function mintJti(tag: string = mintFamilyId()): string {
  return `${tag}.${csprngBytes(FAMILY_BYTES).toString("base64url")}`;
}

/** The hash tag of a `jti` we minted, or null for anything else. */
export function jtiTag(jti: string): string | null {
  return JTI_RE.exec(jti)?.[1] ?? null;
}
