/**
 * The events port: what the flow tells operators. Security events become one
 * audit log line each and a counter (docs/operations.md); poll outcomes and
 * limit refusals are counted only (most polls are `authorization_pending`, far
 * too many for a log). Adapters live in src/telemetry. No event carries a
 * secret: no device code, user code, token, client secret or cookie.
 */

/** A security event (docs/operations.md lists each one's fields). */
export type SecurityEvent =
  /** RFC 8628 §3.1: a device asked for authorization. */
  | {
      readonly event: "authorized";
      readonly clientId: string;
      readonly ipAddress: string;
      readonly userAgent: string;
    }
  /** A person (or a service over RPC) approved or denied a request. */
  | {
      readonly event: "approved" | "denied";
      readonly clientId: string;
      readonly subject: string;
      /** Where the device's request came from. */
      readonly requesterAddress: string;
      /** Where the decision came from (the browser, or the calling service). */
      readonly approverAddress: string;
    }
  /** A person said "I didn't start this": the request was denied and reported. */
  | {
      readonly event: "phishing_reported";
      readonly clientId: string;
      readonly subject: string;
      readonly requesterAddress: string;
      readonly approverAddress: string;
      readonly userAgent: string;
    }
  /** Tokens were issued for a grant (the first pair of a device-code redemption). */
  | {
      readonly event: "issued";
      readonly clientId: string;
      readonly subject: string;
      readonly grant: IssuedGrant;
    }
  /** A refresh token was rotated (OAuth 2.1 §4.3.1). */
  | { readonly event: "refreshed"; readonly clientId: string; readonly subject: string }
  /** A rotated-out refresh token came back: its family was revoked. */
  | { readonly event: "reuse_detected"; readonly clientId: string }
  /** A token or a whole grant was revoked (RFC 7009, or Disconnect). */
  | {
      readonly event: "revoked";
      readonly tokenType: "access_token" | "refresh_token";
      /** The client whose token it was, when known. */
      readonly clientId: string | undefined;
      readonly subject: string | undefined;
      /** Who revoked it: the owning client, a service, or the person. */
      readonly by: "client" | "service" | "subject";
    }
  /** A client was created, changed, disabled or removed. */
  | {
      readonly event: "client_changed";
      readonly clientId: string;
      readonly change:
        | "created"
        | "updated"
        | "disabled"
        | "enabled"
        | "secret_rotated"
        | "deleted";
    };

/** The grants tokens are issued under (for the per-grant counter). */
export type IssuedGrant = "device_code" | "refresh_token" | "authorization_code";

/** What a poll answered, as a bounded metric label (RFC 8628 §3.5). */
export type PollOutcome =
  | "pending"
  | "slow_down"
  | "denied"
  | "expired"
  | "issued"
  | "invalid_grant"
  | "invalid_target";

/** Which limit refused an attempt. */
export type LimitKind = "user_code" | "sign_in" | "client_auth" | "device_authorization";

/** The port the domain reports through. Every method is synchronous and cheap: it runs on the hot path. */
export interface FlowEvents {
  /** One security event. */
  record(e: SecurityEvent): void;
  /** One poll and what it answered. */
  polled(outcome: PollOutcome): void;
  /** An attempt refused by a guess or authentication limit. */
  limited(limit: LimitKind): void;
  /** A long-lived stream (WaitToken) opened (+1) or ended (-1). */
  streams(delta: 1 | -1): void;
}

/** Reports nothing: for callers that do not observe (unit tests, tools). */
export const NO_FLOW_EVENTS: FlowEvents = {
  record() {},
  polled() {},
  limited() {},
  streams() {},
};
