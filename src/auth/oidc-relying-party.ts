/**
 * handoff as a relying party of the company's OpenID Connect provider, with
 * openid-client (on oauth4webapi): discovery (OpenID Connect Discovery 1.0
 * §4), the authorization request with PKCE S256 (RFC 7636 §4.2), `state` and
 * `nonce`, and the code exchange whose ID token openid-client validates
 * (iss, aud, exp, iat, nonce, signature: OpenID Connect Core 1.0 §3.1.3.7).
 */
import * as oidc from "openid-client";
import { isLoopbackIssuer } from "./oidc-issuer.js";

/** How handoff is registered at the provider. */
export interface RelyingPartyOptions {
  /** The provider's issuer identifier (HANDOFF_OIDC_ISSUER). */
  readonly issuer: string;
  readonly clientId: string;
  /** Absent for a public client (`none`). */
  readonly clientSecret?: string;
  readonly clientAuth: "client_secret_basic" | "client_secret_post" | "none";
  /** handoff's callback, registered at the provider. */
  readonly redirectUri: string;
  /** Space-separated (HANDOFF_OIDC_SCOPES). */
  readonly scopes: string;
  /** Seconds every request to the provider may take (HANDOFF_OIDC_TIMEOUT). */
  readonly timeoutSeconds: number;
}

/** The random values one sign-in is bound to (CSPRNG: oauth4webapi's 32 random bytes each). */
export interface AuthorizationRequest {
  readonly url: URL;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

/** A sign-in the provider vouched for: its claims, and the access token for UserInfo. */
export interface ProviderAnswer {
  readonly claims: Readonly<Record<string, unknown>>;
  readonly accessToken: string;
}

export class RelyingParty {
  private config: Promise<oidc.Configuration> | undefined;

  constructor(private readonly o: RelyingPartyOptions) {}

  /** The discovered configuration; a failed discovery is tried again on the next sign-in. */
  private configuration(): Promise<oidc.Configuration> {
    if (this.config === undefined) {
      const auth =
        this.o.clientAuth === "none"
          ? oidc.None()
          : this.o.clientAuth === "client_secret_post"
            ? oidc.ClientSecretPost(this.o.clientSecret)
            : oidc.ClientSecretBasic(this.o.clientSecret);
      // Plain http only for a provider on this machine (start refuses it; start-dev and tests).
      const execute = isLoopbackIssuer(this.o.issuer) ? [oidc.allowInsecureRequests] : [];
      const found = oidc.discovery(new URL(this.o.issuer), this.o.clientId, undefined, auth, {
        execute,
        timeout: this.o.timeoutSeconds,
      });
      found.catch(() => {
        if (this.config === found) this.config = undefined;
      });
      this.config = found;
    }
    return this.config;
  }

  /** Starts discovery early, so the first sign-in does not wait for it; failures are retried later. */
  warm(): void {
    this.configuration().catch(() => undefined);
  }

  /** The provider's authorization endpoint URL for a fresh sign-in. */
  async authorizationRequest(): Promise<AuthorizationRequest> {
    const config = await this.configuration();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      response_type: "code",
      redirect_uri: this.o.redirectUri,
      scope: this.o.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    return { url, state, nonce, codeVerifier };
  }

  /**
   * Checks the authorization response (`state`, `iss` when the provider
   * advertises RFC 9207), redeems the code with the PKCE verifier and
   * validates the ID token with the nonce. `query` is the callback's raw
   * query; the URL it is read against is our configured redirect URI, never
   * the request's Host header.
   */
  async redeem(
    query: string,
    expected: { state: string; nonce: string; codeVerifier: string },
  ): Promise<ProviderAnswer> {
    const config = await this.configuration();
    const current = new URL(this.o.redirectUri);
    current.search = query;
    const tokens = await oidc.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: expected.codeVerifier,
      expectedState: expected.state,
      expectedNonce: expected.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (claims === undefined) throw new Error("the provider sent no ID token");
    return { claims, accessToken: tokens.access_token };
  }

  /**
   * The UserInfo claims (OpenID Connect Core 1.0 §5.3), checked to be the
   * same `sub` (§5.3.2); undefined when the provider has no UserInfo endpoint.
   */
  async userInfo(
    accessToken: string,
    subject: string,
  ): Promise<Readonly<Record<string, unknown>> | undefined> {
    const config = await this.configuration();
    if (!config.serverMetadata().userinfo_endpoint) return undefined;
    return oidc.fetchUserInfo(config, accessToken, subject);
  }
}

/** What may be logged of an error from the provider exchange: its kind, never its parameters (they hold the code and state). */
export function loggableError(e: unknown): { name: string; code?: string; error?: string } {
  const err = e as { name?: unknown; code?: unknown; error?: unknown };
  return {
    name: typeof err?.name === "string" ? err.name : "Error",
    ...(typeof err?.code === "string" ? { code: err.code.slice(0, 64) } : {}),
    ...(typeof err?.error === "string" ? { error: err.error.slice(0, 64) } : {}),
  };
}
