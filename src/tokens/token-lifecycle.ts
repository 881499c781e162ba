/**
 * The token lifecycle as domain operations: issuing for a redeemed device
 * code, refreshing with rotation and reuse detection, revoking (RFC 7009)
 * and introspecting (RFC 7662). The RFC gateway and the Connect
 * TokenService both call these; neither re-implements a rule.
 */
import type { JWK } from "jose";
import {
  authenticateClient,
  type ClientCredentials,
  type ClientRegistry,
  REFRESH_TOKEN_GRANT,
  requireGrant,
} from "../domain/client.js";
import type { ApprovedGrant } from "../domain/device-authorization.js";
import { issuanceNames } from "../domain/issuance.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { FlowEvents } from "../domain/ports/flow-events.js";
import type {
  IssueRequest,
  RevocableTokenIssuer,
  TokenIssuer,
  TokenSet,
} from "../domain/ports/token-issuer.js";
import type { FamilyGrant, TokenStore } from "../domain/ports/token-store.js";
import {
  hashRefreshToken,
  mintFamilyId,
  mintJti,
  mintRefreshToken,
  parseRefreshToken,
} from "../domain/refresh-token.js";
import { parseResources, type ResourceLimits } from "../domain/resource.js";
import { checkScopeTokens } from "../domain/scope.js";
import type { AccessTokenIssuer } from "./access-token.js";
import { narrowResources, narrowScopes } from "./grant-narrowing.js";
import { authenticateCaller, type CallerCredentials } from "./token-caller.js";
import { type IntrospectionResult, introspectToken } from "./token-introspection.js";
import { revokeToken, type TokenTypeHint } from "./token-revocation.js";

/** Lifetimes and credentials of the token lifecycle. */
export interface TokenLifecycleOptions {
  /** Seconds a refresh token lives unused. */
  readonly refreshIdleTtl: number;
  /** Seconds a refresh family lives at most, however often it is rotated. */
  readonly refreshAbsoluteTtl: number;
  /** Rotated-out hashes a family remembers for reuse detection. */
  readonly keepRotated: number;
  /** The bearer credential of internal services; undefined lets no service in. */
  readonly serviceToken: string | undefined;
  /** The resource rule refresh requests are held to, the same as at authorization. */
  readonly resources: ResourceLimits;
}

/** RFC 6749 §6 refresh request, transport-neutral. */
export interface RefreshInput {
  readonly credentials: ClientCredentials;
  readonly refreshToken: string;
  /** Narrower scopes; undefined or empty keeps the granted ones. */
  readonly scopes?: readonly string[];
  /** Narrower resources (RFC 8707 §2.2); empty keeps the bound ones. */
  readonly resources?: readonly string[];
}

/** What `issueRevocable` hands out for `revokeIssued` (kept as JSON by the code grant's store). */
interface IssuedTokens {
  readonly jti: string;
  /** Epoch ms: when the access token expires (its revocation mark ends then). */
  readonly expiresAt: number;
  readonly familyId?: string;
  /** Storage hash of the family's first refresh token (a rotated-out hash still names the family). */
  readonly refreshHash?: string;
}

