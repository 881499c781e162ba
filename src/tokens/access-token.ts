/** RFC 9068 JWT access tokens: signing with the key ring's current key, verifying for introspection. */
import { type JWK, type JWTHeaderParameters, jwtVerify, SignJWT } from "jose";
import type { ApprovedGrant } from "../domain/device-authorization.js";
import type { IssueRequest, TokenIssuer, TokenSet } from "../domain/ports/token-issuer.js";
import { mintJti } from "../domain/refresh-token.js";
import { narrowResources } from "./grant-narrowing.js";
import { type KeyRing, SIGNING_ALGORITHMS } from "./signing-keys.js";

/** How access tokens are minted. */
export interface AccessTokenOptions {
  readonly issuer: string;
  readonly ttlSeconds: number;
  /** `aud` when the grant names no resource (RFC 9068 §3 requires an audience). */
  readonly defaultAudience: string;
}

/** What goes into one access token. */
export interface AccessTokenInput {
  readonly clientId: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  /** RFC 8707 resources; empty means the default audience. */
  readonly resources: readonly string[];
  readonly jti: string;
  /** Epoch ms. */
  readonly issuedAt: number;
}

/** The verified claims of one of our access tokens (`aud` always as a list). */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: readonly string[];
  readonly client_id: string;
  readonly scope: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

/**
 * How long after `handoff_retired_at` plus the token life a retired key stays
 * published: instances reload the key file at slightly different moments
 * (HANDOFF_SIGNING_KEYS_WATCH_MS, rolling restarts), and clocks drift.
 */
export const RETIRED_KEY_SLACK_MS = 5 * 60_000;

/** Signs and verifies access tokens with a key ring. */
export class AccessTokenIssuer implements TokenIssuer {
  constructor(
    private readonly keys: KeyRing,
    private readonly options: AccessTokenOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The JWKS verifiers need at `now` (a retired key until its last token has expired). */
  publishedJwks(now: number): { keys: JWK[] } {
    return this.keys.publishedJwks(now, this.maxTokenLifeMs);
  }

  /** How long a token signed by a key can outlive the key's retirement. */
  private get maxTokenLifeMs(): number {
    return this.options.ttlSeconds * 1000 + RETIRED_KEY_SLACK_MS;
  }

  /** The `iss` of every token. */
  get issuer(): string {
    return this.options.issuer;
  }

  /** The `aud` for a set of resources: them, or the default audience (RFC 9068 §3). */
  audienceFor(resources: readonly string[]): string[] {
    return resources.length === 0 ? [this.options.defaultAudience] : [...resources];
  }

  /** Seconds an access token lives. */
  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  /** An access token alone (no refresh token): the grant's resources, narrowed as asked. */
  async issue(grant: ApprovedGrant, request: IssueRequest = {}): Promise<TokenSet> {
    const resources = narrowResources(request.resources ?? [], grant.resources);
    const accessToken = await this.sign({
      ...grant,
      resources,
      jti: mintJti(),
      issuedAt: this.clock(),
    });
    return {
      accessToken,
      tokenType: "Bearer",
      expiresIn: this.options.ttlSeconds,
      scope: grant.scopes.join(" "),
    };
  }

  /**
   * RFC 9068: `typ: at+jwt`, a `kid` found in the JWKS, and the claims iss, exp,
   * aud, sub, client_id, iat, jti, scope. `aud` is the resource(s) (RFC 8707
   * §2.2) or the default audience.
   */
  async sign(t: AccessTokenInput): Promise<string> {
    const key = this.keys.current;
    const iat = Math.floor(t.issuedAt / 1000);
    // One audience as a string (RFC 7519 §4.1.3 allows both): some resource servers
    // compare `aud` to their identifier as a string.
    const list = this.audienceFor(t.resources);
    const aud = list.length === 1 ? (list[0] as string) : list;
    return new SignJWT({ client_id: t.clientId, scope: t.scopes.join(" ") })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" })
      .setIssuer(this.options.issuer)
      .setSubject(t.subject)
      .setAudience(aud)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.options.ttlSeconds)
      .setJti(t.jti)
      .sign(key.privateKey);
  }

  /**
   * The claims of a token this server signed with a key it still publishes,
   * for this issuer, not expired at `now`; null for anything else (RFC 7662
   * §2.2: the caller learns only "inactive").
   */
  async verify(token: string, now: number): Promise<AccessTokenClaims | null> {
    const published = this.keys.published(now, this.maxTokenLifeMs);
    const keyFor = (header: JWTHeaderParameters) => {
      const key = published.find((k) => k.kid === header.kid && k.alg === header.alg);
      if (key === undefined) throw new Error("unknown kid");
      return key.publicKey;
    };
    try {
      const { payload: p } = await jwtVerify(token, keyFor, {
        issuer: this.options.issuer,
        typ: "at+jwt",
        algorithms: [...SIGNING_ALGORITHMS],
        currentDate: new Date(now),
        requiredClaims: ["sub", "aud", "iat", "exp", "jti"],
      });
      if (typeof p.client_id !== "string" || typeof p.scope !== "string") return null;
      return {
        iss: p.iss ?? "",
        sub: p.sub ?? "",
        aud: typeof p.aud === "string" ? [p.aud] : (p.aud ?? []),
        client_id: p.client_id,
        scope: p.scope,
        iat: p.iat ?? 0,
        exp: p.exp ?? 0,
        jti: p.jti ?? "",
      };
    } catch {
      return null;
    }
  }
}
