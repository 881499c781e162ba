/**
 * What `handoff login` tells the person or the script: plain lines when
 * there is no terminal, one JSON event per line with --json. The terminal
 * screen (login-screen.ts) implements the same interface.
 */
import type { DevicePrompt } from "../client/device-login.js";
import type { Tokens } from "../client/token-request.js";

/** What the login shows at each step. */
export interface LoginOutput {
  /** The codes to show; `browserOpened` when the page was opened for the person. */
  prompt(p: DevicePrompt, browserOpened: boolean): void | Promise<void>;
  /** Waiting started: on the WaitToken stream, or polling (also after a stream fell back). */
  waiting(how: "stream" | "poll"): void;
  /** Signed in; the tokens are cached in `cacheFile`. Never prints a token. */
  success(t: Tokens, cacheFile: string): void;
  /** The login ended with `error`; `exitCode` is what the process exits with. */
  failure(error: string, message: string, exitCode: number): void;
  /** Stops timers, restores the terminal. Safe to call twice. */
  close(): void;
}

/** Strips control characters from what the server sent, so it cannot drive the terminal. */
export function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed.
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, "");
}

const plainTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Plain lines on `out` (stderr): no escape codes, no live updates. */
export function plainOutput(out: NodeJS.WritableStream): LoginOutput {
  const line = (s: string) => out.write(`${s}\n`);
  return {
    prompt(p, browserOpened) {
      line(`To sign in, open ${printable(p.verificationUri)}`);
      line(`and enter the code ${printable(p.userCode)}`);
      if (p.verificationUriComplete)
        line(`(or open ${printable(p.verificationUriComplete)}, the code filled in)`);
      if (browserOpened) line("Your browser was opened at that page.");
      const minutes = Math.max(0, Math.round((p.expiresAt.getTime() - Date.now()) / 60_000));
      line(`The code expires at ${plainTime(p.expiresAt.getTime())} (in ${minutes} min).`);
    },
    waiting(how) {
      line(how === "stream" ? "Waiting for approval…" : "Waiting for approval (polling)…");
    },
    success(t, cacheFile) {
      line(`Signed in. The token expires at ${plainTime(t.expiresAt)}; cached in ${cacheFile}.`);
    },
    failure(error, message) {
      line(`Sign-in failed: ${printable(message || error)}`);
    },
    close() {},
  };
}

/**
 * One JSON object per line on `out` (stdout), `event` naming its kind:
 * `prompt`, `waiting`, `success` (with the token's expiry, never the token),
 * `error` (with the exit code). docs/client.md lists the members.
 */
export function jsonOutput(out: NodeJS.WritableStream): LoginOutput {
  const emit = (o: Record<string, unknown>) => out.write(`${JSON.stringify(o)}\n`);
  return {
    prompt(p, browserOpened) {
      emit({
        event: "prompt",
        user_code: p.userCode,
        verification_uri: p.verificationUri,
        ...(p.verificationUriComplete
          ? { verification_uri_complete: p.verificationUriComplete }
          : {}),
        expires_at: p.expiresAt.toISOString(),
        interval: p.interval,
        browser_opened: browserOpened,
      });
    },
    waiting(how) {
      emit({ event: "waiting", via: how });
    },
    success(t, cacheFile) {
      emit({
        event: "success",
        token_type: t.tokenType,
        expires_at: new Date(t.expiresAt).toISOString(),
        ...(t.scope ? { scope: t.scope } : {}),
        refreshable: t.refreshToken !== undefined,
        cache_file: cacheFile,
      });
    },
    failure(error, message, exitCode) {
      emit({ event: "error", error, message, exit_code: exitCode });
    },
    close() {},
  };
}
