/**
 * Sign-in through the company's OpenID Connect provider
 * (HANDOFF_AUTHENTICATOR=oidc): `GET <base>/sign-in` sends the browser to
 * the provider with a fresh `state`, `nonce` and PKCE challenge, and
 * `GET <base>/sign-in/callback` takes the answer back. What the callback
 * must check lives server-side (the sign-in transaction store), under a hash
 * of a random id in an HttpOnly cookie of the browser that started it, and is
 * removed by the first callback that reads it: a callback in another browser,
 * with an edited `state`, or a second time finds nothing and signs no one in.
 * The session it starts is handoff's own (src/auth/sessions.ts), as for
 * local users.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { SignInTransactionStore } from "../domain/ports/sign-in-transaction-store.js";
import { endWarned } from "./attempt-limits.js";
import type { Authenticator, SignInContext } from "./authenticator.js";
import { tooManyMessage } from "./local-authenticator.js";
import { type ClaimRules, claimsNeeded, subjectFromClaims } from "./oidc-claims.js";
import { loggableError, RelyingParty, type RelyingPartyOptions } from "./oidc-relying-party.js";

/** The callback's path below the sign-in route. */
export const CALLBACK_PATH = "/callback";

export interface OidcAuthenticatorOptions {
  readonly relyingParty: Omit<RelyingPartyOptions, "redirectUri">;
  readonly rules: ClaimRules;
  /** handoff's own issuer URL: the callback's origin (and https → `Secure`, `__Host-` cookie). */
  readonly handoffIssuer: string;
  readonly transactions: SignInTransactionStore;
  /** Seconds a person has to finish at the provider (HANDOFF_OIDC_LOGIN_TTL). */
  readonly loginTtlSeconds: number;
  readonly clock?: () => number;
}

const hashId = (id: string) => createHash("sha256").update(id).digest("base64url");

