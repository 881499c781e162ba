/**
 * The device store port: what the flow needs from any state backend, with the
 * outcome types of its atomic steps (the rules themselves: ../transitions.ts).
 */
import type { ApprovedGrant, DeviceAuthorization } from "../device-authorization.js";
import type { CodeHandle } from "../device-code.js";
import type { AttemptSlot } from "./attempt-counter.js";
import type { IndexCursor, IndexPage } from "./creation-index.js";

/** How the server paces polls (RFC 8628 §3.5). */
export interface PacingPolicy {
  /**
   * A poll sooner than this after the previous poll of the same code gets
   * `slow_down`: the base interval less a jitter tolerance. It is the base
   * interval, not the raised one, so a client that forgets the +5 s but keeps
   * the base pace (VS Code) is not locked out (RFC 8628 §3.5).
   */
  readonly minGapMs: number;
  /** Seconds added to the advertised interval on each `slow_down`. */
  readonly stepSeconds: number;
}

/**
 * When a consumed code may be redeemed again for the same token set
 * (docs/failure.md "Exactly once across faults"): only if its issuance was
 * never confirmed, no sooner than `leaseMs` after the last attempt unless
 * that attempt released it on failing (a poll closer than that is a
 * duplicate of an attempt that may still be running, not a retry after its
 * failure), and no later than `windowMs` after the consumption.
 */
export interface RetryPolicy {
  readonly windowMs: number;
  readonly leaseMs: number;
}

/** No second redemption at all: a consumed code is `consumed`. */
export const NO_RETRY: RetryPolicy = { windowMs: 0, leaseMs: 0 };

/** What names the token set of one consumption; the same for every retry of it. */
export interface IssuanceRef {
  /** The request's issuance nonce ("" for a record from before nonces). */
  readonly nonce: string;
  /** Epoch ms of the consumption. */
  readonly issuedAt: number;
  /** Epoch ms until which a retry may come (consumption + window). */
  readonly retryUntil: number;
}

export type PollOutcome =
  | { readonly kind: "unknown" }
  | { readonly kind: "invalid_target" }
  | { readonly kind: "wrong_client" }
  | { readonly kind: "expired" }
  | { readonly kind: "pending"; readonly interval: number }
  | { readonly kind: "slow_down"; readonly interval: number }
  | { readonly kind: "denied" }
  | { readonly kind: "consumed" }
  | { readonly kind: "issued"; readonly grant: ApprovedGrant; readonly issuance: IssuanceRef }
  /** A retry after an issuance that was never confirmed: the same grant, the same issuance. */
  | { readonly kind: "reissued"; readonly grant: ApprovedGrant; readonly issuance: IssuanceRef };

/** A person's decision, already validated against the request. */
export interface Decision {
  readonly approve: boolean;
  readonly subject: string;
  /** The scopes granted; ignored when denying. */
  readonly grantedScopes: readonly string[];
  /** Where the decision came from; kept with the request, and with its family on approval. */
  readonly approverAddress?: string;
}

export type DecideOutcome =
  | { readonly kind: "not_found" }
  | {
      readonly kind: "already_decided";
      readonly status: DeviceAuthorization["status"];
      /** The record as the decision found it: who decided, and what. */
      readonly authorization: DeviceAuthorization;
    }
  | { readonly kind: "decided"; readonly authorization: DeviceAuthorization };

/** A pending request as the operators' listing sees it: its record and its device-code handle. */
export interface PendingEntry {
  readonly device: CodeHandle;
  readonly authorization: DeviceAuthorization;
}

/** Attempt counters to charge in another store's step, at `now` (epoch ms). */
export interface StepCharge {
  readonly slots: readonly AttemptSlot[];
  readonly now: number;
}

/** What `createCharged` did. */
export type ChargedCreate =
  | { readonly kind: "created" }
  /** Charged; the user code is taken by a live request, nothing written. */
  | { readonly kind: "taken" }
  /** A limit refused: nothing charged, nothing written. */
  | { readonly kind: "limited"; readonly retryAfterMs: number };

/**
 * Every method is one atomic step. Records expire at `expiresAt` (one TTL for
 * both the record and its user-code index).
 */
export interface DeviceStore {
  /**
   * Stores a new request under its device-code handle and indexes it by its
   * user-code handle, both in one atomic write. Returns false, writing
   * nothing, when the user code is already taken by a live request.
   */
  create(
    device: CodeHandle,
    user: CodeHandle,
    authorization: DeviceAuthorization,
  ): Promise<boolean>;

  /**
   * `create` with an attempt charge (the device-authorization quota) made
   * in the same atomic step, first and whether or not the user code is
   * free. A refusal writes and charges nothing. Only where both fit in one
   * step and that saves a round trip (one Redis); elsewhere absent, and the
   * flow charges through the attempt counter beside `create`.
   */
  readonly createCharged?:
    | ((
        device: CodeHandle,
        user: CodeHandle,
        authorization: DeviceAuthorization,
        charge: StepCharge,
      ) => Promise<ChargedCreate>)
    | undefined;

  /**
   * Removes a request that was just created and then refused by a limit
   * checked alongside the write (docs/hostile-input.md); nothing if it is gone.
   */
  discard(device: CodeHandle, user: CodeHandle): Promise<void>;

  /**
   * Applies one poll (see `applyPoll`): resource check, pacing, state check
   * and consumption in one step. A consumed record stays at least until
   * `now + retry.windowMs`, its code's expiry notwithstanding.
   */
  poll(
    device: CodeHandle,
    clientId: string,
    now: number,
    pacing: PacingPolicy,
    narrowTo?: readonly string[],
    retry?: RetryPolicy,
  ): Promise<PollOutcome>;

  /** Marks a consumption's token set delivered (see `applyConfirm`): no retry gets it again. */
  confirm(device: CodeHandle, now: number): Promise<void>;

  /** Ends the lease of a failed attempt (see `applyRelease`): a retry may come at once. */
  release(device: CodeHandle, now: number): Promise<void>;

  /** The live request a user code points to, or null. */
  findByUserCode(user: CodeHandle, now: number): Promise<DeviceAuthorization | null>;

  /** Records a decision (see `applyDecision`); at most one decision ever succeeds. */
  decide(user: CodeHandle, decision: Decision, now: number): Promise<DecideOutcome>;

  /**
   * One page of the client's pending requests, newest first (the operators'
   * listing). The per-client index is a secondary structure in its own slot,
   * written after the request as a best-effort step: entries whose request
   * expired, was decided or is gone are skipped and pruned here.
   */
  listPendingByClient(
    clientId: string,
    now: number,
    limit: number,
    after?: IndexCursor,
  ): Promise<IndexPage<PendingEntry>>;

  /** Records a decision found by the device-code handle (see `applyDecision`): an operator's cancel. */
  decideByDevice(device: CodeHandle, decision: Decision, now: number): Promise<DecideOutcome>;

  /** Readiness: resolves when the backend answers. */
  ping(): Promise<void>;

  /** Releases connections and timers. */
  close(): Promise<void>;
}
