/**
 * The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636, OAuth 2.1
 * §4.1, RFC 9207) as domain operations, beside the device flow and sharing
 * with it the client registry, the scope and resource rules, the person's
 * sign-in and consent (src/pages), and the token issuer. The authorization
 * endpoint and the consent page call `check` and `decide`; the token endpoint
 * calls `redeem`.
 */
import {
  authorizationCodeHandle,
  mintAuthorizationCode,
  type RedeemOutcome,
} from "./authorization-code.js";
import {
  type AuthorizationCheck,
  type AuthorizationQuery,
  type AuthorizationRequest,
  authorizationResponseUri,
  checkAuthorizationRequest,
} from "./authorization-request.js";
import {
  AUTHORIZATION_CODE_GRANT,
  authenticateClient,
  type ClientCredentials,
  type ClientLookup,
  type ClientRegistry,
  REFRESH_TOKEN_GRANT,
  requireGrant,
} from "./client.js";
import { grantOrigin } from "./grant-origin.js";
import { DEFAULT_RETRY_WINDOW, issuanceSeed, issueOnce, mintIssuanceNonce } from "./issuance.js";
import { OAuthError } from "./oauth-error.js";
import { s256ChallengeOf } from "./pkce.js";
import type { AuthorizationCodeStore } from "./ports/authorization-code-store.js";
import type { RetryPolicy } from "./ports/device-store.js";
import type { FlowEvents } from "./ports/flow-events.js";
import type { RevocableTokenIssuer, TokenSet } from "./ports/token-issuer.js";
import { parseResources, type ResourceLimits } from "./resource.js";
import { checkSubject } from "./subject.js";

export interface AuthorizationCodeFlowOptions {
  /** `iss` of every authorization response (RFC 9207 §2). */
  readonly issuer: string;
  /** Seconds a code lives (at most 60: OAuth 2.1 §4.1.2 recommends short-lived codes). */
  readonly codeTtl: number;
  /** Seconds a redeemed code is remembered to recognise a replay (the access-token life). */
  readonly replayWindow: number;
  /** RFC 8707 resources: counts, length, http on loopback (the device flow's limits). */
  readonly resources: ResourceLimits;
  /**
   * Seconds after a redemption during which the same token request, after a
   * failed issuance, gets the same token set (docs/failure.md "Exactly once
   * across faults"); 0: a redeemed code is spent at once, whatever happened
   * next. Default `DEFAULT_RETRY_WINDOW` (HANDOFF_TOKEN_RETRY_WINDOW).
   */
  readonly retryWindow?: number;
  /**
   * How long an issuance attempt may still be running, in ms (the deadlines
   * of its store calls): the same request sooner than this after an attempt
   * that did not release the code is a duplicate, hence a replay. Default
   * `DEFAULT_CODE_RETRY_LEASE_MS`.
   */
  readonly retryLeaseMs?: number;
}

/**
 * The default of `retryLeaseMs`: on the embedded store an attempt is a
 * signature and in-process writes, over well before this.
 */
export const DEFAULT_CODE_RETRY_LEASE_MS = 1000;

/** The token request of the code grant (RFC 6749 §4.1.3, RFC 7636 §4.5). */
export interface RedeemInput {
  readonly credentials: ClientCredentials;
  readonly code: string;
  readonly redirectUri?: string;
  readonly codeVerifier?: string;
  /** RFC 8707 §2.2: may narrow the bound resources, never add. */
  readonly resources?: readonly string[];
  /**
   * Where the token request comes from, and its User-Agent: the family's
   * requester on the "Connected devices" page (the client that holds the
   * tokens, which is not always the browser that approved).
   */
  readonly requesterAddress?: string;
  readonly requesterUserAgent?: string;
}

/** Where to send the browser after a decision: the redirect URI with the response's parameters. */
export interface AuthorizationResponse {
  readonly location: string;
}

/** Tries before giving up on a free code (256 random bits: a clash never happens in practice). */
const CODE_ATTEMPTS = 3;

const REDEEM_ERRORS: Record<
  Exclude<RedeemOutcome["kind"], "redeemed" | "reissued" | "replayed">,
  [code: "invalid_grant" | "invalid_target", description: string]
