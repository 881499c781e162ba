/** The domain's one error type: an OAuth error code plus a description. */

/**
 * Every error the flow can produce, as a closed union (jose's `JOSEErrorCode`
 * style): callers switch on `code`, never on message text. The RFC codes come
 * from RFC 6749 §5.2, RFC 8628 §3.5, RFC 8707 §2, RFC 7591 §3.2.2
 * (registration) and RFC 6750 §3.1 (a bearer token); `not_found` and
 * `already_decided` belong to the approval side, which the RFCs leave open.
 */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "invalid_target"
  | "authorization_pending"
  | "slow_down"
  | "access_denied"
  | "expired_token"
  | "temporarily_unavailable"
  | "not_found"
  | "already_decided"
  | "invalid_redirect_uri"
  | "invalid_client_metadata"
  | "invalid_token";

/** What a transport needs to answer an OAuth error, thrown or returned. */
export interface OAuthErrorAnswer {
  readonly code: OAuthErrorCode;
  readonly description: string;
  /** Seconds the client should wait before polling again (pending, slow_down). */
  readonly interval?: number | undefined;
  /** Seconds before a refused attempt may be retried (a limit is in force). */
  readonly retryAfter?: number | undefined;
}

/**
 * The expected answers to a poll that are not tokens (RFC 8628 §3.5): most
 * polls end so, so the flow returns them as values instead of throwing.
 */
export type PollRefusalCode =
  | "authorization_pending"
  | "slow_down"
  | "access_denied"
  | "expired_token";

/** A poll answered without tokens; see `PollRefusalCode`. */
export interface PollRefusal extends OAuthErrorAnswer {
  readonly code: PollRefusalCode;
}

/** An OAuth error raised by the domain and translated once per transport. */
export class OAuthError extends Error implements OAuthErrorAnswer {
  override readonly name = "OAuthError";
  /** Seconds the client should wait before polling again (pending, slow_down). */
  readonly interval: number | undefined;
  /** Seconds before a refused attempt may be retried (a limit is in force): 429 / RESOURCE_EXHAUSTED. */
  readonly retryAfter: number | undefined;

  readonly code: OAuthErrorCode;
  readonly description: string;

  constructor(
    code: OAuthErrorCode,
    description: string,
    options: { interval?: number; retryAfter?: number; cause?: unknown } = {},
  ) {
    // These are answers, not faults: `authorization_pending` is the normal
    // reply to most polls. Skip the stack trace, which costs more than the
    // rest of the poll's CPU work.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${description}`, options.cause === undefined ? {} : { cause: options.cause });
    Error.stackTraceLimit = limit;
    this.code = code;
    this.description = description;
    this.interval = options.interval;
    this.retryAfter = options.retryAfter;
  }
}

/** True for an OAuthError, whatever realm or copy of this module made it. */
export function isOAuthError(e: unknown): e is OAuthError {
  return e instanceof OAuthError;
}