/** The token operations both transports call; also the flows' token issuer. */
export class TokenLifecycle implements TokenIssuer, RevocableTokenIssuer {
  constructor(
    private readonly deps: {
      readonly clients: ClientRegistry;
      readonly store: TokenStore;
      readonly accessTokens: AccessTokenIssuer;
      readonly options: TokenLifecycleOptions;
      /** Audit events and counters (docs/operations.md). */
      readonly events: FlowEvents;
      readonly clock?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /**
   * Tokens for a redeemed device code: an access token for the (narrowed)
   * resources and, for clients with the refresh_token grant, the first
   * refresh token of a new family.
   */
  async issue(grant: ApprovedGrant, request: IssueRequest = {}): Promise<TokenSet> {
    return (await this.issueRevocable(grant, request)).tokens;
  }

  /**
   * `issue`, plus what `revokeIssued` needs to take those tokens back: the
   * code grant keeps it with the redeemed code, so a replayed code revokes
   * what it gave (RFC 6749 §4.1.2).
   */
  async issueRevocable(
    grant: ApprovedGrant,
    request: IssueRequest = {},
  ): Promise<{ tokens: TokenSet; revocation: string }> {
    const resources = narrowResources(request.resources ?? [], grant.resources);
    const { issuance } = request;
    // A consumption's set is derived, not drawn, and dated at the consumption:
    // a retry of it (after a store fault, a signing failure or a crash) signs
    // the same claims and writes the family at most once, so it gets this set
    // again, never a second one (docs/failure.md "Exactly once across faults").
    const now = issuance?.issuedAt ?? this.now();
    const named = issuance === undefined ? undefined : issuanceNames(issuance.seed);
    const familyId = named?.familyId ?? mintFamilyId();
    const jti = named?.jti ?? mintJti(familyId);
    let refreshToken: string | undefined;
    if (request.refresh === true) {
      refreshToken = named?.refreshToken ?? mintRefreshToken(familyId);
      const { refreshIdleTtl, refreshAbsoluteTtl } = this.deps.options;
      const absoluteExpiresAt = now + refreshAbsoluteTtl * 1000;
      await this.deps.store.createFamily(
        familyId,
        {
          clientId: grant.clientId,
          subject: grant.subject,
          scopes: grant.scopes,
          // The family keeps the whole grant: a later refresh may pick other bound resources.
          resources: grant.resources,
          createdAt: now,
          absoluteExpiresAt,
          issuedAt: now,
          idleExpiresAt: Math.min(now + refreshIdleTtl * 1000, absoluteExpiresAt),
          currentHash: hashRefreshToken(refreshToken),
          rotatedHashes: [],
          accessTokens: [{ jti, expiresAt: this.accessExpiry(now) }],
          ...(grant.origin === undefined ? {} : { origin: grant.origin }),
        },
        // Remembered past the last possible retry by as long again: a retry
        // checked just before the window closed still finds the mark.
        issuance === undefined
          ? {}
          : { onceUntil: issuance.retryUntil + (issuance.retryUntil - issuance.issuedAt) },
      );
    }
    const tokens = await this.tokenSet(
      { ...grant, resources, jti, issuedAt: now },
      grant.scopes,
      refreshToken,
      // A retry hands out the same access token: what is left of its life.
      issuance === undefined ? undefined : this.accessExpiry(now),
    );
    const issued: IssuedTokens = {
      jti,
      expiresAt: this.accessExpiry(now),
      ...(refreshToken === undefined
        ? {}
        : { familyId, refreshHash: hashRefreshToken(refreshToken) }),
    };
    return { tokens, revocation: JSON.stringify(issued) };
  }

  /**
   * Revokes what one `issueRevocable` call issued: the refresh family (its
   * access tokens with it, whatever it has rotated to since, within the reuse
   * window) and the first access token.
   */
  async revokeIssued(revocation: string): Promise<void> {
    const issued = JSON.parse(revocation) as IssuedTokens;
    const now = this.now();
    if (issued.familyId !== undefined && issued.refreshHash !== undefined) {
      await this.deps.store.revokeFamily(issued.familyId, issued.refreshHash, undefined, now);
    }
    await this.deps.store.revokeAccessToken({ jti: issued.jti, expiresAt: issued.expiresAt });
  }

  /**
   * Revokes the set `issueRevocable` derives from this issuance (family by
   * id, with whatever it has rotated to; the first access token until it
   * would expire), issued or not. A family created after this (an issuance
   * still running) is revoked by that issuance's own confirmation, which
   * finds the code replayed.
   */
  async revokeNamed(issuance: { readonly seed: Buffer; readonly issuedAt: number }) {
    const { familyId, jti } = issuanceNames(issuance.seed);
    await this.deps.store.revokeFamilyById(familyId, this.now());
    await this.deps.store.revokeAccessToken({
      jti,
      expiresAt: this.accessExpiry(issuance.issuedAt),
    });
  }

  /**
   * RFC 6749 §6 with OAuth 2.1 §4.3.1 rotation: the presented token is
   * swapped for a new one in one atomic store step; a rotated-out token is
   * `invalid_grant` and revokes the family with its access tokens. Scope and
   * resources may narrow for this access token; the family keeps the grant.
   */
  async refresh(input: RefreshInput): Promise<TokenSet> {
    const client = await authenticateClient(this.deps.clients, input.credentials);
    requireGrant(client, REFRESH_TOKEN_GRANT);
    const requestedScopes = input.scopes && checkScopeTokens(input.scopes);
    const requestedResources = parseResources(input.resources ?? [], this.deps.options.resources);
    const handle = parseRefreshToken(input.refreshToken);
    if (handle === null) throw new OAuthError("invalid_grant", "the refresh token is invalid");
    const now = this.now();

    // Narrowing is checked before rotating, or a refused request would burn the token.
    // A family's scopes and resources never change, so reading them first is no race.
    const narrowing = (requestedScopes?.length ?? 0) > 0 || requestedResources.length > 0;
    if (narrowing) {
      const family = await this.deps.store.inspect(handle.familyId, handle.hash, now);
      if (family !== null && family.clientId === client.id) {
        narrowScopes(requestedScopes, family.scopes);
        narrowResources(requestedResources, family.resources);
      }
    }

    const next = mintRefreshToken(handle.familyId);
    const jti = mintJti(handle.familyId);
    const outcome = await this.deps.store.rotate(handle.familyId, {
      presentedHash: handle.hash,
      nextHash: hashRefreshToken(next),
      clientId: client.id,
      now,
      accessToken: { jti, expiresAt: this.accessExpiry(now) },
      idleTtlMs: this.deps.options.refreshIdleTtl * 1000,
      keepRotated: this.deps.options.keepRotated,
    });
    switch (outcome.kind) {
      case "rotated": {
        const f: FamilyGrant = outcome.family;
        const scopes = narrowScopes(requestedScopes, f.scopes);
        const resources = narrowResources(requestedResources, f.resources);
        this.deps.events.record({ event: "refreshed", clientId: f.clientId, subject: f.subject });
        return this.tokenSet({ ...f, resources, scopes, jti, issuedAt: now }, scopes, next);
      }
      case "reused":
        this.deps.events.record({ event: "reuse_detected", clientId: client.id });
        throw new OAuthError(
          "invalid_grant",
          "the refresh token was already used; the grant has been revoked",
        );
      case "expired":
        throw new OAuthError("invalid_grant", "the refresh token has expired");
      case "wrong_client":
        throw new OAuthError("invalid_grant", "the refresh token was issued to another client");
      case "unknown":
        throw new OAuthError("invalid_grant", "the refresh token is invalid");
    }
  }

  /** RFC 7009 §2: authenticates the caller and revokes; unknown tokens are no error. */
  async revoke(creds: CallerCredentials, token: string, hint?: TokenTypeHint): Promise<void> {
    const caller = await authenticateCaller(
      this.deps.clients,
      this.deps.options.serviceToken,
      creds,
      {
        requireSecret: false,
      },
    );
    const revoked = await revokeToken(this.deps, caller, token, this.now(), hint);
    if (revoked !== null) {
      const by = caller.kind === "service" ? "service" : "client";
      this.deps.events.record({ event: "revoked", ...revoked, by });
    }
  }

  /**
   * An operator's revocation (ClientService.RevokeGrant, already authorised by
   * the admin credential): as a service's RFC 7009 call, on any client's token.
   * False when the token was unknown, expired or already revoked.
   */
  async revokeForOperator(token: string): Promise<boolean> {
    const revoked = await revokeToken(this.deps, { kind: "service" }, token, this.now());
    if (revoked !== null) this.deps.events.record({ event: "revoked", ...revoked, by: "service" });
    return revoked !== null;
  }

  /** RFC 7662 §2: authenticates the caller (a confidential client or a service) and inspects. */
  async introspect(
    creds: CallerCredentials,
    token: string,
    hint?: TokenTypeHint,
  ): Promise<IntrospectionResult> {
    const caller = await authenticateCaller(
      this.deps.clients,
      this.deps.options.serviceToken,
      creds,
      {
        requireSecret: true,
      },
    );
    return introspectToken(this.deps, caller, token, this.now(), hint);
  }

  /** The JWKS to publish now: active keys, and retired ones until their tokens have expired. */
  jwks(): { keys: JWK[] } {
    return this.deps.accessTokens.publishedJwks(this.now());
  }

  private accessExpiry(now: number): number {
    return (Math.floor(now / 1000) + this.deps.accessTokens.ttlSeconds) * 1000;
  }

  private async tokenSet(
    claims: Parameters<AccessTokenIssuer["sign"]>[0],
    scopes: readonly string[],
    refreshToken: string | undefined,
    /** Epoch ms the access token expires at, when it was not signed just now. */
    expiresAt?: number,
  ): Promise<TokenSet> {
    const { ttlSeconds } = this.deps.accessTokens;
    return {
      accessToken: await this.deps.accessTokens.sign(claims),
      tokenType: "Bearer",
      expiresIn:
        expiresAt === undefined
          ? ttlSeconds
          : Math.max(0, Math.min(ttlSeconds, Math.ceil((expiresAt - this.now()) / 1000))),
      scope: scopes.join(" "),
      ...(refreshToken === undefined ? {} : { refreshToken }),
    };
  }
}
