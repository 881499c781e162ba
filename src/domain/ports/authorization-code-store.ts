/** The authorization code store port: what the code grant needs from any state backend. */
import type {
  AttachOutcome,
  AuthorizationCodeRecord,
  RedeemOutcome,
  Redemption,
} from "../authorization-code.js";

/**
 * Every method is one atomic step (one Lua script on one key in Redis, so
 * one hash slot on a Cluster). `handle` is `authorizationCodeHandle(code)`.
 * Records expire at their `expiresAt`.
 */
export interface AuthorizationCodeStore {
  /** Stores a new code; false, writing nothing, if the handle is taken. */
  create(handle: string, record: AuthorizationCodeRecord): Promise<boolean>;

  /** One redemption (see `applyRedemption`): checks and spends in one step. */
  redeem(handle: string, redemption: Redemption): Promise<RedeemOutcome>;

  /** Records what was issued from a redeemed code and confirms it (see `applyAttach`). */
  attach(handle: string, issuedTokens: string, now: number): Promise<AttachOutcome>;

  /** Ends the lease of a failed issuance (see `applyCodeRelease`): a retry may come at once. */
  release(handle: string, now: number): Promise<void>;

  /** Releases timers (a Redis connection belongs to the composition root). */
  close(): Promise<void>;
}