/** Constant-time equality of two strings (the `state` is a secret of this browser's sign-in). */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class OidcAuthenticator implements Authenticator {
  readonly kind = "oidc";
  private readonly cookieName: string;
  private readonly secure: boolean;

  constructor(private readonly o: OidcAuthenticatorOptions) {
    this.secure = new URL(o.handoffIssuer).protocol === "https:";
    this.cookieName = this.secure ? "__Host-handoff_oidc" : "handoff_oidc";
  }

  subjectOf(): undefined {
    return undefined;
  }

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }

  register(app: FastifyInstance, ctx: SignInContext): void {
    // The pages' scope prefix (<issuer path>/device): the callback's absolute URL is ours alone.
    const redirectUri = `${new URL(this.o.handoffIssuer).origin}${app.prefix}${ctx.path}${CALLBACK_PATH}`;
    const rp = new RelyingParty({ ...this.o.relyingParty, redirectUri });
    rp.warm();

    const notice = (
      reply: FastifyReply,
      status: number,
      title: string,
      message: string,
      tone: "bad" | "info" = "bad",
    ) => ctx.sendPage(reply, status, { kind: "notice", tone, title, message });
    const unreachable = (request: FastifyRequest, reply: FastifyReply, e: unknown) => {
      request.log.warn(
        { reqId: request.id, authenticator: "oidc", err: loggableError(e) },
        "identity provider unreachable",
      );
      reply.header("retry-after", "5");
      return notice(
        reply,
        503,
        "Sign-in is unavailable",
        "We can't reach your organisation's sign-in service right now. Wait a moment and try again.",
        "info",
      );
    };

    app.get(ctx.path, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const returnTo = ctx.safeReturnTo(
        typeof query.return_to === "string" ? query.return_to : undefined,
      );
      if (await ctx.sessions.current(request)) return reply.redirect(returnTo, 303);
      let start: Awaited<ReturnType<RelyingParty["authorizationRequest"]>>;
      try {
        start = await rp.authorizationRequest();
      } catch (e) {
        return unreachable(request, reply, e);
      }
      const id = randomBytes(32).toString("base64url");
      const saved = await this.o.transactions.save(hashId(id), {
        state: start.state,
        nonce: start.nonce,
        codeVerifier: start.codeVerifier,
        returnTo,
        expiresAt: this.now() + this.o.loginTtlSeconds * 1000,
      });
      if (saved === "full") {
        reply.header("retry-after", "30");
        return notice(
          reply,
          503,
          "Please try again",
          "Too many sign-ins are in progress right now. Wait a minute and try again.",
          "info",
        );
      }
      // One sign-in in progress per browser: a newer one replaces the cookie.
      reply.setCookie(this.cookieName, id, {
        path: "/",
        httpOnly: true,
        // Lax: sent on the provider's top-level redirect back to us, not on cross-site posts.
        sameSite: "lax",
        secure: this.secure,
        maxAge: this.o.loginTtlSeconds,
      });
      return reply.redirect(start.url.href, 303);
    });

    app.get(`${ctx.path}${CALLBACK_PATH}`, async (request, reply) => {
      // Failed callbacks count as failed sign-ins, per address and globally
      // (there is no account to charge before the provider has answered).
      const slots = ctx.limiter
        .signInSlots(request.ip, "")
        .filter((slot) => !slot.key.includes(":user:"));
      // Charged only if the callback fails (docs/verification-page.md "Limits on guessing").
      const check = await ctx.limiter.check(slots, ctx.limiter.limits.pageCheckLeaseMs);
      if (!check.allowed) {
        reply.header("retry-after", Math.ceil(check.retryAfterMs / 1000));
        request.log.warn(
          { reqId: request.id, limit: "sign-in", ip: request.ip },
          "sign-in attempts limited",
        );
        return notice(reply, 429, "Too many attempts", tooManyMessage(check.retryAfterMs), "info");
      }
      const end = endWarned(
        check,
        request.log,
        { reqId: request.id, limit: "sign-in", ip: request.ip },
        "sign-in",
      );
      const refused = async (reason: string, status: number, title: string, message: string) => {
        await end(true);
        request.log.warn({ reqId: request.id, authenticator: "oidc", reason }, "sign-in refused");
        return notice(reply, status, title, message);
      };
      const id = request.cookies[this.cookieName];
      reply.clearCookie(this.cookieName, {
        path: "/",
        httpOnly: true,
        sameSite: "lax",
        secure: this.secure,
      });
      const tx =
        id && /^[A-Za-z0-9_-]{43}$/.test(id)
          ? await this.o.transactions.take(hashId(id), this.now()).catch((e: unknown) => {
              void end(false); // a store fault is no failed sign-in
              throw e;
            })
          : null;
      const raw = request.url.indexOf("?");
      const query = raw === -1 ? "" : request.url.slice(raw + 1);
      const params = new URLSearchParams(query);
      if (tx === null) {
        return refused(
          "no_transaction",
          400,
          "This sign-in link has expired",
          "It was already used, took too long, or was opened in another browser. Start again from the page you were on.",
        );
      }
      if (!sameSecret(params.get("state") ?? "", tx.state)) {
        return refused(
          "state_mismatch",
          400,
          "This sign-in could not be accepted",
          "The answer from your identity provider did not belong to this sign-in, so no one was signed in. Start again from the page you were on.",
        );
      }
      const error = params.get("error");
      if (error !== null) {
        return refused(
          `provider_error:${error.slice(0, 32).replace(/[^a-z_]/g, "_")}`,
          error === "access_denied" ? 403 : 400,
          "Sign-in was not completed",
          "Your identity provider did not sign you in. Start again from the page you were on.",
        );
      }
      let claims: Readonly<Record<string, unknown>>;
      try {
        const answer = await rp.redeem(query, tx);
        claims = answer.claims;
        const sub = claims.sub;
        const missing = claimsNeeded(this.o.rules).some((c) => !(c in claims));
        if (missing && typeof sub === "string") {
          const info = await rp.userInfo(answer.accessToken, sub);
          if (info) claims = { ...info, ...claims };
        }
      } catch (e) {
        await end(true);
        request.log.warn(
          { reqId: request.id, authenticator: "oidc", err: loggableError(e) },
          "sign-in refused",
        );
        return notice(
          reply,
          400,
          "This sign-in could not be accepted",
          "Your identity provider's answer could not be verified, so no one was signed in. Start again from the page you were on.",
        );
      }
      const verdict2 = subjectFromClaims(claims, this.o.rules);
      if (!verdict2.ok) {
        return refused(
          verdict2.refusal.reason,
          403,
          verdict2.refusal.title,
          verdict2.refusal.message,
        );
      }
      void end(false);
      await ctx.sessions.start(request, reply, verdict2.subject);
      request.log.info(
        { reqId: request.id, authenticator: "oidc", subject: verdict2.subject },
        "signed in through the identity provider",
      );
      return reply.redirect(ctx.safeReturnTo(tx.returnTo), 303);
    });
  }
}
