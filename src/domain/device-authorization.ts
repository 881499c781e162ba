/** The stored state of one device authorization request and its life cycle. */

/** pending → approved | denied; approved → consumed (exactly once). Expiry ends every state. */
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
}

/** What the token endpoint needs from an approved request. */
export interface ApprovedGrant {
  readonly clientId: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly resources: readonly string[];
}
