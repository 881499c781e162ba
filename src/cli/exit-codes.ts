/**
 * The exit codes of `handoff login`, `token` and `logout`, one per outcome a
 * script may want to tell apart (the README and docs/client.md list them).
 */
import { OAuthClientError } from "../client/client-error.js";

export const EXIT = {
  ok: 0,
  /** Anything not listed below (a bug, a full disk …). */
  failure: 1,
  /** The command line makes no sense (unknown flag, no --issuer or --mcp). */
  usage: 2,
  /** The person denied the request (RFC 8628 §3.5 access_denied). */
  denied: 3,
  /** The code expired before anyone approved it (RFC 8628 §3.5 expired_token). */
  expired: 4,
  /** The server could not be reached, or answered with an error of its own. */
  unavailable: 5,
  /** `handoff token`: nothing cached, or the refresh token is no longer valid. */
  notSignedIn: 6,
  /** Ctrl-C (128 + SIGINT), as shells report it. */
  cancelled: 130,
} as const;

/** A command line that makes no sense: exit code 2 and the usage. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The exit code for an error a command ended with. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError) return EXIT.usage;
  if (!(e instanceof OAuthClientError)) return EXIT.failure;
  switch (e.code) {
    case "access_denied":
      return EXIT.denied;
    case "expired_token":
      return EXIT.expired;
    case "login_required":
      return EXIT.notSignedIn;
    case "aborted":
      return EXIT.cancelled;
    default:
      // network_error, discovery_failed, or the server's own error (invalid_client, server_error …).
      return EXIT.unavailable;
  }
}

/** What to tell the person for the outcomes they can act on. */
const MESSAGES: Record<string, string> = {
  access_denied: "the request was denied.",
  expired_token: "the code expired before anyone approved it; run handoff login again.",
  aborted: "cancelled.",
};

/** The error's code and a message for people. */
export function describeError(e: unknown): { error: string; message: string } {
  if (e instanceof UsageError) return { error: "usage", message: e.message };
  if (e instanceof OAuthClientError)
    return { error: e.code, message: MESSAGES[e.code] ?? e.message };
  return { error: "failure", message: e instanceof Error ? e.message : String(e) };
}
