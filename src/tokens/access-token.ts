/** RFC 9068 JWT access tokens. */
import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import type { ApprovedGrant } from "../domain/device-authorization.js";
import type { TokenIssuer, TokenSet } from "../domain/device-flow.js";
import type { KeyRing } from "./signing-keys.js";

export interface AccessTokenOptions {
  readonly issuer: string;
  readonly ttlSeconds: number;
  /** `aud` when the grant names no resource (RFC 9068 §3 requires an audience). */
  readonly defaultAudience: string;
}

/** Signs access tokens with the key ring's current key. */
export class AccessTokenIssuer implements TokenIssuer {
  constructor(
    private readonly keys: KeyRing,
    private readonly options: AccessTokenOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * J1/J2: `typ: at+jwt`, a `kid` found in the JWKS, and the claims
   * iss, exp, aud, sub, client_id, iat, jti, scope. `aud` is the bound
   * resource(s) (RFC 8707 §2.2) or the default audience.
   */
  async issue(grant: ApprovedGrant): Promise<TokenSet> {
    const key = this.keys.current;
    const iat = Math.floor(this.clock() / 1000);
    const scope = grant.scopes.join(" ");
    const aud = grant.resources.length === 0 ? this.options.defaultAudience : [...grant.resources];
    const accessToken = await new SignJWT({ client_id: grant.clientId, scope })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" })
      .setIssuer(this.options.issuer)
      .setSubject(grant.subject)
      .setAudience(aud)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.options.ttlSeconds)
      .setJti(randomBytes(16).toString("base64url"))
      .sign(key.privateKey);
    return { accessToken, tokenType: "Bearer", expiresIn: this.options.ttlSeconds, scope };
  }
}
