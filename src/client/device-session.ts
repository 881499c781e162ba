/**
 * One CLI's sign-in to one server: a cached token when it is still good, a
 * refresh (serialised across processes) when it is about to expire, the
 * device flow when nothing else works; logout revokes (RFC 7009) and forgets.
 */
import { OAuthClientError } from "./client-error.js";
import { type DeviceLoginOptions, deviceLogin } from "./device-login.js";
import {
  type AuthorizationServerMetadata,
  discoverFromResource,
  discoverIssuer,
} from "./discovery.js";
import { type CacheKey, TokenCache } from "./token-cache.js";
import { type ClientIdentity, postForm, type Tokens, tokensFrom } from "./token-request.js";

export interface SessionOptions extends ClientIdentity {
  /** The authorization server's issuer (RFC 8414) … */
  readonly issuer?: string;
  /** … or an MCP server's URL (RFC 9728 discovery; its resource becomes the audience). */
  readonly mcp?: string;
  readonly scope?: readonly string[];
  readonly resource?: readonly string[];
  /** Default: under the user's config directory. */
  readonly cache?: TokenCache;
  /** Refresh this many seconds before expiry. Default 60. */
  readonly refreshMarginSeconds?: number;
  readonly fetch?: typeof fetch;
}

/** Good for at least the refresh margin (default 60 s) more. */
function isFresh(t: Tokens, marginSeconds = 60): boolean {
  return t.expiresAt - marginSeconds * 1000 > Date.now();
}

type LoginHooks = Pick<DeviceLoginOptions, "prompt" | "onWaiting" | "signal" | "useWaitToken">;

export class DeviceSession {
  private constructor(
    readonly metadata: AuthorizationServerMetadata,
    private readonly o: SessionOptions,
    readonly resource: readonly string[],
    private readonly cache: TokenCache,
  ) {}

  /** Discovers the server and opens the session (no network call beyond discovery). */
  static async open(o: SessionOptions): Promise<DeviceSession> {
    const f = o.fetch ?? fetch;
    if (o.mcp !== undefined) {
      const d = await discoverFromResource(o.mcp, f);
      const resource = o.resource ?? (d.resource ? [d.resource] : []);
      return new DeviceSession(d.metadata, o, resource, o.cache ?? new TokenCache());
    }
    if (o.issuer === undefined)
      throw new OAuthClientError("discovery_failed", "give issuer or mcp");
    return new DeviceSession(
      await discoverIssuer(o.issuer, f),
      o,
      o.resource ?? [],
      o.cache ?? new TokenCache(),
    );
  }

  /**
   * The cached token when it is fresh, with no network call at all (no
   * discovery): for `--issuer` only, since the cache entry is named by the
   * issuer. `undefined` when a refresh or a sign-in is needed; then `open`.
   */
  static async freshFromCache(o: SessionOptions): Promise<Tokens | undefined> {
    if (o.issuer === undefined || o.mcp !== undefined) return undefined;
    const cache = o.cache ?? new TokenCache();
    // discoverIssuer accepts the metadata's issuer with or without the trailing slash.
    for (const issuer of new Set([o.issuer, o.issuer.replace(/\/$/, "")])) {
      const t = await cache.read({ issuer, clientId: o.clientId, resource: o.resource ?? [] });
      if (t !== undefined && isFresh(t, o.refreshMarginSeconds)) return t;
    }
    return undefined;
  }

  private get key(): CacheKey {
    return { issuer: this.metadata.issuer, clientId: this.o.clientId, resource: this.resource };
  }

  private fresh(t: Tokens | undefined): boolean {
    return t !== undefined && isFresh(t, this.o.refreshMarginSeconds);
  }

  /** The cached token, refreshed if needed; `login_required` when neither works. */
  async cachedToken(): Promise<Tokens> {
    const cached = await this.cache.read(this.key);
    if (cached !== undefined && this.fresh(cached)) return cached;
    if (cached?.refreshToken === undefined)
      throw new OAuthClientError("login_required", "no cached sign-in; run the device flow");
    return this.cache.locked(this.key, async () => {
      // Another process may have refreshed while we waited for the lock.
      const now = await this.cache.read(this.key);
      if (now !== undefined && this.fresh(now)) return now;
      if (now?.refreshToken === undefined)
        throw new OAuthClientError("login_required", "no cached sign-in; run the device flow");
      const sent = Date.now();
      const answer = await postForm(
        this.metadata.token_endpoint,
        this.o,
        { grant_type: "refresh_token", refresh_token: now.refreshToken },
        this.o.fetch ?? fetch,
      );
      if (answer.status === 400 || answer.status === 401) {
        await this.cache.remove(this.key);
        throw new OAuthClientError("login_required", "the refresh token is no longer valid");
      }
      const t = tokensFrom(answer, sent);
      // RFC 6749 §6: a server may keep the old refresh token.
      const next = t.refreshToken ? t : { ...t, refreshToken: now.refreshToken };
      await this.cache.write(this.key, next);
      return next;
    });
  }

  /** Runs the device flow and caches what it gives. */
  async login(hooks: LoginHooks): Promise<Tokens> {
    const t = await deviceLogin({
      ...this.o,
      ...hooks,
      metadata: this.metadata,
      resource: this.resource,
      ...(this.o.fetch ? { fetch: this.o.fetch } : {}),
    });
    await this.cache.write(this.key, t);
    return t;
  }

  /** A valid access token: cached, refreshed, or from a new device flow. */
  async accessToken(hooks: LoginHooks): Promise<string> {
    try {
      return (await this.cachedToken()).accessToken;
    } catch (e) {
      if (!(e instanceof OAuthClientError) || e.code !== "login_required") throw e;
      return (await this.login(hooks)).accessToken;
    }
  }

  /** Forgets the cached tokens without revoking them (the server refused them already). */
  async forget(): Promise<void> {
    await this.cache.remove(this.key);
  }

  /** Caches tokens obtained elsewhere (a refresh another library made for this session). */
  async store(t: Tokens): Promise<void> {
    await this.cache.write(this.key, t);
  }

  /** Revokes the refresh and access tokens (RFC 7009) and forgets them. */
  async logout(): Promise<void> {
    const cached = await this.cache.read(this.key);
    const endpoint = this.metadata.revocation_endpoint;
    if (cached && typeof endpoint === "string") {
      for (const [token, hint] of [
        [cached.refreshToken, "refresh_token"],
        [cached.accessToken, "access_token"],
      ] as const) {
        if (token)
          await postForm(
            endpoint,
            this.o,
            { token, token_type_hint: hint },
            this.o.fetch ?? fetch,
          ).catch(() => {});
      }
    }
    await this.cache.remove(this.key);
  }
}
