/**
 * The limit on creating device authorizations (RFC 8628 §3.1–3.2;
 * docs/hostile-input.md): each request is charged to the requester's address
 * and to the client, whether or not it then succeeds (a rate, not a failure
 * count), so a flood cannot fill memory or Redis with pending requests.
 */
import type { StepCharge } from "./device-store.js";

export interface AuthorizationQuota {
  /**
   * Charges one device authorization of `clientId` from `address`. Resolves
   * with the seconds to wait while a limit is in force (nothing is charged
   * then), else with undefined.
   */
  charge(clientId: string, address: string): Promise<number | undefined>;
  /** The same charge, for a store that makes it in its write's own step (`DeviceStore.createCharged`). */
  stepCharge(clientId: string, address: string): StepCharge;
  /**
   * A refusal that step met, reported as `charge` reports its own (logged,
   * counted) → the seconds to wait.
   */
  limited(clientId: string, address: string, retryAfterMs: number): number;
}
