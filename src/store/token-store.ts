/** The token store port: refresh families and revoked access-token ids. */
import type {
  FamilyGrant,
  IssuedAccessToken,
  RefreshFamily,
  RevokeOutcome,
  RotateOutcome,
  Rotation,
} from "../tokens/refresh-family.js";

/**
 * Every method is one atomic step (a Lua script on Redis). A family lives
 * until its current token's idle or absolute expiry, whichever comes first;
 * a revoked `jti` stays revoked until the access token would have expired.
 * Keys carry the family id as a hash tag, so on Redis Cluster every key a
 * step touches is in one slot.
 */
export interface TokenStore {
  /** Stores a new family under `familyId`, with its first access token. */
  createFamily(familyId: string, family: RefreshFamily): Promise<void>;

  /** One refresh (see `applyRotation`): check, swap and reuse detection in one step. */
  rotate(familyId: string, rotation: Rotation): Promise<RotateOutcome>;

  /** Revokes the family that `presentedHash` belongs to (see `applyRevocation`). */
  revokeFamily(
    familyId: string,
    presentedHash: string,
    clientId: string | undefined,
    now: number,
  ): Promise<RevokeOutcome>;

  /** The family if `presentedHash` is its current, unexpired token; else null. */
  inspect(familyId: string, presentedHash: string, now: number): Promise<FamilyGrant | null>;

  /** Marks an access token revoked until it expires (RFC 7009 §2.1). */
  revokeAccessToken(token: IssuedAccessToken): Promise<void>;

  /** True when the `jti` was revoked and the token has not expired yet. */
  isAccessTokenRevoked(jti: string, now: number): Promise<boolean>;

  /** Releases timers (the Redis connection belongs to the composition root). */
  close(): Promise<void>;
}
