/** Maps the domain's OAuthError to a ConnectError with a typed `handoff.v1.OAuthError` detail. */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorCode, OAuthErrorSchema } from "../../gen/handoff/v1/device_auth_pb.js";
import { isOAuthError, type OAuthErrorAnswer, type OAuthErrorCode } from "../domain/oauth-error.js";

/** One row per domain error: the gRPC code and the proto enum value. */
const TABLE: Record<OAuthErrorCode, readonly [Code, ErrorCode]> = {
  invalid_request: [Code.InvalidArgument, ErrorCode.INVALID_REQUEST],
  invalid_client: [Code.Unauthenticated, ErrorCode.INVALID_CLIENT],
  invalid_grant: [Code.InvalidArgument, ErrorCode.INVALID_GRANT],
  unauthorized_client: [Code.PermissionDenied, ErrorCode.UNAUTHORIZED_CLIENT],
  unsupported_grant_type: [Code.InvalidArgument, ErrorCode.UNSUPPORTED_GRANT_TYPE],
  invalid_scope: [Code.InvalidArgument, ErrorCode.INVALID_SCOPE],
  invalid_target: [Code.InvalidArgument, ErrorCode.INVALID_TARGET],
  // Not UNAVAILABLE: generic gRPC retry policies would retry it blindly.
  authorization_pending: [Code.FailedPrecondition, ErrorCode.AUTHORIZATION_PENDING],
  slow_down: [Code.ResourceExhausted, ErrorCode.SLOW_DOWN],
  access_denied: [Code.PermissionDenied, ErrorCode.ACCESS_DENIED],
  expired_token: [Code.DeadlineExceeded, ErrorCode.EXPIRED_TOKEN],
  temporarily_unavailable: [Code.Unavailable, ErrorCode.TEMPORARILY_UNAVAILABLE],
  not_found: [Code.NotFound, ErrorCode.NOT_FOUND],
  already_decided: [Code.FailedPrecondition, ErrorCode.ALREADY_DECIDED],
  invalid_redirect_uri: [Code.InvalidArgument, ErrorCode.INVALID_REDIRECT_URI],
  invalid_client_metadata: [Code.InvalidArgument, ErrorCode.INVALID_CLIENT_METADATA],
  invalid_token: [Code.Unauthenticated, ErrorCode.INVALID_TOKEN],
};

/** Converts anything a handler threw: OAuthErrors get their code and detail; the rest is Internal, without internals. */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  if (!isOAuthError(e)) return new ConnectError("internal error", Code.Internal);
  return answerAsConnectError(e);
}

/** An OAuth error, thrown or returned, as a ConnectError with the typed detail. */
export function answerAsConnectError(e: OAuthErrorAnswer): ConnectError {
  const [tableCode, errorCode] = TABLE[e.code];
  // A limit in force (docs/hostile-input.md) is RESOURCE_EXHAUSTED, whatever the OAuth code.
  const code = e.retryAfter === undefined ? tableCode : Code.ResourceExhausted;
  const detail = {
    desc: OAuthErrorSchema,
    value: create(OAuthErrorSchema, {
      code: errorCode,
      error: e.code,
      description: e.description,
      interval: e.interval ?? 0,
    }),
  };
  // An answer, not a fault (most are authorization_pending): no stack trace,
  // which cost more than the rest of the RPC poll's own work.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ConnectError(e.description, code, undefined, [detail]);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
