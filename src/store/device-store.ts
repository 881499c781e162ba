/** The device store port: what the flow needs from any state backend. */

import type { DeviceAuthorization } from "../domain/device-authorization.js";
import type { CodeHandle } from "../domain/device-code.js";
import type { DecideOutcome, Decision, PacingPolicy, PollOutcome } from "../domain/transitions.js";

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
   * Applies one poll (see `applyPoll`): resource check, pacing, state check
   * and consumption in one step.
   */
  poll(
    device: CodeHandle,
    clientId: string,
    now: number,
    pacing: PacingPolicy,
    narrowTo?: readonly string[],
  ): Promise<PollOutcome>;

  /** The live request a user code points to, or null. */
  findByUserCode(user: CodeHandle, now: number): Promise<DeviceAuthorization | null>;

  /** Records a decision (see `applyDecision`); at most one decision ever succeeds. */
  decide(user: CodeHandle, decision: Decision, now: number): Promise<DecideOutcome>;

  /** Readiness: resolves when the backend answers. */
  ping(): Promise<void>;

  /** Releases connections and timers. */
  close(): Promise<void>;
}
