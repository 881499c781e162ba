/**
 * The sign-in transaction store port: a sign-in through an upstream OpenID
 * Connect provider in progress, between the redirect to the provider and its
 * callback (OpenID Connect Core 1.0 §3.1.2.1: `state`, `nonce`; RFC 7636:
 * the PKCE verifier). Kept server-side, keyed by a hash of a random id in a
 * cookie of the browser that started it, so a callback counts only in that
 * browser, and only once.
 */

/** What the callback must check against. */
export interface SignInTransaction {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** A page path of ours to return to (checked when it was stored). */
  readonly returnTo: string;
  /** Epoch ms; the store forgets the transaction then. */
  readonly expiresAt: number;
}

/** Outcome of `save`: `full` when the memory store holds its cap already. */
export type SaveOutcome = "saved" | "full";

export interface SignInTransactionStore {
  save(idHash: string, tx: SignInTransaction): Promise<SaveOutcome>;
  /** The transaction, removed in the same step (a second `take` of it finds nothing). */
  take(idHash: string, now: number): Promise<SignInTransaction | null>;
}
