/** The stored state of one device authorization request and its life cycle. */
import type { GrantOrigin } from "./grant-origin.js";

/**
 * pending → approved | denied; approved → consumed (exactly once). Expiry ends
 * every state. A consumed code may be redeemed again for the same token set
 * for a short while if the first issuance never reached the client
 * (`Consumption`, docs/failure.md "Exactly once across faults").
 */
export type DeviceStatus = "pending" | "approved" | "denied" | "consumed";

/** One device authorization request as the stores keep it. */
export interface DeviceAuthorization {
  readonly clientId: string;
  /** Requested scopes (already checked against the client's allowed scopes). */
  readonly scopes: readonly string[];
  /** RFC 8707 resource indicators, bound to the grant. */
  readonly resources: readonly string[];
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds; the store's TTL ends at the same instant. */
  readonly expiresAt: number;
  /** The interval the server currently advertises for this code, in seconds. */
  readonly interval: number;
  /** Epoch milliseconds of the last poll; 0 before the first. */
  readonly lastPolledAt: number;
  readonly status: DeviceStatus;
  /** Who decided (approved or denied). */
  readonly subject?: string;
  /** Scopes granted on approval (a subset of `scopes`). */
  readonly grantedScopes?: readonly string[];
  /** Where the device's request came from, shown on the consent screen (RFC 8628 §5.4). */
  readonly ipAddress: string;
  readonly userAgent: string;
  /**
   * Where the decision came from (the person's browser, or the calling
   * service); absent before the decision, when unknown, and in records
   * written before it was kept.
   */
  readonly approverAddress?: string;
  /**
   * Random, minted with the request: with the device code it names the one
   * token set the code is redeemed for (src/domain/issuance.ts). Absent in
   * records written before it existed.
   */
  readonly issuanceNonce?: string;
  /** Set when the code is consumed. */
  readonly consumption?: Consumption;
}

/** The consumption of a device code: what a retry after a failed issuance needs. */
export interface Consumption {
  /** Epoch ms of the consumption: the issue time of the token set. */
  readonly at: number;
  /** Epoch ms of the latest attempt to issue it (the consumption, or a later retry). */
  readonly attemptAt: number;
  /** The `resource` values the consuming request named; a retry must name the same. */
  readonly narrowTo: readonly string[];
  /** The token set was handed to the transport: no retry gets it again. */
  readonly confirmed: boolean;
}

/** What the token endpoint needs from an approved request. */
export interface ApprovedGrant {
  readonly clientId: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly resources: readonly string[];
  /**
   * Where the grant came from, kept with its refresh family for the
   * "Connected devices" page; absent in a family written before it was kept.
   */
  readonly origin?: GrantOrigin;
}
