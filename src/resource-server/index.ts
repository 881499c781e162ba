/**
 * handoff/resource-server: what an MCP server (or any API) needs to accept
 * handoff's access tokens. It depends only on handoff's public HTTP contract
 * (RFC 8414 metadata, the JWKS, RFC 9068 tokens), never on its internals:
 * verify a Bearer token against the issuer's JWKS (cached, fetched again on an
 * unknown `kid`), check `typ`, `iss`, `aud`, `exp` and scopes, and answer
 * refusals with RFC 6750 / RFC 9728 challenges and metadata.
 */
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import { type BearerError, bearerChallenge, bearerTokenOf } from "./challenges.js";
import {
  type ProtectedResourceMetadata,
  protectedResourceMetadataUrl,
} from "./protected-resource-metadata.js";

export { bearerChallenge, bearerTokenOf, type Challenge } from "./challenges.js";
export {
  type ProtectedResourceMetadata,
  protectedResourceMetadataUrl,
} from "./protected-resource-metadata.js";

/** How the resource server is set up. */
export interface ResourceServerOptions {
  /** The authorization server's issuer, e.g. `https://auth.example.com` (tokens' `iss`). */
  readonly issuer: string;
  /** This server's resource URI (RFC 8707, RFC 9728 `resource`): tokens' `aud` must name it. */
  readonly resource: string;
  /** Scopes every request needs (more per call with `authenticate(…, scopes)`). */
  readonly requiredScopes?: readonly string[];
  /** Advertised in the metadata (RFC 9728 §2). */
  readonly scopesSupported?: readonly string[];
  readonly resourceName?: string;
  /** The JWKS; default: `jwks_uri` from the issuer's RFC 8414 metadata. */
  readonly jwksUri?: string;
  /** Seconds of clock skew tolerated on `exp`/`iat`. Default 30. */
  readonly clockToleranceSeconds?: number;
  /**
   * Seconds after one JWKS fetch before an unknown `kid` may cause another
   * (so forged `kid`s cannot make this server hammer the issuer). Default 30.
   * A key published before it signs (docs/token-lifecycle.md) is never
   * unknown, so rotation done that way is not held up by it.
   */
  readonly jwksCooldownSeconds?: number;
}

/** A verified access token (RFC 9068 §2.2). */
export interface VerifiedToken {
  readonly token: string;
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Epoch seconds. */
  readonly expiresAt: number;
  readonly claims: JWTPayload;
}

/** The answer for a request: go ahead, or the status and challenge to send. */
export type AuthenticateResult =
  | { readonly ok: true; readonly token: VerifiedToken }
  | {
      readonly ok: false;
      readonly status: 400 | 401 | 403;
      /** The `WWW-Authenticate` header value. */
      readonly wwwAuthenticate: string;
      readonly error: BearerError | undefined;
      readonly description: string;
    };

/** RFC 9068 §2.1: JWT access tokens are signed with these here (handoff: ES256 or RS256). */
const ALGORITHMS = ["ES256", "RS256", "PS256", "EdDSA"];

/** Verifies handoff access tokens for one resource and writes its challenges and metadata. */
export class ResourceServer {
  readonly metadataUrl: string;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private jwksPending: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  constructor(private readonly options: ResourceServerOptions) {
    this.metadataUrl = protectedResourceMetadataUrl(options.resource);
  }

  /** The path to serve `metadata()` at, e.g. `/.well-known/oauth-protected-resource/mcp`. */
  get metadataPath(): string {
    return new URL(this.metadataUrl).pathname;
  }

  /** RFC 9728 §2: the protected resource metadata document. */
  metadata(): ProtectedResourceMetadata {
    const o = this.options;
    return {
      resource: o.resource,
      authorization_servers: [o.issuer],
      bearer_methods_supported: ["header"],
      ...(o.scopesSupported ? { scopes_supported: [...o.scopesSupported] } : {}),
      ...(o.resourceName ? { resource_name: o.resourceName } : {}),
    };
  }

