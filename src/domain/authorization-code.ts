/**
 * Authorization codes (RFC 6749 §4.1.2): the stored record, its transitions
 * as pure functions, and the code itself. The memory store runs the
 * transitions in its critical section; the Redis store runs the same rules as
 * Lua scripts (src/store/redis-authorization-code-scripts.ts); the contract
 * suite (test/store/authorization-code-store-contract.ts) holds both to them.
 */
import { hash } from "node:crypto";
import { csprngBytes } from "./csprng-pool.js";
import type { ApprovedGrant, Consumption } from "./device-authorization.js";
import { type IssuanceRef, NO_RETRY, type RetryPolicy } from "./ports/device-store.js";

/** issued → redeemed, exactly once; a record lives until `expiresAt`. */
export type AuthorizationCodeStatus = "issued" | "redeemed";

/** One approved authorization request, as the stores keep it. */
export interface AuthorizationCodeRecord {
  readonly clientId: string;
  /**
   * The `redirect_uri` of the authorization request exactly as sent, "" when
   * it was omitted: the token request must repeat it (RFC 6749 §4.1.3).
   */
  readonly redirectUri: string;
  /** S256 `code_challenge` (RFC 7636 §4.3). */
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  /** RFC 8707 resources bound to the grant. */
  readonly resources: readonly string[];
  /** Who approved. */
  readonly subject: string;
  /**
   * The address of the browser that sent the consent decision, bounded as a
   * family's `GrantOrigin` keeps it (src/domain/grant-origin.ts); absent when
   * unknown, and in a record written before it was kept. It becomes the
   * family's approver address (docs/token-lifecycle.md "Where a grant came from").
   */
  readonly approverAddress?: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /**
   * Epoch ms. While issued: the end of the code's life (at most 60 s). Once
   * redeemed: how long the record is kept to recognise a replay.
   */
  readonly expiresAt: number;
  readonly status: AuthorizationCodeStatus;
  /** What the token issuer needs to revoke the tokens issued from this code; "" until known. */
  readonly issuedTokens: string;
  /** Set when the code came back after its redemption (RFC 6749 §4.1.2). */
  readonly replayed: boolean;
  /**
   * Names the token set with the code (`issuanceSeed`); minted with the code.
   * Absent (read as "") for a record from before nonces.
   */
  readonly issuanceNonce?: string;
  /**
   * Once redeemed: when, the latest attempt, the `resource` values named and
   * whether the set was delivered (docs/failure.md "Exactly once across
   * faults"). Absent: no retry gets the set again.
   */
  readonly consumption?: Consumption;
}

/** A token request for a code, authenticated, ready for the atomic step. */
export interface Redemption {
  readonly clientId: string;
  /** The token request's `redirect_uri`, "" when omitted. */
  readonly redirectUri: string;
  /** S256 of the presented `code_verifier`; "" when missing or malformed (matches nothing). */
  readonly challenge: string;
  /** The token request's `resource` values: each must be bound (RFC 8707 §2.2). */
  readonly narrowTo: readonly string[];
  readonly now: number;
  /** Epoch ms: keep the redeemed record until then, to recognise a replay. */
  readonly retainUntil: number;
  /** When a redeemed, undelivered code gets its set again (`retainUntil` must cover the window). */
  readonly retry?: RetryPolicy;
}

export type RedeemOutcome =
  | { readonly kind: "unknown" }
  | { readonly kind: "wrong_client" }
  | { readonly kind: "expired" }
  | { readonly kind: "redirect_mismatch" }
  | { readonly kind: "verifier_mismatch" }
  | { readonly kind: "invalid_target" }
  /**
   * Presented again after its redemption: `issuedTokens` ("" if not known
   * yet) must be revoked. `issuance` names the set the redemption derived
   * (absent for a record from before nonces): what was issued, or may still
   * be, when its confirmation never landed and `issuedTokens` is "".
   */
  | {
      readonly kind: "replayed";
      readonly issuedTokens: string;
      readonly issuance?: { readonly nonce: string; readonly issuedAt: number };
    }
  | ({ readonly kind: "redeemed" } & Redeemed)
  /**
   * The same token request again after an issuance that was never confirmed
   * (a fault between the redemption and the tokens): the same grant and issuance.
   */
  | ({ readonly kind: "reissued" } & Redeemed);

/** What a redemption (or its retry) hands to the token issuer. */
export interface Redeemed {
  readonly grant: ApprovedGrant;
  readonly issuance: IssuanceRef;
  /** The record's `approverAddress`, absent when it has none. */
  readonly approverAddress?: string;
}

/**
 * One redemption. The checks come before any change, so a wrong verifier,
 * redirect URI or resource spends nothing (the rightful client can still
 * redeem); the code is spent in the same step that checks it, so of two
 * concurrent redemptions exactly one gets the grant. A code presented again by
 * its client after redemption is a replay: it is marked, and the caller
 * revokes what was issued (RFC 6749 §4.1.2, §10.5). The one exception is a
 * retry after a failed issuance, as `r.retry` allows: the same grant again,
 * for the same token set (docs/failure.md "Exactly once across faults").
 */
