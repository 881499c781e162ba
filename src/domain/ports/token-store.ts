/**
 * The token store port: refresh families and revoked access-token ids, with
 * the outcome types of its atomic steps (the rules: ../refresh-family.ts).
 */
import type { ApprovedGrant } from "../device-authorization.js";
import type { IndexCursor, IndexPage } from "./creation-index.js";

/** An access token issued in a family: enough to revoke it by `jti` until it expires. */
export interface IssuedAccessToken {
  readonly jti: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * What a family grants: the approved grant (its scopes and resources never
 * change; a refresh may narrow the access token, never the family) and its
 * lifetimes, everything a refresh or an introspection needs to read.
 */
export interface FamilyGrant extends ApprovedGrant {
  /** Epoch ms: when the family was created. */
  readonly createdAt: number;
  /** Epoch ms: the absolute end of the family, whatever the rotations. */
  readonly absoluteExpiresAt: number;
  /** Epoch ms: when the current token was issued. */
  readonly issuedAt: number;
  /** Epoch ms: when the current token dies unused (idle lifetime, capped by the absolute one). */
  readonly idleExpiresAt: number;
}

/** One family as the stores keep it. Scopes and resources never change after creation. */
export interface RefreshFamily extends FamilyGrant {
  /** Storage hash of the one refresh token that may be used. */
  readonly currentHash: string;
  /**
   * Storage hashes of the tokens it replaced, oldest first: presenting one is
   * reuse (OAuth 2.1 §4.3.1). Only the last `keepRotated` are kept, so a
   * client that refreshes in a loop cannot grow a family without bound.
   */
  readonly rotatedHashes: readonly string[];
  /** Access tokens issued in the family that have not expired yet. */
  readonly accessTokens: readonly IssuedAccessToken[];
}

/** A refresh request, already authenticated and minted, ready for the atomic step. */
export interface Rotation {
  readonly presentedHash: string;
  readonly nextHash: string;
  readonly clientId: string;
  readonly now: number;
  readonly accessToken: IssuedAccessToken;
  readonly idleTtlMs: number;
  /** How many rotated-out hashes to remember for reuse detection. */
  readonly keepRotated: number;
}

/** What one refresh did (see `applyRotation`). */
export type RotateOutcome =
  | { readonly kind: "unknown" }
  | { readonly kind: "expired" }
  | { readonly kind: "wrong_client" }
  /** A rotated-out token came back: the family and its live access tokens are revoked. */
  | { readonly kind: "reused"; readonly revoked: readonly IssuedAccessToken[] }
  | { readonly kind: "rotated"; readonly family: FamilyGrant };

/**
 * One live family as the person's "Connected devices" page lists it: the
 * grant and its id (a family is one connected device). `issuedAt` later than
 * `createdAt` is the last refresh.
 */
export interface ConnectedGrant extends FamilyGrant {
  readonly familyId: string;
}

/**
 * How many families a subject's index keeps unless told otherwise
 * (HANDOFF_CONNECTIONS_MAX_PER_SUBJECT): what the "Connected devices" page
 * lists at most. An older family leaves the index only; its tokens keep
 * working and revoking any of them still ends it.
 */
export const DEFAULT_MAX_PER_SUBJECT = 50;

/** What one family revocation did (see `applyRevocation`). */
export type RevokeOutcome =
  | { readonly kind: "not_found" }
  | { readonly kind: "wrong_client" }
  | { readonly kind: "revoked"; readonly revoked: readonly IssuedAccessToken[] };

/** What the owner's Disconnect did (see `applyOwnerRevocation`): the client it cut off, if any. */
export type OwnerRevokeOutcome =
  | { readonly kind: "not_found" }
  | {
      readonly kind: "revoked";
      /** The client the family was issued to (the audit event names it). */
      readonly clientId: string;
      readonly revoked: readonly IssuedAccessToken[];
    };

/** What an operator's revocation by id did (see `applyOperatorRevocation`): whose grant it was. */
export type OperatorRevokeOutcome =
  | { readonly kind: "not_found" }
  | {
      readonly kind: "revoked";
      /** The client and the person the family was issued to (the audit event names both). */
      readonly clientId: string;
      readonly subject: string;
      readonly revoked: readonly IssuedAccessToken[];
    };

/**
 * Every method is one atomic step (a Lua script on Redis). A family lives
 * until its current token's idle or absolute expiry, whichever comes first;
 * a revoked `jti` stays revoked until the access token would have expired.
 * Keys carry the family id as a hash tag, so on Redis Cluster every key a
 * step touches is in one slot.
 */
export interface TokenStore {
  /**
   * Stores a new family under `familyId`, with its first access token. With
   * `onceUntil` (epoch ms) the id is also remembered until then, and a second
   * create of it in that time writes nothing, even if the family has since
   * been rotated or revoked: a retried issuance never resets or revives one
   * (docs/failure.md "Exactly once across faults").
   */
  createFamily(
    familyId: string,
    family: RefreshFamily,
    options?: { readonly onceUntil?: number },
  ): Promise<void>;

  /** One refresh (see `applyRotation`): check, swap and reuse detection in one step. */
  rotate(familyId: string, rotation: Rotation): Promise<RotateOutcome>;

  /** Revokes the family that `presentedHash` belongs to (see `applyRevocation`). */
  revokeFamily(
    familyId: string,
    presentedHash: string,
    clientId: string | undefined,
    now: number,
  ): Promise<RevokeOutcome>;

  /**
   * The subject's live families, newest first, at most `limit`. The
   * per-subject index is a secondary structure (on Redis Cluster its own
   * slot): entries whose family expired or was revoked are skipped and
   * pruned here, and only the newest `maxPerSubject` entries are kept.
   */
  listBySubject(subject: string, now: number, limit: number): Promise<readonly ConnectedGrant[]>;

  /**
   * Revokes the family and its live access tokens if it belongs to
   * `subject` and is live (the owner's Disconnect, no token presented);
   * another subject's family is `not_found` and nothing changes.
   */
  revokeFamilyOfSubject(
    familyId: string,
    subject: string,
    now: number,
  ): Promise<OwnerRevokeOutcome>;

  /**
   * One page of the client's live families, newest first (the operators'
   * listing). The per-client index is a secondary structure in its own slot,
   * written after the family as a best-effort step: a family missing from it
   * is only unlisted; entries whose family expired or was revoked are skipped
   * and pruned here.
   */
  listByClient(
    clientId: string,
    now: number,
    limit: number,
    after?: IndexCursor,
  ): Promise<IndexPage<ConnectedGrant>>;

  /**
   * Revokes the family and its live access tokens by its id alone (an
   * operator's RevokeGrant, already authorised); `not_found` if it is not live.
   */
  revokeFamilyById(familyId: string, now: number): Promise<OperatorRevokeOutcome>;

  /** The family if `presentedHash` is its current, unexpired token; else null. */
  inspect(familyId: string, presentedHash: string, now: number): Promise<FamilyGrant | null>;

  /** Marks an access token revoked until it expires (RFC 7009 §2.1). */
  revokeAccessToken(token: IssuedAccessToken): Promise<void>;

  /** True when the `jti` was revoked and the token has not expired yet. */
  isAccessTokenRevoked(jti: string, now: number): Promise<boolean>;

  /** Releases timers (the Redis connection belongs to the composition root). */
  close(): Promise<void>;
}
