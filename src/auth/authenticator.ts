/**
 * The sign-in seam. The verification pages ask only two things of an
 * authenticator: does this request itself prove who is there (a trusted
 * proxy header), and where does a person go to sign in. Everything about
 * *how* they sign in (a password form, an upstream OpenID Connect login with
 * its redirect and callback) lives behind `register`, so a new way to sign
 * in adds an authenticator and leaves the pages alone.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from "fastify";
import type { AttemptLimiter } from "./attempt-limits.js";
import type { Sessions } from "./sessions.js";

/** What the pages lend an authenticator's sign-in routes. */
export interface SignInContext {
  /** The sign-in route, relative to the pages' prefix (`/sign-in` → `/device/sign-in`); other routes of the authenticator go under it (e.g. `/sign-in/callback`). */
  readonly path: string;
  readonly sessions: Sessions;
  /** Failed sign-ins are limited per address, per account and globally. */
  readonly limiter: AttemptLimiter;
  /** Checks the CSRF token of a form post; use as a route's `preHandler`. */
  readonly csrf: preHandlerHookHandler;
  /** A fresh CSRF token for a form this reply renders. */
  csrfToken(reply: FastifyReply): string;
  /** `raw` if it is a page path of ours, else the code-entry page (no open redirects). */
  safeReturnTo(raw: string | undefined): string;
  /** The parsed form of a POST (the HTTP transport's parser; empty when there was none). */
  formOf(request: FastifyRequest): FormFields;
  /** Sends an HTML page in the product's layout, with the headers every page gets. */
  sendPage(reply: FastifyReply, status: number, page: SignInPage): FastifyReply;
}

/** Form fields as the HTTP transport parsed them: the first value of each name. */
export interface FormFields {
  get(name: string): string | undefined;
}

/** The sign-in pages an authenticator may show; the pages module renders them. */
export type SignInPage =
  | {
      readonly kind: "password-form";
      readonly csrfToken: string;
      readonly returnTo: string;
      readonly username?: string;
      readonly error?: string;
    }
  | { readonly kind: "proxy-required" }
  /** A sign-in that could not finish (an upstream provider's refusal, a stale callback). */
  | {
      readonly kind: "notice";
      readonly tone: "bad" | "info";
      readonly title: string;
      readonly message: string;
    };

/** A way to sign in to the verification page. */
export interface Authenticator {
  /** Shown in logs and the README: `local`, `trusted-header`, … */
  readonly kind: string;
  /**
   * Who the request itself proves is there, checked on every request:
   * a subject; `null` when this authenticator vouches per request and this
   * one proves no one (then no session counts either); `undefined` when
   * identity comes from the session alone.
   */
  subjectOf(request: FastifyRequest): string | null | undefined;
  /** Registers the sign-in routes under `ctx.path`. */
  register(app: FastifyInstance, ctx: SignInContext): void;
}
