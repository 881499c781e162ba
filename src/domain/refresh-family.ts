/**
 * A refresh-token family and its transitions, as pure functions.
 *
 * A family is everything one device-code redemption grants: the refresh
 * token in service, the ones it replaced, and the access tokens issued along
 * the way. The memory token store runs these functions in its critical
 * section; the Redis store runs the same rules as Lua scripts
 * (src/store/redis-token-scripts.ts). The token store contract suite
 * (test/store/token-store-contract.ts) holds both to the same behaviour.
 */
import type {
  FamilyGrant,
  IssuedAccessToken,
  OperatorRevokeOutcome,
  OwnerRevokeOutcome,
  RefreshFamily,
  RevokeOutcome,
  RotateOutcome,
  Rotation,
} from "./ports/token-store.js";

/** `next: null` means delete the family. */
export interface Transition<O> {
  readonly outcome: O;
  readonly next?: RefreshFamily | null;
}

/** True when the family's current token can no longer be used at `now`. */
export function familyExpired(f: RefreshFamily, now: number): boolean {
  return f.idleExpiresAt <= now || f.absoluteExpiresAt <= now;
}

const live = (tokens: readonly IssuedAccessToken[], now: number) =>
  tokens.filter((t) => t.expiresAt > now);

/**
 * One refresh: the current token is swapped for the next in the same step
 * that checks it, so of two concurrent refreshes exactly one wins; the other
 * presents a rotated-out token and revokes the family (OAuth 2.1 §4.3.1).
 * The client is checked before reuse, so another client cannot kill a family.
 */
export function applyRotation(
  state: RefreshFamily | undefined,
  r: Rotation,
): Transition<RotateOutcome> {
  if (state === undefined) return { outcome: { kind: "unknown" } };
  if (familyExpired(state, r.now)) return { outcome: { kind: "expired" } };
  if (state.clientId !== r.clientId) return { outcome: { kind: "wrong_client" } };
  if (state.currentHash !== r.presentedHash) {
    if (!state.rotatedHashes.includes(r.presentedHash)) return { outcome: { kind: "unknown" } };
    return { outcome: { kind: "reused", revoked: live(state.accessTokens, r.now) }, next: null };
  }
  const next: RefreshFamily = {
    ...state,
    issuedAt: r.now,
    idleExpiresAt: Math.min(r.now + r.idleTtlMs, state.absoluteExpiresAt),
    currentHash: r.nextHash,
    rotatedHashes: [...state.rotatedHashes, r.presentedHash].slice(-r.keepRotated),
    accessTokens: [...live(state.accessTokens, r.now), r.accessToken],
  };
  return { outcome: { kind: "rotated", family: grantOf(next) }, next };
}

/**
 * Revocation by any token of the family, current or rotated out (RFC 7009
 * §2.1: revoking a refresh token also invalidates the access tokens of the
 * same grant). `clientId` undefined is the service credential: any family.
 */
export function applyRevocation(
  state: RefreshFamily | undefined,
  presentedHash: string,
  clientId: string | undefined,
  now: number,
): Transition<RevokeOutcome> {
  if (state === undefined || familyExpired(state, now)) return { outcome: { kind: "not_found" } };
  if (state.currentHash !== presentedHash && !state.rotatedHashes.includes(presentedHash)) {
    return { outcome: { kind: "not_found" } };
  }
  if (clientId !== undefined && state.clientId !== clientId) {
    return { outcome: { kind: "wrong_client" } };
  }
  return { outcome: { kind: "revoked", revoked: live(state.accessTokens, now) }, next: null };
}

/**
 * The owner's Disconnect: the family and its live access tokens go if it is
 * live and belongs to `subject`; another subject's family is `not_found`,
 * so an id guessed or copied from someone else reveals and changes nothing.
 */
export function applyOwnerRevocation(
  state: RefreshFamily | undefined,
  subject: string,
  now: number,
): Transition<OwnerRevokeOutcome> {
  if (state === undefined || familyExpired(state, now) || state.subject !== subject) {
    return { outcome: { kind: "not_found" } };
  }
  return {
    outcome: { kind: "revoked", clientId: state.clientId, revoked: live(state.accessTokens, now) },
    next: null,
  };
}

/**
 * An operator's RevokeGrant by family id (already authorised by the admin
 * credential): the family and its live access tokens go if it is live.
 */
export function applyOperatorRevocation(
  state: RefreshFamily | undefined,
  now: number,
): Transition<OperatorRevokeOutcome> {
  if (state === undefined || familyExpired(state, now)) return { outcome: { kind: "not_found" } };
  const { clientId, subject } = state;
  return {
    outcome: { kind: "revoked", clientId, subject, revoked: live(state.accessTokens, now) },
    next: null,
  };
}

/** The grant behind a token if that token is the current, unexpired one (introspection). */
export function inspectFamily(
  state: RefreshFamily | undefined,
  presentedHash: string,
  now: number,
): FamilyGrant | null {
  if (state === undefined || familyExpired(state, now)) return null;
  return state.currentHash === presentedHash ? grantOf(state) : null;
}

/** The grant part of a family (drops the hashes and access-token ids). */
export function grantOf(f: RefreshFamily): FamilyGrant {
  return {
    clientId: f.clientId,
    subject: f.subject,
    scopes: f.scopes,
    resources: f.resources,
    createdAt: f.createdAt,
    absoluteExpiresAt: f.absoluteExpiresAt,
    issuedAt: f.issuedAt,
    idleExpiresAt: f.idleExpiresAt,
    ...(f.origin === undefined ? {} : { origin: f.origin }),
  };
}
