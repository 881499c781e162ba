/**
 * `handoff token`: a valid access token from the cache, refreshed when it is
 * about to expire (the refresh serialised across processes, docs/client.md),
 * for `Authorization: Bearer $(handoff token …)`. Only the token goes to
 * stdout; errors go to stderr with a non-zero exit code.
 */
import { DeviceSession, type SessionOptions } from "../client/device-session.js";
import { describeError, exitCodeFor } from "./exit-codes.js";
import { type LoginArgs, parseLoginArgs } from "./login-args.js";

function sessionOptions(args: LoginArgs): SessionOptions {
  return {
    ...(args.issuer !== undefined ? { issuer: args.issuer } : {}),
    ...(args.mcp !== undefined ? { mcp: args.mcp } : {}),
    clientId: args.clientId,
    scope: args.scope,
    ...(args.resource ? { resource: args.resource } : {}),
  };
}

export function openSession(args: LoginArgs): Promise<DeviceSession> {
  return DeviceSession.open(sessionOptions(args));
}

/** Runs `handoff token`; resolves with the exit code. */
export async function tokenCommand(argv: readonly string[]): Promise<number> {
  try {
    const args = parseLoginArgs(argv);
    // A fresh cached token needs no network (no discovery): it works while the server is away.
    const t =
      (await DeviceSession.freshFromCache(sessionOptions(args))) ??
      (await (await openSession(args)).cachedToken());
    process.stdout.write(
      args.json
        ? `${JSON.stringify({
            access_token: t.accessToken,
            token_type: t.tokenType,
            expires_at: new Date(t.expiresAt).toISOString(),
          })}\n`
        : `${t.accessToken}\n`,
    );
    return 0;
  } catch (e) {
    const { error, message } = describeError(e);
    const hint = error === "login_required" ? "not signed in; run handoff login first" : message;
    process.stderr.write(`handoff token: ${hint}\n`);
    return exitCodeFor(e);
  }
}
