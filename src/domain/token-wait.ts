/**
 * WaitToken's rules, transport-neutral: a device waits on one open stream
 * instead of polling, and gets its tokens the moment the person approves.
 *
 * - Opening counts as a poll: it is paced (RFC 8628 §3.5), so streams opened
 *   in a loop get `slow_down` as polls would.
 * - Tokens come only from `DeviceFlow.redeem`, the poll's own atomic
 *   check-and-consume: a stream and a poll racing for one code get one token
 *   set between them.
 * - A decision anywhere wakes the stream through the DecisionNotifier; a
 *   periodic re-check finds it if that message is lost.
 * - A stream never outlives its code, and one instance holds at most
 *   `maxOpen` streams (past that: RESOURCE_EXHAUSTED, the client polls).
 */
import type { ClientCredentials } from "./client.js";
import type { DeviceFlow } from "./device-flow.js";
import { OAuthError, type PollRefusal } from "./oauth-error.js";
import type { DecisionNotifier } from "./ports/decision-notifier.js";
import type { FlowEvents } from "./ports/flow-events.js";
import type { TokenSet } from "./ports/token-issuer.js";

export interface TokenWaitOptions {
  /** Re-check the store this often (ms) while waiting, whatever the notifier delivers. */
  readonly recheckMs: number;
  /** Streams one instance holds open at most. */
  readonly maxOpen: number;
  /** The base poll interval (s): what a refused client is told to poll at. */
  readonly interval: number;
}

/** How an opened wait starts: tokens at once (already approved), or a wait in progress. */
export type WaitStart =
  | { readonly kind: "issued"; readonly tokens: TokenSet }
  | {
      readonly kind: "waiting";
      /** Epoch ms when the code expires and the wait ends with `expired_token`. */
      readonly expiresAt: number;
      /** The token set, or an OAuthError (access_denied, expired_token, temporarily_unavailable …). */
      readonly result: Promise<TokenSet>;
    };

/** Wakes a waiting loop early; a wake that comes between two waits is kept, not lost. */
class Wakeup {
  private pending = false;
  private wake: (() => void) | undefined;

  fire(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Resolves on a wake, after `ms`, or when `signal` aborts. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
  }
}

/** The open token waits of one instance. */
export class TokenWaits {
  private readonly active = new Set<AbortController>();

  constructor(
    private readonly deps: {
      readonly flow: DeviceFlow;
      readonly notifier: DecisionNotifier;
      readonly options: TokenWaitOptions;
      /** Told of each wait that opens and ends (the open-streams gauge). */
      readonly events: FlowEvents;
      readonly clock?: () => number;
    },
  ) {}

  /** Waits open on this instance now. */
  get openCount(): number {
    return this.active.size;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /**
   * Opens a wait for `deviceCode`. Throws what a poll would (except
   * `authorization_pending`, which starts the wait). `signal` is the
   * caller's: the stream was cancelled.
   */
  async open(
    credentials: ClientCredentials,
    deviceCode: string,
    signal: AbortSignal,
  ): Promise<WaitStart> {
    const { flow, notifier, options } = this.deps;
    if (this.active.size >= options.maxOpen) {
      throw new OAuthError(
        "temporarily_unavailable",
        "this server holds as many token streams as it allows; poll the token endpoint instead",
        { interval: options.interval, retryAfter: options.interval },
      );
    }
    // Counted from the first await on, so concurrent opens cannot overshoot the limit.
    const controller = new AbortController();
    this.active.add(controller);
    this.deps.events.streams(1);
    const onCallerAbort = () => controller.abort(signal.reason);
    signal.addEventListener("abort", onCallerAbort, { once: true });
    const release = () => {
      // Once per wait, whichever path ends it.
      if (this.active.delete(controller)) this.deps.events.streams(-1);
      signal.removeEventListener("abort", onCallerAbort);
    };
    let unsubscribe = () => {};
    try {
      const client = await flow.pollingClient(credentials);
      const code = flow.parseCode(deviceCode);
      const wakeup = new Wakeup();
      // Subscribed before the first check: a decision between the two still wakes us.
      unsubscribe = await notifier.subscribe(code.handle.tag, () => wakeup.fire());
      const first = await flow.redeem(client, code, "poll");
      if (first.ok) {
        unsubscribe();
        release();
        return { kind: "issued", tokens: first.tokens };
      }
      if (first.refusal.code !== "authorization_pending") throw asError(first.refusal);
      const stop = unsubscribe;
      const result = (async () => {
        try {
          for (;;) {
            const left = code.expiresAtMs - this.now();
            await wakeup.wait(Math.max(0, Math.min(options.recheckMs, left)), controller.signal);
            if (controller.signal.aborted) throw abortReason(controller.signal);
            const outcome = await flow.redeem(client, code, "recheck");
            if (outcome.ok) return outcome.tokens;
            if (outcome.refusal.code !== "authorization_pending") throw asError(outcome.refusal);
            // The record's TTL ends at or before the code's own expiry; never wait past it.
            if (this.now() >= code.expiresAtMs)
              throw new OAuthError("expired_token", "the device code has expired");
          }
        } finally {
          stop();
          release();
        }
      })();
      // The caller may stop listening (a cancelled stream): the outcome is then nobody's.
      result.catch(() => {});
      return { kind: "waiting", expiresAt: code.expiresAtMs, result };
    } catch (e) {
      unsubscribe();
      release();
      throw e;
    }
  }

  /** Ends every open wait with `temporarily_unavailable` (shutdown): clients poll or reconnect. */
  close(): void {
    const reason = new OAuthError(
      "temporarily_unavailable",
      "the server is shutting down; poll or open a new stream",
      { interval: this.deps.options.interval },
    );
    for (const controller of this.active) controller.abort(reason);
  }
}

/** A poll's refusal (slow_down, access_denied, expired_token) as the error that ends a wait. */
function asError(r: PollRefusal): OAuthError {
  return new OAuthError(
    r.code,
    r.description,
    r.interval === undefined ? {} : { interval: r.interval },
  );
}

/** What an aborted wait rejects with: the shutdown's OAuthError, or a plain cancellation. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof OAuthError
    ? signal.reason
    : new OAuthError("temporarily_unavailable", "the wait was cancelled");
}
