/** The session store port: who is signed in to the verification page. */

/** One signed-in browser. */
export interface PageSession {
  readonly subject: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms; the store forgets the session then. */
  readonly expiresAt: number;
}

/**
 * Sessions keyed by a hash of the cookie's random id, so a dump of the store
 * does not hand out live sessions. Shared through Redis, a sign-in on one
 * instance holds on every other.
 */
export interface SessionStore {
  save(idHash: string, session: PageSession): Promise<void>;
  find(idHash: string, now: number): Promise<PageSession | null>;
  destroy(idHash: string): Promise<void>;
}
