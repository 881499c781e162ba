/** `handoff logout`: revokes the cached tokens at the server's revocation_endpoint (RFC 7009) and forgets them. */
import { TokenCache } from "../client/token-cache.js";
import { describeError, exitCodeFor } from "./exit-codes.js";
import { parseLoginArgs } from "./login-args.js";
import { openSession } from "./token-command.js";

/** Runs `handoff logout`; resolves with the exit code. Signed out already is not an error. */
export async function logoutCommand(argv: readonly string[]): Promise<number> {
  try {
    const args = parseLoginArgs(argv);
    const session = await openSession(args);
    const cached = await new TokenCache().read({
      issuer: session.metadata.issuer,
      clientId: args.clientId,
      resource: session.resource,
    });
    await session.logout();
    const issuer = session.metadata.issuer;
    if (args.json)
      process.stdout.write(
        `${JSON.stringify({ event: "logout", issuer, was_signed_in: cached !== undefined })}\n`,
      );
    else
      process.stderr.write(cached ? `Signed out of ${issuer}.\n` : `Not signed in to ${issuer}.\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`handoff logout: ${describeError(e).message}\n`);
    return exitCodeFor(e);
  }
}