> = {
  unknown: ["invalid_grant", "the authorization code is invalid"],
  wrong_client: ["invalid_grant", "the authorization code was issued to another client"],
  expired: ["invalid_grant", "the authorization code has expired"],
  redirect_mismatch: [
    "invalid_grant",
    "redirect_uri differs from the one of the authorization request",
  ],
  verifier_mismatch: ["invalid_grant", "code_verifier does not match the code_challenge (PKCE)"],
  invalid_target: ["invalid_target", "a resource was not part of the authorization request"],
};

export class AuthorizationCodeFlow {
  private readonly retry: RetryPolicy;

  constructor(
    private readonly deps: {
      readonly clients: ClientRegistry;
      readonly store: AuthorizationCodeStore;
      readonly tokens: RevocableTokenIssuer;
      readonly options: AuthorizationCodeFlowOptions;
      /** Approvals, denials and issuance go to the audit log and counters (docs/operations.md). */
      readonly events: FlowEvents;
      readonly clock?: () => number;
    },
  ) {
    this.retry = {
      windowMs: (deps.options.retryWindow ?? DEFAULT_RETRY_WINDOW) * 1000,
      leaseMs: deps.options.retryLeaseMs ?? DEFAULT_CODE_RETRY_LEASE_MS,
    };
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /** RFC 6749 §4.1.1: checks a request; see `AuthorizationCheck` for where errors go. */
  check(query: AuthorizationQuery, lookup?: ClientLookup): Promise<AuthorizationCheck> {
    return checkAuthorizationRequest(this.deps.clients, query, this.deps.options.resources, lookup);
  }

  /** The error response for a request whose redirect URI is known good (RFC 6749 §4.1.2.1). */
  errorResponse(check: Extract<AuthorizationCheck, { kind: "error" }>): AuthorizationResponse {
    return {
      location: authorizationResponseUri(check.redirectUri, {
        error: check.error,
        error_description: check.description,
        state: check.state,
        iss: this.deps.options.issuer,
      }),
    };
  }

  /**
   * The person's answer to a checked request. Approve mints a code bound to
   * the client, the redirect URI, the challenge and the resources (RFC 6749
   * §4.1.2, RFC 7636 §4.4) and sends it back with `state` and `iss`; Deny
   * sends `access_denied`.
   */
  async decide(
    request: AuthorizationRequest,
    subject: string,
    approve: boolean,
    /**
     * Where the person's browser is: the approver, kept with the code; for the
     * audit event also the requester (the browser carried the request).
     */
    address = "",
  ): Promise<AuthorizationResponse> {
    const { issuer, codeTtl } = this.deps.options;
    checkSubject(subject);
    this.deps.events.record({
      event: approve ? "approved" : "denied",
      clientId: request.client.id,
      subject,
      requesterAddress: address,
      approverAddress: address,
    });
    if (!approve) {
      return {
        location: authorizationResponseUri(request.redirectUri, {
          error: "access_denied",
          error_description: "the person denied the request",
          state: request.state,
          iss: issuer,
        }),
      };
    }
    const now = this.now();
    // The browser that approved, kept with the code so the family's origin
    // names it (docs/token-lifecycle.md "Where a grant came from"), bounded
    // as the family keeps it.
    const approverAddress = grantOrigin("", "", address).approverAddress;
    const record = {
      clientId: request.client.id,
      redirectUri: request.redirectUriParam,
      codeChallenge: request.codeChallenge,
      scopes: request.scopes,
      resources: request.resources,
      subject,
      ...(approverAddress === undefined ? {} : { approverAddress }),
      createdAt: now,
      expiresAt: now + codeTtl * 1000,
      status: "issued",
      issuedTokens: "",
      replayed: false,
      issuanceNonce: mintIssuanceNonce(),
    } as const;
    for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
      const code = mintAuthorizationCode();
      const handle = authorizationCodeHandle(code);
      if (handle === null) throw new Error("minted an authorization code that does not parse");
      if (await this.deps.store.create(handle, record)) {
        return {
          location: authorizationResponseUri(request.redirectUri, {
            code,
            state: request.state,
            iss: issuer,
          }),
        };
      }
    }
    throw new OAuthError("temporarily_unavailable", "could not store the authorization code");
  }

