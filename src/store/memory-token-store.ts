/** The embedded token store: one process, same contract as Redis. */
import {
  applyRevocation,
  applyRotation,
  familyExpired,
  type IssuedAccessToken,
  inspectFamily,
  type RefreshFamily,
  type RevokeOutcome,
  type RotateOutcome,
  type Rotation,
  type Transition,
} from "../tokens/refresh-family.js";
import type { TokenStore } from "./token-store.js";

/**
 * Keeps families and revoked ids in Maps. Node runs each method's body
 * without yielding, so every method is atomic. Expired entries are swept
 * every `sweepMs`, so memory stays bounded by live tokens.
 */
export class MemoryTokenStore implements TokenStore {
  private readonly families = new Map<string, RefreshFamily>();
  private readonly revokedJtis = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clock: () => number = Date.now,
    sweepMs = 30_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(this.clock()), sweepMs);
    this.sweeper.unref();
  }

  async createFamily(familyId: string, family: RefreshFamily): Promise<void> {
    this.families.set(familyId, family);
  }

  async rotate(familyId: string, rotation: Rotation): Promise<RotateOutcome> {
    const t = applyRotation(this.families.get(familyId), rotation);
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
    const t = applyRevocation(this.families.get(familyId), presentedHash, clientId, now);
    this.commit(familyId, t);
    if (t.outcome.kind === "revoked") this.markRevoked(t.outcome.revoked);
    return t.outcome;
  }

  async inspect(familyId: string, presentedHash: string, now: number) {
    return inspectFamily(this.families.get(familyId), presentedHash, now);
  }

  async revokeAccessToken(token: IssuedAccessToken): Promise<void> {
    this.markRevoked([token]);
  }

  async isAccessTokenRevoked(jti: string, now: number): Promise<boolean> {
    const until = this.revokedJtis.get(jti);
    return until !== undefined && until > now;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private commit(familyId: string, t: Transition<unknown>): void {
    if (t.next === null) this.families.delete(familyId);
    else if (t.next !== undefined) this.families.set(familyId, t.next);
  }

  private markRevoked(tokens: readonly IssuedAccessToken[]): void {
    for (const t of tokens) this.revokedJtis.set(t.jti, t.expiresAt);
  }

  private sweep(now: number): void {
    for (const [k, f] of this.families) if (familyExpired(f, now)) this.families.delete(k);
    for (const [k, until] of this.revokedJtis) if (until <= now) this.revokedJtis.delete(k);
  }
}
