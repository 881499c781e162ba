/** The token issuer port: what the flows need to turn an approved grant into tokens. */
import type { ApprovedGrant } from "../device-authorization.js";
import type { Issuance } from "../issuance.js";

/** Issues tokens for an approved grant (implemented in src/tokens). */
export interface TokenIssuer {
  issue(grant: ApprovedGrant, request?: IssueRequest): Promise<TokenSet>;
}

/** What the token request adds to an approved grant. */
export interface IssueRequest {
  /** RFC 8707 §2.2: `resource` values of the token request; may narrow the grant's, never add. */
  readonly resources?: readonly string[];
  /** Issue a refresh token too: the client has the refresh_token grant. */
  readonly refresh?: boolean;
  /**
   * The set is the one of this consumption: its ids, refresh token and issue
   * time come from it, and the family is written at most once, so a retry
   * gets the same set (docs/failure.md "Exactly once across faults").
   * Without it everything is drawn fresh.
   */
  readonly issuance?: Issuance;
}

/** RFC 6749 §5.1 success, transport-neutral. */
export interface TokenSet {
  readonly accessToken: string;
  readonly tokenType: "Bearer";
  readonly expiresIn: number;
  readonly scope: string;
  readonly refreshToken?: string;
}

/**
 * The token issuer as the authorization code grant needs it: tokens plus what
 * revokes them, so a replayed code can take back what it gave (RFC 6749 §4.1.2).
 */
export interface RevocableTokenIssuer {
  issueRevocable(
    grant: ApprovedGrant,
    request: IssueRequest,
  ): Promise<{ readonly tokens: TokenSet; readonly revocation: string }>;
  /** Revokes everything `issueRevocable` issued under that `revocation`. */
  revokeIssued(revocation: string): Promise<void>;
  /**
   * Revokes the set an issuance with this seed, dated `issuedAt`, names (its
   * family by id, its first access token), whether or not it was issued: for
   * a replayed code whose `revocation` was never recorded.
   */
  revokeNamed(issuance: { readonly seed: Buffer; readonly issuedAt: number }): Promise<void>;
}
