/**
 * The state transitions of a device authorization, as pure functions.
 *
 * The memory store runs these inside its critical section. The Redis store
 * runs the same rules as Lua scripts (src/store/redis-scripts.ts), because a
 * transition must be one atomic step there; the shared store contract suite
 * (test/store/device-store-contract.ts) holds the two to the same behaviour.
 */
import type { ApprovedGrant, Consumption, DeviceAuthorization } from "./device-authorization.js";
import { grantOrigin } from "./grant-origin.js";
import {
  type DecideOutcome,
  type Decision,
  type IssuanceRef,
  NO_RETRY,
  type PacingPolicy,
  type PollOutcome,
  type RetryPolicy,
} from "./ports/device-store.js";

/**
 * Applies one poll to a stored state: the outcome and, if it changed, the
 * next state. `narrowTo` holds the token request's `resource` values: each
 * must be bound to the grant (RFC 8707 §2.2), checked before anything changes,
 * so a wrong one never spends the code. A consumed code is redeemed again only
 * as `retry` allows (docs/failure.md "Exactly once across faults").
 */
export function applyPoll(
  state: DeviceAuthorization | undefined,
  clientId: string,
  now: number,
  pacing: PacingPolicy,
  narrowTo: readonly string[] = [],
  retry: RetryPolicy = NO_RETRY,
): { outcome: PollOutcome; next?: DeviceAuthorization } {
  if (state === undefined) return { outcome: { kind: "unknown" } };
  if (state.clientId !== clientId) return { outcome: { kind: "wrong_client" } };
  if (state.status === "consumed" && retryAllowed(state.consumption, now, narrowTo, retry)) {
    const c = state.consumption as Consumption;
    return {
      outcome: { kind: "reissued", grant: grantOf(state), issuance: issuanceOf(state, c, retry) },
      next: { ...state, consumption: { ...c, attemptAt: now } },
    };
  }
  if (state.expiresAt <= now) return { outcome: { kind: "expired" } };
  if (narrowTo.some((r) => !state.resources.includes(r)))
    return { outcome: { kind: "invalid_target" } };
  switch (state.status) {
    case "approved": {
      // Check and consume in one step: the loser of a race sees "consumed".
      const consumption: Consumption = { at: now, attemptAt: now, narrowTo, confirmed: false };
      return {
        outcome: {
          kind: "issued",
          grant: grantOf(state),
          issuance: issuanceOf(state, consumption, retry),
        },
        next: { ...state, status: "consumed", lastPolledAt: now, consumption },
      };
    }
    case "denied":
      return { outcome: { kind: "denied" } };
    case "consumed":
      return { outcome: { kind: "consumed" } };
    case "pending": {
      // The first poll is never slow_down (lastPolledAt 0).
      if (state.lastPolledAt > 0 && now - state.lastPolledAt < pacing.minGapMs) {
        const interval = state.interval + pacing.stepSeconds;
        return {
          outcome: { kind: "slow_down", interval },
          next: { ...state, interval, lastPolledAt: now },
        };
      }
      return {
        outcome: { kind: "pending", interval: state.interval },
        next: { ...state, lastPolledAt: now },
      };
    }
  }
}

/**
 * A consumed code may be redeemed again when its token set was never
 * confirmed, the last attempt is at least a lease old (a closer poll is a
 * duplicate racing an attempt still running: it is `consumed`), the window
 * since the consumption is still open, and the request names the same
 * resources (another request is not a retry).
 */
function retryAllowed(
  c: Consumption | undefined,
  now: number,
  narrowTo: readonly string[],
  retry: RetryPolicy,
): boolean {
  return (
    c !== undefined &&
    retry.windowMs > 0 &&
    !c.confirmed &&
    now - c.at <= retry.windowMs &&
    now - c.attemptAt >= retry.leaseMs &&
    narrowTo.join(" ") === c.narrowTo.join(" ")
  );
}

function grantOf(state: DeviceAuthorization): ApprovedGrant {
  return {
    clientId: state.clientId,
    subject: state.subject ?? "",
    scopes: state.grantedScopes ?? state.scopes,
    resources: state.resources,
    origin: grantOrigin(state.ipAddress, state.userAgent, state.approverAddress),
  };
}

function issuanceOf(state: DeviceAuthorization, c: Consumption, retry: RetryPolicy): IssuanceRef {
  return { nonce: state.issuanceNonce ?? "", issuedAt: c.at, retryUntil: c.at + retry.windowMs };
}

/** Ends a failed attempt's lease (its attempt time becomes 0): a retry may come at once. */
export function applyRelease(
  state: DeviceAuthorization | undefined,
): DeviceAuthorization | undefined {
  const c = state?.consumption;
  if (state?.status !== "consumed" || c === undefined || c.confirmed || c.attemptAt === 0) {
    return undefined;
  }
  return { ...state, consumption: { ...c, attemptAt: 0 } };
}

/** Marks a consumption delivered: a consumed, unconfirmed record becomes confirmed; anything else is left. */
export function applyConfirm(
  state: DeviceAuthorization | undefined,
): DeviceAuthorization | undefined {
  if (state?.status !== "consumed" || state.consumption === undefined) return undefined;
  if (state.consumption.confirmed) return undefined;
  return { ...state, consumption: { ...state.consumption, confirmed: true } };
}

/** Applies a decision: only a pending, unexpired request can be decided, and only once. */
export function applyDecision(
  state: DeviceAuthorization | undefined,
  decision: Decision,
  now: number,
): { outcome: DecideOutcome; next?: DeviceAuthorization } {
  if (state === undefined || state.expiresAt <= now) return { outcome: { kind: "not_found" } };
  if (state.status !== "pending") {
    return { outcome: { kind: "already_decided", status: state.status, authorization: state } };
  }
  const approver =
    decision.approverAddress === undefined ? {} : { approverAddress: decision.approverAddress };
  const next: DeviceAuthorization = decision.approve
    ? {
        ...state,
        status: "approved",
        subject: decision.subject,
        grantedScopes: decision.grantedScopes,
        ...approver,
      }
    : { ...state, status: "denied", subject: decision.subject, grantedScopes: [], ...approver };
  return { outcome: { kind: "decided", authorization: next }, next };
}
