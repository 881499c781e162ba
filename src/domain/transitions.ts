/**
 * The state transitions of a device authorization, as pure functions.
 *
 * The memory store runs these inside its critical section. The Redis store
 * runs the same rules as Lua scripts (src/store/redis-scripts.ts), because a
 * transition must be one atomic step there; the shared store contract suite
 * (test/store/device-store-contract.ts) holds the two to the same behaviour.
 */
import type { DeviceAuthorization } from "./device-authorization.js";
import type { DecideOutcome, Decision, PacingPolicy, PollOutcome } from "./ports/device-store.js";

/**
 * Applies one poll to a stored state: the outcome and, if it changed, the
 * next state. `narrowTo` holds the token request's `resource` values: each
 * must be bound to the grant (RFC 8707 §2.2), checked before anything changes,
 * so a wrong one never spends the code.
 */
export function applyPoll(
  state: DeviceAuthorization | undefined,
  clientId: string,
  now: number,
  pacing: PacingPolicy,
  narrowTo: readonly string[] = [],
): { outcome: PollOutcome; next?: DeviceAuthorization } {
  if (state === undefined) return { outcome: { kind: "unknown" } };
  if (state.clientId !== clientId) return { outcome: { kind: "wrong_client" } };
  if (state.expiresAt <= now) return { outcome: { kind: "expired" } };
  if (narrowTo.some((r) => !state.resources.includes(r)))
    return { outcome: { kind: "invalid_target" } };
  switch (state.status) {
    case "approved":
      // Check and consume in one step: the loser of a race sees "consumed".
      return {
        outcome: {
          kind: "issued",
          grant: {
            clientId: state.clientId,
            subject: state.subject ?? "",
            scopes: state.grantedScopes ?? state.scopes,
            resources: state.resources,
          },
        },
        next: { ...state, status: "consumed", lastPolledAt: now },
      };
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

/** Applies a decision: only a pending, unexpired request can be decided, and only once. */
export function applyDecision(
  state: DeviceAuthorization | undefined,
  decision: Decision,
  now: number,
): { outcome: DecideOutcome; next?: DeviceAuthorization } {
  if (state === undefined || state.expiresAt <= now) return { outcome: { kind: "not_found" } };
  if (state.status !== "pending")
    return { outcome: { kind: "already_decided", status: state.status } };
  const next: DeviceAuthorization = decision.approve
    ? {
        ...state,
        status: "approved",
        subject: decision.subject,
        grantedScopes: decision.grantedScopes,
      }
    : { ...state, status: "denied", subject: decision.subject, grantedScopes: [] };
  return { outcome: { kind: "decided", authorization: next }, next };
}
