/** The bearer credential internal services present to decide on requests. */
import { Code, ConnectError } from "@connectrpc/connect";
import { constantTimeEqual } from "../domain/secret-hash.js";

/**
 * Throws Unauthenticated unless `authorization` is `Bearer <token>` with the
 * configured token, compared in constant time. With no token configured,
 * nobody is let in.
 */
export function requireServiceCredential(
  authorization: string | null,
  token: string | undefined,
): void {
  const presented = authorization?.match(/^Bearer (.+)$/i)?.[1];
  if (token === undefined || presented === undefined || !constantTimeEqual(presented, token)) {
    throw new ConnectError("a valid service credential is required", Code.Unauthenticated);
  }
}
