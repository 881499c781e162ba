/**
 * Headless sign-in for MCP clients built on `@modelcontextprotocol/sdk`: an
 * object the SDK's transports take as `authProvider` (its
 * `OAuthClientProvider` interface), which signs in with the device flow
 * (RFC 8628) instead of a browser redirect, and keeps the tokens in the same
 * 0600 cache as `handoff login`, refreshes serialised across processes.
 *
 * The SDK is not imported, not even its types: the object matches the SDK's
 * interface structurally (a test holds it to the SDK's own type), so
 * handoff/client's declarations never name a package its other users lack.
 *
 * How the SDK drives it: before each request the transport asks `tokens()`,
 * which answers from the cache (refreshed near expiry) or runs the device flow
 * once, the person following `prompt`. The SDK never sees a refresh token, so
 * it never refreshes on its own (an unserialised refresh could replay one and
 * revoke the family). Only when the MCP server refuses a token (401) does the
 * SDK's own `auth()` run; it finds no redirect URL (a "non-interactive" client
 * to it) and asks `prepareTokenRequest`, which forgets the refused tokens,
 * runs the device flow, and hands the SDK the new refresh token to redeem;
 * `saveTokens` then writes the rotated pair back to the cache.
 */
import { OAuthClientError } from "./client-error.js";
import type { DevicePrompt } from "./device-login.js";
import { DeviceSession } from "./device-session.js";
import type { TokenCache } from "./token-cache.js";
import { DEVICE_CODE_GRANT } from "./token-polling.js";
import type { Tokens } from "./token-request.js";

/** The SDK's `OAuthTokens`, as far as this provider reads and writes it. */
export interface McpOAuthTokens {
  access_token: string;
  token_type: string;
  expires_in?: number | undefined;
  scope?: string | undefined;
  refresh_token?: string | undefined;
}

export interface DeviceFlowProviderOptions {
  /** The MCP server's URL: discovery starts at its 401 (RFC 9728); its resource is the audience. */
  readonly serverUrl: string | URL;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly scope?: readonly string[];
  /** Shows the code to the person (RFC 8628 §3.3). */
  readonly prompt: (p: DevicePrompt) => void | Promise<void>;
  readonly onWaiting?: (how: "stream" | "poll") => void;
  /** Cancels a device flow under way. */
  readonly signal?: AbortSignal;
  /** Default: the user's config directory, shared with `handoff login`. */
  readonly cache?: TokenCache;
  readonly clientName?: string;
  readonly fetch?: typeof fetch;
}

const asSdkTokens = (t: Tokens): McpOAuthTokens => ({
  access_token: t.accessToken,
  token_type: t.tokenType,
  expires_in: Math.max(0, Math.floor((t.expiresAt - Date.now()) / 1000)),
  ...(t.scope ? { scope: t.scope } : {}),
});

/** An `OAuthClientProvider` for the MCP SDK that signs in with the device flow. */
export class DeviceFlowAuthProvider {
  /** No redirect: to the SDK this is a client that signs in without a browser callback. */
  readonly redirectUrl = undefined;
  private session: Promise<DeviceSession> | undefined;
  /** One sign-in at a time, however many requests ask for a token meanwhile. */
  private pending: Promise<Tokens> | undefined;

  constructor(private readonly o: DeviceFlowProviderOptions) {}

  get clientMetadata() {
    return {
      redirect_uris: [] as string[],
      grant_types: [DEVICE_CODE_GRANT, "refresh_token"],
      token_endpoint_auth_method: this.o.clientSecret ? "client_secret_basic" : "none",
      client_name: this.o.clientName ?? "handoff device-flow client",
      ...(this.o.scope && this.o.scope.length > 0 ? { scope: this.o.scope.join(" ") } : {}),
    };
  }

  clientInformation() {
    return {
      client_id: this.o.clientId,
      ...(this.o.clientSecret ? { client_secret: this.o.clientSecret } : {}),
    };
  }

  private open(): Promise<DeviceSession> {
    this.session ??= DeviceSession.open({
      mcp: String(this.o.serverUrl),
      clientId: this.o.clientId,
      ...(this.o.clientSecret ? { clientSecret: this.o.clientSecret } : {}),
      ...(this.o.scope ? { scope: this.o.scope } : {}),
      ...(this.o.cache ? { cache: this.o.cache } : {}),
      ...(this.o.fetch ? { fetch: this.o.fetch } : {}),
    }).catch((e) => {
      this.session = undefined;
      throw e;
    });
    return this.session;
  }

  private hooks() {
    return {
      prompt: this.o.prompt,
      ...(this.o.onWaiting ? { onWaiting: this.o.onWaiting } : {}),
      ...(this.o.signal ? { signal: this.o.signal } : {}),
    };
  }

  private once(run: (s: DeviceSession) => Promise<Tokens>): Promise<Tokens> {
    this.pending ??= this.open()
      .then(run)
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** The access token for the next request: cached, refreshed, or from a device flow now. */
  async tokens(): Promise<McpOAuthTokens> {
    const t = await this.once(async (s) => {
      try {
        return await s.cachedToken();
      } catch (e) {
        if (!(e instanceof OAuthClientError) || e.code !== "login_required") throw e;
        return s.login(this.hooks());
      }
    });
    return asSdkTokens(t);
  }

  /**
   * Only reached when the MCP server refused our token (the SDK's `auth()`
   * after a 401): sign in again and let the SDK redeem the new refresh token.
   */
  async prepareTokenRequest(): Promise<URLSearchParams> {
    const t = await this.once(async (s) => {
      await s.forget();
      return s.login(this.hooks());
    });
    if (!t.refreshToken)
      throw new OAuthClientError(
        "login_required",
        "signed in again, but the server gave no refresh token",
      );
    return new URLSearchParams({ grant_type: "refresh_token", refresh_token: t.refreshToken });
  }

  /** What the SDK redeemed in `prepareTokenRequest`: the rotated pair goes back to the cache. */
  async saveTokens(tokens: McpOAuthTokens): Promise<void> {
    const s = await this.open();
    await s.store({
      accessToken: tokens.access_token,
      tokenType: tokens.token_type,
      expiresAt: Date.now() + (tokens.expires_in ?? 3600) * 1000,
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      ...(tokens.scope ? { scope: tokens.scope } : {}),
    });
  }

  /** The SDK found the credentials refused: forget the cached tokens (the next request signs in). */
  async invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery") {
    if (scope === "all" || scope === "tokens") await (await this.open()).forget();
  }

  redirectToAuthorization(): never {
    throw new OAuthClientError("unsupported", "a device-flow client never redirects a browser");
  }

  saveCodeVerifier(): void {}

  codeVerifier(): never {
    throw new OAuthClientError("unsupported", "a device-flow client has no PKCE verifier");
  }
}

/**
 * The provider for `new StreamableHTTPClientTransport(url, { authProvider })`:
 * the device flow on first use, the shared cache afterwards.
 */
export function deviceFlowAuthProvider(o: DeviceFlowProviderOptions): DeviceFlowAuthProvider {
  return new DeviceFlowAuthProvider(o);
}
