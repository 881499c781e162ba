/**
 * The device flow from the device's side (RFC 8628): ask for codes, show
 * them to the person, then wait on WaitToken when the server offers it, else
 * poll as §3.5 says.
 */
import { OAuthClientError } from "./client-error.js";
import type { AuthorizationServerMetadata } from "./discovery.js";
import { pollForTokens } from "./token-polling.js";
import { answerError, type ClientIdentity, postForm, type Tokens } from "./token-request.js";

/** What to show the person (RFC 8628 §3.3). */
export interface DevicePrompt {
  readonly userCode: string;
  readonly verificationUri: string;
  /** The URI with the code filled in, for a QR code or a link (§3.3.1). */
  readonly verificationUriComplete?: string;
  /** When the codes expire. */
  readonly expiresAt: Date;
  /** Seconds between polls the server asked for. */
  readonly interval: number;
}

export interface DeviceLoginOptions extends ClientIdentity {
  readonly metadata: AuthorizationServerMetadata;
  readonly scope?: readonly string[];
  /** RFC 8707 resource indicators: the audiences to ask for. */
  readonly resource?: readonly string[];
  /** Shows the code; the wait starts once it returns. */
  readonly prompt: (p: DevicePrompt) => void | Promise<void>;
  /** Called once waiting starts: `"stream"` (WaitToken) or `"poll"`. */
  readonly onWaiting?: (how: "stream" | "poll") => void;
  /** Cancels the login: it rejects with `aborted`. */
  readonly signal?: AbortSignal;
  /** false: never use WaitToken, always poll. Default true. */
  readonly useWaitToken?: boolean;
  readonly fetch?: typeof fetch;
}

/** Runs the device flow to tokens; rejects with an OAuthClientError (`access_denied`, `expired_token` …). */
export async function deviceLogin(o: DeviceLoginOptions): Promise<Tokens> {
  const f = o.fetch ?? fetch;
  const endpoint = o.metadata.device_authorization_endpoint;
  if (typeof endpoint !== "string")
    throw new OAuthClientError(
      "discovery_failed",
      "the server offers no device authorization endpoint",
    );
  const started = Date.now();
  const answer = await postForm(
    endpoint,
    o,
    {
      ...(o.scope && o.scope.length > 0 ? { scope: o.scope.join(" ") } : {}),
      ...(o.resource && o.resource.length > 0 ? { resource: o.resource } : {}),
    },
    f,
    o.signal,
  );
  const b = answer.body;
  if (answer.status !== 200 || b === null) throw answerError(answer);
  if (
    typeof b.device_code !== "string" ||
    typeof b.user_code !== "string" ||
    typeof b.verification_uri !== "string" ||
    typeof b.expires_in !== "number"
  )
    throw new OAuthClientError("network_error", "the device authorization response is incomplete");
  const interval = typeof b.interval === "number" ? b.interval : 5;
  const expiresAt = started + b.expires_in * 1000;
  await o.prompt({
    userCode: b.user_code,
    verificationUri: b.verification_uri,
    ...(typeof b.verification_uri_complete === "string"
      ? { verificationUriComplete: b.verification_uri_complete }
      : {}),
    expiresAt: new Date(expiresAt),
    interval,
  });
  try {
    return await waitThenPoll(o, b.device_code, interval, expiresAt, f);
  } catch (e) {
    // A server may forget an expired code a moment early and call it unknown (invalid_grant);
    // past the announced expiry that answer means expired_token (RFC 8628 §3.5).
    if (e instanceof OAuthClientError && e.code === "invalid_grant" && Date.now() >= expiresAt)
      throw new OAuthClientError("expired_token", "the device code expired", e.status, {
        cause: e,
      });
    throw e;
  }
}

/** WaitToken when the metadata offers it, then polling (also when the stream could not answer). */
async function waitThenPoll(
  o: DeviceLoginOptions,
  deviceCode: string,
  interval: number,
  expiresAt: number,
  f: typeof fetch,
): Promise<Tokens> {
  let pollInterval = interval;
  const stream = o.metadata.handoff_wait_token_endpoint;
  if (o.useWaitToken !== false && typeof stream === "string") {
    o.onWaiting?.("stream");
    // Loaded only here: the RPC client stack costs startup time a cached-token read never needs.
    const { waitForTokens } = await import("./wait-token-client.js");
    const waited = await waitForTokens({
      endpoint: stream,
      client: o,
      deviceCode,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (waited.kind === "tokens") return waited.tokens;
    if (waited.interval !== undefined && waited.interval > pollInterval)
      pollInterval = waited.interval;
  }
  o.onWaiting?.("poll");
  return pollForTokens({
    tokenEndpoint: o.metadata.token_endpoint,
    client: o,
    deviceCode,
    interval: pollInterval,
    expiresAt,
    ...(o.resource ? { resource: o.resource } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    fetch: f,
  });
}
