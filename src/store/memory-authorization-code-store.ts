/** The embedded authorization code store: one process, same contract as Redis. */
import {
  type AttachOutcome,
  type AuthorizationCodeRecord,
  applyAttach,
  applyCodeRelease,
  applyRedemption,
  type RedeemOutcome,
  type Redemption,
} from "../domain/authorization-code.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { AuthorizationCodeStore } from "../domain/ports/authorization-code-store.js";
import { sweepEvery, TtlMap } from "./ttl-map.js";

/** How the embedded store bounds itself. */
export interface MemoryAuthorizationCodeStoreOptions {
  /** Codes held at most (live and remembered for replay); past it, `temporarily_unavailable`. */
  readonly maxCodes: number;
  /** How often expired entries are dropped, in ms. */
  readonly sweepMs?: number;
  readonly clock?: () => number;
}

/**
 * Keeps codes in a TTL map. Node runs each method's body without yielding,
 * so every method is atomic.
 */
export class MemoryAuthorizationCodeStore implements AuthorizationCodeStore {
  private readonly codes = new TtlMap<string, AuthorizationCodeRecord>();
  private readonly stopSweeping: () => void;
  private readonly clock: () => number;

  constructor(private readonly options: MemoryAuthorizationCodeStoreOptions) {
    this.clock = options.clock ?? Date.now;
    this.stopSweeping = sweepEvery(options.sweepMs ?? 30_000, this.clock, [this.codes]);
  }

  async create(handle: string, record: AuthorizationCodeRecord): Promise<boolean> {
    const now = this.clock();
    if (this.codes.get(handle, now) !== undefined) return false;
    if (this.codes.size >= this.options.maxCodes) {
      this.codes.sweep(now);
      if (this.codes.size >= this.options.maxCodes) {
        throw new OAuthError("temporarily_unavailable", "too many authorization codes; try again");
      }
    }
    this.codes.set(handle, record, record.expiresAt);
    return true;
  }

  async redeem(handle: string, r: Redemption): Promise<RedeemOutcome> {
    const { outcome, next } = applyRedemption(this.codes.get(handle, r.now), r);
    if (next) this.codes.set(handle, next, next.expiresAt);
    return outcome;
  }

  async attach(handle: string, issuedTokens: string, now: number): Promise<AttachOutcome> {
    const { outcome, next } = applyAttach(this.codes.get(handle, now), issuedTokens);
    if (next) this.codes.set(handle, next, next.expiresAt);
    return outcome;
  }

  async release(handle: string, now: number): Promise<void> {
    const next = applyCodeRelease(this.codes.get(handle, now));
    if (next) this.codes.set(handle, next, next.expiresAt);
  }

  async close(): Promise<void> {
    this.stopSweeping();
  }
}