export function applyRedemption(
  state: AuthorizationCodeRecord | undefined,
  r: Redemption,
): { outcome: RedeemOutcome; next?: AuthorizationCodeRecord } {
  if (state === undefined) return { outcome: { kind: "unknown" } };
  if (state.clientId !== r.clientId) return { outcome: { kind: "wrong_client" } };
  const retry = r.retry ?? NO_RETRY;
  if (state.status === "redeemed") {
    const c = state.consumption;
    if (c !== undefined && retryAllowed(state, c, r, retry)) {
      return {
        outcome: {
          kind: "reissued",
          grant: grantOf(state),
          issuance: issuanceOf(state, c, retry),
          ...approverOf(state),
        },
        next: { ...state, consumption: { ...c, attemptAt: r.now } },
      };
    }
    return {
      outcome: {
        kind: "replayed",
        issuedTokens: state.issuedTokens,
        ...(state.issuanceNonce && c !== undefined
          ? { issuance: { nonce: state.issuanceNonce, issuedAt: c.at } }
          : {}),
      },
      next: { ...state, replayed: true },
    };
  }
  if (state.expiresAt <= r.now) return { outcome: { kind: "expired" } };
  if (state.redirectUri !== r.redirectUri) return { outcome: { kind: "redirect_mismatch" } };
  if (state.codeChallenge !== r.challenge) return { outcome: { kind: "verifier_mismatch" } };
  if (r.narrowTo.some((x) => !state.resources.includes(x))) {
    return { outcome: { kind: "invalid_target" } };
  }
  const consumption: Consumption = {
    at: r.now,
    attemptAt: r.now,
    narrowTo: r.narrowTo,
    confirmed: false,
  };
  return {
    outcome: {
      kind: "redeemed",
      grant: grantOf(state),
      issuance: issuanceOf(state, consumption, retry),
      ...approverOf(state),
    },
    next: {
      ...state,
      status: "redeemed",
      expiresAt: Math.max(state.expiresAt, r.retainUntil),
      consumption,
    },
  };
}

/**
 * A redeemed code is a retry, not a replay, only while its set was never
 * confirmed and no replay was seen, within the window since the redemption,
 * at least a lease after the last attempt (a closer one is a duplicate racing
 * an attempt that may still succeed), and as the same token request: the
 * same redirect URI, PKCE verifier and resources.
 */
function retryAllowed(
  state: AuthorizationCodeRecord,
  c: Consumption,
  r: Redemption,
  retry: RetryPolicy,
): boolean {
  return (
    retry.windowMs > 0 &&
    !c.confirmed &&
    !state.replayed &&
    r.now - c.at <= retry.windowMs &&
    r.now - c.attemptAt >= retry.leaseMs &&
    state.redirectUri === r.redirectUri &&
    state.codeChallenge === r.challenge &&
    r.narrowTo.join(" ") === c.narrowTo.join(" ")
  );
}

function grantOf(state: AuthorizationCodeRecord): ApprovedGrant {
  return {
    clientId: state.clientId,
    subject: state.subject,
    scopes: state.scopes,
    resources: state.resources,
  };
}

function approverOf(state: AuthorizationCodeRecord): { approverAddress?: string } {
  return state.approverAddress ? { approverAddress: state.approverAddress } : {};
}

function issuanceOf(
  state: AuthorizationCodeRecord,
  c: Consumption,
  retry: RetryPolicy,
): IssuanceRef {
  return { nonce: state.issuanceNonce ?? "", issuedAt: c.at, retryUntil: c.at + retry.windowMs };
}

/** Ends a failed attempt's lease (its attempt time becomes 0): a retry may come at once. */
export function applyCodeRelease(
  state: AuthorizationCodeRecord | undefined,
): AuthorizationCodeRecord | undefined {
  const c = state?.consumption;
  if (state?.status !== "redeemed" || c === undefined || c.confirmed || c.attemptAt === 0) {
    return undefined;
  }
  return { ...state, consumption: { ...c, attemptAt: 0 } };
}

/** Whether a replay came in while the tokens were being issued. */
export type AttachOutcome = { readonly kind: "attached" } | { readonly kind: "replayed" };

/**
 * Records what was issued from a redeemed code, and that it was delivered
 * (confirmed: no retry gets it again). A replay that arrived between the
 * redemption and this step found nothing to revoke yet and only marked the
 * record: then the caller revokes. Either the replay sees `issuedTokens` or
 * this step sees `replayed`, so no tokens outlive a detected replay.
 */
export function applyAttach(
  state: AuthorizationCodeRecord | undefined,
  issuedTokens: string,
): { outcome: AttachOutcome; next?: AuthorizationCodeRecord } {
  if (state === undefined) return { outcome: { kind: "attached" } };
  if (state.replayed) return { outcome: { kind: "replayed" } };
  const c = state.consumption;
  return {
    outcome: { kind: "attached" },
    next: { ...state, issuedTokens, ...(c ? { consumption: { ...c, confirmed: true } } : {}) },
  };
}

/** 256 bits from the CSPRNG, base64url (RFC 6749 §10.10: unguessable). */
const CODE = /^[A-Za-z0-9_-]{43}$/;

/** A new authorization code. */
export function mintAuthorizationCode(): string {
  return csprngBytes(32).toString("base64url");
}

/**
 * The store key part for a code: a SHA-256 with a domain label, so a dump of
 * the store hands out no live code. Null for anything that is not one of ours.
 */
export function authorizationCodeHandle(code: string): string | null {
  if (!CODE.test(code)) return null;
  return hash("sha256", `handoff/authorization-code\0${code}`, "base64url").slice(0, 32);
}
