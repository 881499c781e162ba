/**
 * The names of one redemption's token set, derived instead of drawn, so that
 * a retry after a failed issuance gets the same set and never a second one
 * (docs/failure.md "Exactly once across faults").
 *
 * The key is the redeemed code itself (a 256-bit CSPRNG secret that only the
 * client holds; the store keeps only its hash) with the request's issuance
 * nonce (random, in the store): deriving needs both, so neither a dump of the
 * store nor a device code leaked after its record is gone gives the refresh
 * token. HMAC-SHA256 with distinct labels gives independent values.
 */
import { createHmac } from "node:crypto";
import { csprngBase64url } from "./csprng-pool.js";

/**
 * Seconds after a consumption in which a retry of a failed issuance gets the
 * same token set (HANDOFF_TOKEN_RETRY_WINDOW), for both grants.
 */
export const DEFAULT_RETRY_WINDOW = 60;

/**
 * How long an issuance attempt on a store with this deadline holds its lease
 * (docs/failure.md "Why a lease"): the two store calls after the consumption
 * (the family, the confirmation), each within the deadline, and a signature.
 */
export function issuanceLeaseMs(storeDeadlineMs: number): number {
  return 2 * storeDeadlineMs + 1000;
}

/**
 * The Retry-After (s) of a 503 when the store did not answer: never sooner
 * than an attempt's lease, so a client that waits it comes back as a retry,
 * not as a duplicate of an attempt that may still be running (which is
 * `invalid_grant`); at least 5 s.
 */
export function unavailableRetryAfter(leaseMs: number): number {
  return Math.max(5, Math.ceil(leaseMs / 1000));
}

/** Bytes of a request's issuance nonce (128 bits, base64url in the record). */
const NONCE_BYTES = 16;

/** A new issuance nonce for a device authorization request. */
export function mintIssuanceNonce(): string {
  return csprngBase64url(NONCE_BYTES);
}

/** What TokenLifecycle needs to issue the one token set of a consumption. */
export interface Issuance {
  /** HMAC key for the set's ids and secret: see `issuanceSeed`. */
  readonly seed: Buffer;
  /** Epoch ms of the consumption: the tokens' issue time, the same on every retry. */
  readonly issuedAt: number;
  /** Epoch ms until which a retry of this consumption may still come. */
  readonly retryUntil: number;
}

/** The seed of a code's token set: HMAC-SHA256 keyed by the code, over the nonce. */
export function issuanceSeed(code: string, nonce: string): Buffer {
  return createHmac("sha256", code).update("handoff/issuance\0").update(nonce).digest();
}

/** `bytes` of the value named `label` under `seed`, base64url. */
export function deriveFromSeed(seed: Buffer, label: string, bytes: number): string {
  return createHmac("sha256", seed)
    .update(`handoff/issuance/${label}`)
    .digest()
    .subarray(0, bytes)
    .toString("base64url");
}

/** The family id, first refresh token and first `jti` of a consumption (the formats of refresh-token.ts). */
export function issuanceNames(seed: Buffer): {
  readonly familyId: string;
  readonly refreshToken: string;
  readonly jti: string;
} {
  const familyId = deriveFromSeed(seed, "family", 16);
  return {
    familyId,
    refreshToken: `${familyId}.${deriveFromSeed(seed, "refresh-token", 32)}`,
    jti: `${familyId}.${deriveFromSeed(seed, "jti", 16)}`,
  };
}

/**
 * The steps after a consumption, for both grants: issue the consumption's
 * token set, end the attempt's lease if that throws, confirm delivery if it
 * does not (docs/failure.md "Exactly once across faults").
 */
export interface OnceSteps<T, C> {
  /** Issues the set named by the consumption's issuance (the same on every retry). */
  readonly issue: () => Promise<T>;
  /** Ends the lease of this failed attempt: its retry need not wait it out. */
  readonly release: () => Promise<void>;
  /** Marks the set delivered: no retry gets it again. */
  readonly confirm: (issued: T) => Promise<C>;
}

/**
 * Runs `steps`: the issued set, and the confirmation's answer (undefined when
 * the confirmation failed). Release and confirmation are best effort: a store
 * that cannot take them leaves the retry to the lease, or lets a retry inside
 * the window get the same set again, which is harmless. A failed issuance
 * throws, after the release.
 */
export async function issueOnce<T, C>(
  steps: OnceSteps<T, C>,
): Promise<{ readonly issued: T; readonly confirmed: C | undefined }> {
  let issued: T;
  try {
    issued = await steps.issue();
  } catch (e) {
    await steps.release().catch(() => undefined);
    throw e;
  }
  const confirmed = await steps.confirm(issued).catch(() => undefined);
  return { issued, confirmed };
}
