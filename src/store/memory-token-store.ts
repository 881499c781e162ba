/** The embedded token store: one process, same contract as Redis. */

import type {
  IssuedAccessToken,
  RefreshFamily,
  RevokeOutcome,
  RotateOutcome,
  Rotation,
  TokenStore,
} from "../domain/ports/token-store.js";
import {
  applyRevocation,
  applyRotation,
  inspectFamily,
  type Transition,
} from "../domain/refresh-family.js";
import { sweepEvery, TtlMap } from "./ttl-map.js";

/** When a family stops working: at its idle or its absolute expiry, whichever comes first. */
const endOf = (f: RefreshFamily) => Math.min(f.idleExpiresAt, f.absoluteExpiresAt);

/**
 * Keeps families and revoked ids in TTL maps. Node runs each method's body
 * without yielding, so every method is atomic. Expired entries are dropped
 * every `sweepMs`, so memory stays bounded by live tokens.
 */
export class MemoryTokenStore implements TokenStore {
  private readonly families = new TtlMap<string, RefreshFamily>();
  /** Revoked access-token ids, kept until the token would have expired anyway. */
  private readonly revokedJtis = new TtlMap<string, number>();
  /** Family ids created with `onceUntil`, until then (see TokenStore.createFamily). */
  private readonly created = new TtlMap<string, true>();
  private readonly stopSweeping: () => void;

  constructor(
    private readonly clock: () => number = Date.now,
    sweepMs = 30_000,
  ) {
    this.stopSweeping = sweepEvery(sweepMs, clock, [this.families, this.revokedJtis, this.created]);
  }

  async createFamily(
    familyId: string,
    family: RefreshFamily,
    options: { readonly onceUntil?: number } = {},
  ): Promise<void> {
    const { onceUntil } = options;
    if (onceUntil !== undefined) {
      if (this.created.get(familyId, this.clock()) !== undefined) return;
      this.created.set(familyId, true, onceUntil);
    }
    this.families.set(familyId, family, endOf(family));
  }

  async rotate(familyId: string, rotation: Rotation): Promise<RotateOutcome> {
    const t = applyRotation(this.families.get(familyId, this.clock()), rotation);
    this.commit(familyId, t);
    if (t.outcome.kind === "reused") this.markRevoked(t.outcome.revoked);
    return t.outcome;
  }

  async revokeFamily(
    familyId: string,
    presentedHash: string,
    clientId: string | undefined,
    now: number,
  ): Promise<RevokeOutcome> {
    const t = applyRevocation(
      this.families.get(familyId, this.clock()),
      presentedHash,
      clientId,
      now,
    );
    this.commit(familyId, t);
    if (t.outcome.kind === "revoked") this.markRevoked(t.outcome.revoked);
    return t.outcome;
  }

  async inspect(familyId: string, presentedHash: string, now: number) {
    return inspectFamily(this.families.get(familyId, this.clock()), presentedHash, now);
  }

  async revokeAccessToken(token: IssuedAccessToken): Promise<void> {
    this.markRevoked([token]);
  }

  async isAccessTokenRevoked(jti: string, now: number): Promise<boolean> {
    // The map expires by the wall clock, as Redis does; the caller's `now` decides.
    const until = this.revokedJtis.get(jti, this.clock());
    return until !== undefined && until > now;
  }

  async close(): Promise<void> {
    this.stopSweeping();
  }

  private commit(familyId: string, t: Transition<unknown>): void {
    if (t.next === null) this.families.delete(familyId);
    else if (t.next !== undefined) this.families.set(familyId, t.next, endOf(t.next));
  }

  private markRevoked(tokens: readonly IssuedAccessToken[]): void {
    for (const t of tokens) this.revokedJtis.set(t.jti, t.expiresAt, t.expiresAt);
  }
}