  /**
   * RFC 6749 §4.1.3 with RFC 7636 §4.6: the code is checked and spent in one
   * atomic step; a wrong or missing verifier, another redirect URI or another
   * client is `invalid_grant` and spends nothing. A code that comes back after
   * its redemption is refused and the tokens issued from it are revoked
   * (RFC 6749 §4.1.2), unless it is the same request again after an issuance
   * that failed: then it gets the same token set (docs/failure.md "Exactly
   * once across faults").
   */
  async redeem(input: RedeemInput): Promise<TokenSet> {
    const client = await authenticateClient(this.deps.clients, input.credentials);
    requireGrant(client, AUTHORIZATION_CODE_GRANT);
    const resources = parseResources(input.resources ?? [], this.deps.options.resources);
    const handle = authorizationCodeHandle(input.code);
    if (handle === null) throw new OAuthError("invalid_grant", "the authorization code is invalid");
    const now = this.now();
    const keepMs = Math.max(this.deps.options.replayWindow * 1000, this.retry.windowMs);
    const outcome = await this.deps.store.redeem(handle, {
      clientId: client.id,
      redirectUri: input.redirectUri ?? "",
      challenge: s256ChallengeOf(input.codeVerifier),
      narrowTo: resources,
      now,
      retainUntil: now + keepMs,
      retry: this.retry,
    });
    switch (outcome.kind) {
      case "redeemed":
      case "reissued": {
        // The redemption is one store step and the tokens come after it; a
        // fault between them (store, signing, a crash) must not lose the
        // approval. The set is named by the code and its nonce, so this
        // attempt and any retry of it give the same one, written at most once.
        const { issuance } = outcome;
        const grant = {
          ...outcome.grant,
          // The requester is the token request; the approver, the browser
          // whose consent minted the code.
          origin: grantOrigin(
            input.requesterAddress ?? "",
            input.requesterUserAgent ?? "",
            outcome.approverAddress,
          ),
        };
        const { issued, confirmed } = await issueOnce({
          issue: () =>
            this.deps.tokens.issueRevocable(grant, {
              resources,
              refresh: client.grantTypes.includes(REFRESH_TOKEN_GRANT),
              issuance: {
                seed: issuanceSeed(input.code, issuance.nonce),
                issuedAt: issuance.issuedAt,
                retryUntil: issuance.retryUntil,
              },
            }),
          release: () => this.deps.store.release(handle, now),
          // Records what revokes the set on a replay, and closes the retry.
          confirm: ({ revocation }) => this.deps.store.attach(handle, revocation, this.now()),
        });
        if (confirmed?.kind === "replayed") {
          // The code came back while these were being issued: they die with it.
          await this.deps.tokens.revokeIssued(issued.revocation);
          throw replayed();
        }
        this.deps.events.record({
          event: "issued",
          clientId: client.id,
          subject: outcome.grant.subject,
          grant: "authorization_code",
        });
        return issued.tokens;
      }
      case "replayed": {
        // RFC 6749 §4.1.2: what the code gave is revoked. When its
        // confirmation never landed (a store fault after the tokens went
        // out) the record does not say what that was, but the set is named
        // by the code and its nonce: revoke those names.
        const { issuedTokens, issuance } = outcome;
        if (issuedTokens !== "") await this.deps.tokens.revokeIssued(issuedTokens);
        else if (issuance !== undefined) {
          await this.deps.tokens.revokeNamed({
            seed: issuanceSeed(input.code, issuance.nonce),
            issuedAt: issuance.issuedAt,
          });
        }
        throw replayed();
      }
      default: {
        const [code, description] = REDEEM_ERRORS[outcome.kind];
        throw new OAuthError(code, description);
      }
    }
  }
}

function replayed(): OAuthError {
  return new OAuthError(
    "invalid_grant",
    "the authorization code was already used; the tokens issued from it are revoked",
  );
}
