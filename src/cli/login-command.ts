/**
 * `handoff login`: the device flow (RFC 8628) for a person at a terminal or
 * a script, built on handoff/client; the tokens go to the 0600 cache that
 * `handoff token` reads (docs/client.md).
 */
import { OAuthClientError } from "../client/client-error.js";
import { DeviceSession } from "../client/device-session.js";
import { TokenCache } from "../client/token-cache.js";
import { describeError, EXIT, exitCodeFor } from "./exit-codes.js";
import { parseLoginArgs } from "./login-args.js";
import { jsonOutput, type LoginOutput, plainOutput } from "./login-output.js";
import { terminalScreen } from "./login-screen.js";
import { canOpenBrowser, openBrowser } from "./open-browser.js";

/** The output for this run: JSON events, the terminal screen, or plain lines. */
function outputFor(json: boolean, label: string): LoginOutput {
  if (json) return jsonOutput(process.stdout);
  const err = process.stderr;
  if (err.isTTY && process.env.TERM !== "dumb")
    return terminalScreen(err, { issuer: label, color: !process.env.NO_COLOR });
  return plainOutput(err);
}

/** Runs `handoff login`; resolves with the exit code. */
export async function loginCommand(argv: readonly string[]): Promise<number> {
  let args: ReturnType<typeof parseLoginArgs>;
  try {
    args = parseLoginArgs(argv);
  } catch (e) {
    const { error, message } = describeError(e);
    if (argv.includes("--json")) jsonOutput(process.stdout).failure(error, message, EXIT.usage);
    else process.stderr.write(`handoff login: ${message} (handoff --help lists the options)\n`);
    return EXIT.usage;
  }
  const output = outputFor(args.json, args.issuer ?? args.mcp ?? "");
  const abort = new AbortController();
  // Ctrl-C aborts the wait (the stream or the poll stops at once); a second one exits outright.
  const onSignal = () => {
    if (abort.signal.aborted) {
      output.close();
      process.exit(EXIT.cancelled);
    }
    abort.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const cancelled = new Promise<never>((_, reject) =>
    abort.signal.addEventListener(
      "abort",
      () => reject(new OAuthClientError("aborted", "cancelled")),
      {
        once: true,
      },
    ),
  );
  try {
    const cache = new TokenCache();
    const work = (async () => {
      const session = await DeviceSession.open({
        ...(args.issuer !== undefined ? { issuer: args.issuer } : {}),
        ...(args.mcp !== undefined ? { mcp: args.mcp } : {}),
        clientId: args.clientId,
        scope: args.scope,
        ...(args.resource ? { resource: args.resource } : {}),
        cache,
      });
      const tokens = await session.login({
        signal: abort.signal,
        prompt: async (p) => {
          const opened =
            args.browser && canOpenBrowser()
              ? await openBrowser(p.verificationUriComplete ?? p.verificationUri)
              : false;
          await output.prompt(p, opened);
        },
        onWaiting: (how) => output.waiting(how),
      });
      const file = cache.file({
        issuer: session.metadata.issuer,
        clientId: args.clientId,
        resource: session.resource,
      });
      output.success(tokens, file);
    })();
    await Promise.race([work, cancelled]);
    return EXIT.ok;
  } catch (e) {
    const code = exitCodeFor(e);
    const { error, message } = describeError(e);
    output.failure(error, message, code);
    return code;
  } finally {
    output.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
