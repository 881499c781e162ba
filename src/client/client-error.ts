/** The client library's one error type: an OAuth error code from the server, or a local reason. */

/**
 * `code` is the server's RFC error string (`access_denied`, `expired_token`,
 * `invalid_grant` …, RFC 6749 §5.2, RFC 8628 §3.5) or one of the library's
 * own: `network_error` (the server could not be reached or answered
 * nonsense), `login_required` (no usable cached token), `aborted`,
 * `discovery_failed`.
 */
export class OAuthClientError extends Error {
  override readonly name = "OAuthClientError";
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status, when the server answered. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

/** The error an aborted wait rejects with. */
export function abortError(signal: AbortSignal | undefined): OAuthClientError {
  return new OAuthClientError("aborted", "cancelled", undefined, { cause: signal?.reason });
}

/**
 * Node's timers hold at most 2^31 - 1 ms and turn a longer delay into 1 ms: a
 * server's `interval` or `Retry-After` of years would make the client poll at
 * once. (The server's copy is src/domain/timer-delay.ts; the client imports
 * nothing of the server.)
 */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Sleeps `ms` (at most about 24.8 days), or rejects with `aborted` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.min(ms, MAX_TIMER_DELAY_MS),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
