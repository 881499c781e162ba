/** The bearer credential internal services present to decide on requests. */
import { Code, ConnectError } from "@connectrpc/connect";
import { bearerToken } from "../domain/bearer-credential.js";
import { constantTimeEqual } from "../domain/secret-hash.js";

/**
 * Throws Unauthenticated unless `authorization` is `Bearer <token>` (RFC 6750
 * §2.1) with the
 * configured token, compared in constant time. With no token configured,
 * nobody is let in. The admin ClientService uses it with its own token
 * (`what` names it in the message).
 */
export function requireServiceCredential(
  authorization: string | null,
  token: string | undefined,
  what = "service",
): void {
  const presented = bearerToken(authorization);
  if (token === undefined || presented === undefined || !constantTimeEqual(presented, token)) {
    throw new ConnectError(`a valid ${what} credential is required`, Code.Unauthenticated);
  }
}
