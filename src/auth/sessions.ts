/** Page sessions: a random id in an HttpOnly cookie, the session itself in the store. */
import { createHash, randomBytes } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { SessionStore } from "../domain/ports/session-store.js";

/** Who a request belongs to. `key` (a hash of the session id) names the per-session counters. */
export interface SignedIn {
  readonly subject: string;
  readonly key: string;
  /** True for a session of ours (which sign-out ends); false when a trusted proxy vouches per request. */
  readonly viaSession: boolean;
}

/** How sessions live and what their cookie looks like. */
export interface SessionOptions {
  /** Session life in seconds. */
  readonly ttlSeconds: number;
  /** True when the issuer is https: the cookie is `Secure` and `__Host-` prefixed. */
  readonly secure: boolean;
  readonly clock?: () => number;
}

/** A session id as minted below: 32 random bytes, base64url. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

const hashId = (id: string) => createHash("sha256").update(id).digest("base64url");

/**
 * The counter key for a person whom a trusted proxy vouches for on every
 * request: their name, hashed apart from session-id hashes.
 */
export const sessionKeyOf = (subject: string) => hashId(`subject\0${subject}`);

/**
 * Starts, finds and ends sessions. The cookie is `HttpOnly` (no script can
 * read it), `SameSite=Lax` (not sent on cross-site posts) and, on https,
 * `Secure` with the `__Host-` prefix (no subdomain can set or shadow it).
 */
export class Sessions {
  readonly cookieName: string;
  private readonly found = new WeakMap<FastifyRequest, SignedIn | null>();

  constructor(
    private readonly store: SessionStore,
    private readonly options: SessionOptions,
  ) {
    this.cookieName = options.secure ? "__Host-handoff_session" : "handoff_session";
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /**
   * The session id the request's cookie carries, if it is well formed (live
   * or not): what the pages bind their CSRF tokens to. Synchronous: no store.
   */
  idOf(request: FastifyRequest): string | undefined {
    const id = request.cookies[this.cookieName];
    return id && SESSION_ID.test(id) ? id : undefined;
  }

  /** The session the request's cookie names, if it is live. */
  async current(request: FastifyRequest): Promise<SignedIn | null> {
    const cached = this.found.get(request);
    if (cached !== undefined) return cached;
    const id = this.idOf(request);
    let result: SignedIn | null = null;
    if (id) {
      const key = hashId(id);
      const session = await this.store.find(key, this.now());
      if (session) result = { subject: session.subject, key, viaSession: true };
    }
    this.found.set(request, result);
    return result;
  }

  /** Starts a new session for `subject` (a fresh id: no session fixation) and ends the old one. */
  async start(request: FastifyRequest, reply: FastifyReply, subject: string): Promise<SignedIn> {
    const old = await this.current(request);
    if (old) await this.store.destroy(old.key);
    const id = randomBytes(32).toString("base64url");
    const now = this.now();
    const key = hashId(id);
    await this.store.save(key, {
      subject,
      createdAt: now,
      expiresAt: now + this.options.ttlSeconds * 1000,
    });
    reply.setCookie(this.cookieName, id, {
      path: "/",
      httpOnly: true,
      sameSite: "lax",
      secure: this.options.secure,
      maxAge: this.options.ttlSeconds,
    });
    const signedIn = { subject, key, viaSession: true };
    this.found.set(request, signedIn);
    return signedIn;
  }

  /** Ends the request's session and clears the cookie. */
  async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const s = await this.current(request);
    if (s) await this.store.destroy(s.key);
    reply.clearCookie(this.cookieName, {
      path: "/",
      httpOnly: true,
      sameSite: "lax",
      secure: this.options.secure,
    });
    this.found.set(request, null);
  }
}