  /**
   * Checks a request's `Authorization` header: 401 without credentials
   * (only `resource_metadata`, RFC 6750 §3.1) or with a token that fails
   * (`invalid_token`); 403 `insufficient_scope` with the scopes it needs.
   */
  async authenticate(
    authorization: string | undefined,
    scopes: readonly string[] = [],
  ): Promise<AuthenticateResult> {
    const token = bearerTokenOf(authorization);
    if (token === undefined) return this.refuse(401, undefined, "no access token");
    if (token === null) {
      return this.refuse(400, "invalid_request", "credentials must be a Bearer token");
    }
    const verified = await this.verify(token);
    if (typeof verified === "string") return this.refuse(401, "invalid_token", verified);
    const needed = [...new Set([...(this.options.requiredScopes ?? []), ...scopes])];
    if (needed.some((s) => !verified.scopes.includes(s))) {
      return this.refuse(403, "insufficient_scope", "the token lacks a required scope", needed);
    }
    return { ok: true, token: verified };
  }

  /** The token's verified claims, or a sentence saying why it is not accepted. */
  async verify(token: string): Promise<VerifiedToken | string> {
    let jwks: ReturnType<typeof createRemoteJWKSet>;
    try {
      jwks = await this.keySet();
    } catch {
      return "the authorization server's keys are unavailable";
    }
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: this.options.issuer,
        audience: this.options.resource,
        typ: "at+jwt", // RFC 9068 §4: not an ID token or another JWT
        algorithms: ALGORITHMS,
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        requiredClaims: ["exp", "sub", "client_id", "iat"],
      });
      if (typeof payload.client_id !== "string" || typeof payload.sub !== "string") {
        return "the token lacks sub or client_id";
      }
      const scope = typeof payload.scope === "string" ? payload.scope : "";
      return {
        token,
        subject: payload.sub,
        clientId: payload.client_id,
        scopes: scope.split(" ").filter((s) => s !== ""),
        expiresAt: payload.exp ?? 0,
        claims: payload,
      };
    } catch (e) {
      if (e instanceof errors.JWTExpired) return "the token has expired";
      if (e instanceof errors.JWTClaimValidationFailed) {
        return `the token's ${e.claim} claim is not accepted here`;
      }
      if (e instanceof errors.JWKSNoMatchingKey) return "the token's signing key is unknown";
      return "the token is not valid";
    }
  }

  private refuse(
    status: 400 | 401 | 403,
    error: BearerError | undefined,
    description: string,
    scope?: readonly string[],
  ): AuthenticateResult {
    return {
      ok: false,
      status,
      error,
      description,
      wwwAuthenticate: bearerChallenge({
        resourceMetadata: this.metadataUrl,
        ...(error === undefined ? {} : { error, description }),
        ...(scope === undefined ? {} : { scope }),
      }),
    };
  }

  /**
   * jose's remote key set caches the keys and fetches them again when a token
   * names an unknown `kid` (at most every `jwksCooldownSeconds`), so key
   * rotation needs no restart.
   */
  private async keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.jwks) return this.jwks;
    this.jwksPending ??= this.discoverJwksUri()
      .then((uri) => {
        this.jwks = createRemoteJWKSet(new URL(uri), {
          cooldownDuration: (this.options.jwksCooldownSeconds ?? 30) * 1000,
        });
        return this.jwks;
      })
      .finally(() => {
        this.jwksPending = undefined;
      });
    return this.jwksPending;
  }

  /** RFC 8414 §3: the metadata's `issuer` must equal the configured one exactly. */
  private async discoverJwksUri(): Promise<string> {
    if (this.options.jwksUri) return this.options.jwksUri;
    const issuer = new URL(this.options.issuer);
    const path = issuer.pathname === "/" ? "" : issuer.pathname.replace(/\/$/, "");
    const res = await fetch(`${issuer.origin}/.well-known/oauth-authorization-server${path}`, {
      signal: AbortSignal.timeout(5000),
      redirect: "error",
    });
    if (!res.ok) throw new Error(`authorization server metadata: HTTP ${res.status}`);
    const m = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (m.issuer !== this.options.issuer || typeof m.jwks_uri !== "string") {
      throw new Error("authorization server metadata: wrong issuer or no jwks_uri");
    }
    return m.jwks_uri;
  }
}
