/**
 * Polling the token endpoint exactly as RFC 8628 §3.5 asks: wait the
 * server's interval before every poll (the first too), add 5 s on every
 * `slow_down` and keep it, wait `Retry-After` on 503, stop on
 * `expired_token`, `access_denied` or any other error, and on abort.
 */
import { OAuthClientError, sleep } from "./client-error.js";
import {
  answerError,
  type ClientIdentity,
  postForm,
  type Tokens,
  tokensFrom,
} from "./token-request.js";

export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

export interface PollOptions {
  readonly tokenEndpoint: string;
  readonly client: ClientIdentity;
  readonly deviceCode: string;
  /** Seconds, from the device authorization response. */
  readonly interval: number;
  /** Epoch ms when the device code expires. */
  readonly expiresAt: number;
  readonly resource?: readonly string[];
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
}

/** Consecutive unreachable-server polls before giving up with `network_error`. */
const NETWORK_ATTEMPTS = 3;

/** Polls until tokens, a final error, expiry or abort. */
export async function pollForTokens(o: PollOptions): Promise<Tokens> {
  const f = o.fetch ?? fetch;
  // RFC 8628 §3.2: 5 s when the server names no interval.
  let interval = Number.isInteger(o.interval) && o.interval > 0 ? o.interval : 5;
  let delay = interval;
  let networkFailures = 0;
  for (;;) {
    await sleep(delay * 1000, o.signal);
    delay = interval;
    if (Date.now() >= o.expiresAt)
      throw new OAuthClientError("expired_token", "the device code expired before approval");
    const sent = Date.now();
    let answer: Awaited<ReturnType<typeof postForm>>;
    try {
      answer = await postForm(
        o.tokenEndpoint,
        o.client,
        {
          grant_type: DEVICE_CODE_GRANT,
          device_code: o.deviceCode,
          ...(o.resource && o.resource.length > 0 ? { resource: o.resource } : {}),
        },
        f,
        o.signal,
      );
    } catch (e) {
      if (
        e instanceof OAuthClientError &&
        e.code === "network_error" &&
        ++networkFailures < NETWORK_ATTEMPTS
      )
        continue;
      throw e;
    }
    networkFailures = 0;
    if (answer.status === 200) return tokensFrom(answer, sent);
    if (answer.status === 503) {
      // RFC 9110 §10.2.3: seconds (or a date) before trying again; never sooner than the interval.
      const header = answer.headers.get("retry-after") ?? "";
      const seconds = /^\d+$/.test(header)
        ? Number(header)
        : Math.ceil((Date.parse(header) - Date.now()) / 1000) || 0;
      delay = Math.max(interval, Number.isFinite(seconds) ? seconds : 0);
      continue;
    }
    const error = typeof answer.body?.error === "string" ? answer.body.error : "";
    if (error === "authorization_pending") continue;
    if (error === "slow_down") {
      // RFC 8628 §3.5: +5 s for this and every later request.
      interval += 5;
      delay = interval;
      continue;
    }
    throw answerError(answer);
  }
}
