/**
 * The verification pages (RFC 8628 §3.3): code entry at `verification_uri`,
 * sign-in through the configured authenticator, the consent screen and the
 * results. Approve and Deny call `DeviceFlow.decide`, the domain operation
 * behind the Approve RPC; no flow rule is repeated here.
 */
import fastifyCookie from "@fastify/cookie";
import fastifyCsrf from "@fastify/csrf-protection";
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from "fastify";
import { type AttemptLimiter, endWarned } from "../auth/attempt-limits.js";
import type { Authenticator, SignInContext } from "../auth/authenticator.js";
import { tooManyMessage } from "../auth/local-authenticator.js";
import { type Sessions, type SignedIn, sessionKeyOf } from "../auth/sessions.js";
import type { AuthorizationCodeFlow } from "../domain/authorization-code-flow.js";
import type { ConnectedDevices } from "../domain/connected-devices.js";
import type { DeviceAuthorizationView, DeviceFlow } from "../domain/device-flow.js";
import { isOAuthError, OAuthError } from "../domain/oauth-error.js";
import { formatUserCode, normalizeUserCode } from "../domain/user-code.js";
import { formOf } from "../http/oauth-route.js";
import { AUTHORIZE_PAGE, authorizationPages } from "./authorization-pages.js";
import { codeEntryPage } from "./code-entry-page.js";
import { connectionsPage } from "./connections-page.js";
import { consentPage } from "./consent-page.js";
import {
  alreadyDecidedPage,
  approvedPage,
  clientDisabledPage,
  deniedPage,
  expiredPage,
  outcomePage,
  reportedPage,
} from "./outcome-pages.js";
import { pageErrors } from "./page-errors.js";
import { signInPage } from "./sign-in-page.js";
import { staticAssets } from "./static-assets.js";
import { pageSecurityHeaders, sendHtml } from "./web-headers.js";

/** What the pages are built from (see src/server/verification-setup.ts). */
export interface VerificationPagesOptions {
  readonly flow: DeviceFlow;
  /** The authorization code grant's consent step, at `${base}/authorize`. */
  readonly codeFlow?: AuthorizationCodeFlow;
  /** The "Connected devices" page at `${base}/connections`, when given. */
  readonly connections?: ConnectedDevices;
  readonly authenticator: Authenticator;
  readonly sessions: Sessions;
  readonly limiter: AttemptLimiter;
  /** The pages' path, e.g. `/device` (the issuer's path, if any, in front). */
  readonly base: string;
  /** True when the issuer is https: cookies get `Secure` and the `__Host-` prefix. */
  readonly secure: boolean;
  /**
   * The key CSRF tokens are bound to their session with (HMAC), the same on
   * every instance (HANDOFF_CSRF_SECRET; see src/server/verification-setup.ts).
   */
  readonly csrfKey: Buffer;
  readonly clock?: () => number;
}

/** Registers the pages; `app` must be a plugin scope whose prefix is `o.base`. */
export async function verificationPages(
  app: FastifyInstance,
  o: VerificationPagesOptions,
): Promise<void> {
  const { flow, sessions, limiter, base } = o;
  const now = () => new Date((o.clock ?? Date.now)());

  await app.register(fastifyCookie);
  /**
   * What a form's token is bound to: the session cookie's id, or the person a
   * trusted proxy vouches for; `anonymous` before sign-in. The double-submit secret
   * alone was not enough: whoever can plant a cookie for
   * the host could plant their own secret with its token and post as the
   * victim. Bound, a token made for any other session (or none) fails, and
   * nobody without the key can make one for a session they do not have.
   */
  const csrfBinding = (request: FastifyRequest): string => {
    const proven = o.authenticator.subjectOf(request);
    if (proven !== undefined) return proven === null ? "anonymous" : `person:${proven}`;
    const id = sessions.idOf(request);
    return id === undefined ? "anonymous" : `session:${id}`;
  };
  await app.register(fastifyCsrf, {
    // Double submit: a random secret in an HttpOnly cookie, a token derived from it in each form,
    // keyed (hmacKey) and bound to the session (userInfo).
    cookieKey: o.secure ? "__Host-handoff_csrf" : "handoff_csrf",
    cookieOpts: { path: "/", httpOnly: true, sameSite: "lax", secure: o.secure },
    csrfOpts: { hmacKey: o.csrfKey },
    getUserInfo: csrfBinding,
    getToken: (request) => {
      try {
        return formOf(request).get("_csrf");
      } catch {
        return undefined;
      }
    },
  });
  app.addHook("onRequest", async (_request, reply) => {
    pageSecurityHeaders(reply);
  });
  pageErrors(app, base);
  staticAssets(app);

  const csrfToken = (reply: FastifyReply) =>
    reply.generateCsrf({ userInfo: csrfBinding(reply.request) });
  const tokenCheck = app.csrfProtection.bind(app);
  /**
   * Every form post: a browser that says the post comes from another site
   * (Fetch Metadata, `Sec-Fetch-Site`) is refused before the token is read,
   * which also covers the sign-in form, whose token has no session to be
   * bound to yet; then the bound token.
   */
  const csrf: preHandlerHookHandler = (request, reply, done) => {
    const site = request.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none") {
      const refusal = Object.assign(new Error("cross-site form post"), {
        statusCode: 403,
        code: "FST_CSRF_CROSS_SITE",
      });
      reply.send(refusal);
      return;
    }
    tokenCheck(request, reply, done);
  };

  /** The signed-in person: from the request itself (trusted proxy) or from the session. */
  async function signedIn(request: FastifyRequest): Promise<SignedIn | null> {
    const proven = o.authenticator.subjectOf(request);
    if (proven === undefined) return sessions.current(request);
    // Vouched for on every request: no session, and the per-session guess counter is per person,
    // so dropping cookies does not buy a fresh allowance.
    return proven === null
      ? null
      : { subject: proven, key: sessionKeyOf(proven), viaSession: false };
  }

  const signInPath = `${base}/sign-in`;
  const toSignIn = (reply: FastifyReply, returnTo: string) =>
    reply.redirect(`${signInPath}?return_to=${encodeURIComponent(returnTo)}`, 303);

  /** A local page path to come back to after sign-in; anything else is the code-entry page. */
  function safeReturnTo(raw: string | undefined): string {
    if (!raw) return base;
    try {
      const u = new URL(raw, "http://handoff.invalid");
      const ours =
        u.origin === "http://handoff.invalid" &&
        (u.pathname === base ||
          u.pathname === `${base}/` ||
          (o.connections !== undefined && u.pathname === `${base}/connections`) ||
          (o.codeFlow !== undefined && u.pathname === base + AUTHORIZE_PAGE)) &&
        !raw.startsWith("//");
      return ours ? u.pathname + u.search : base;
    } catch {
      return base;
    }
  }

  /**
   * Runs a code lookup under the guess limits (RFC 8628 §5.1): a check that
   * holds a place in flight and is charged only if the code turned out not
   * to exist (docs/verification-page.md "Limits on guessing"). A right code,
   * or a lookup the store failed, only frees its place, without waiting on
   * the store: no fault can leave a charge on it.
   */
  async function underGuessLimit<T>(
    request: FastifyRequest,
    user: SignedIn,
    op: () => Promise<T>,
  ): Promise<{ value: T } | { retryAfterMs: number }> {
    // Per person, not per session: signing in again buys no fresh allowance.
    const slots = limiter.codeSlots(request.ip, sessionKeyOf(user.subject));
    const check = await limiter.check(slots, limiter.limits.pageCheckLeaseMs);
    if (!check.allowed) {
      request.log.warn(
        { reqId: request.id, limit: "user-code", ip: request.ip },
        "user-code attempts limited",
      );
      return { retryAfterMs: check.retryAfterMs };
    }
    const end = endWarned(
      check,
      request.log,
      { reqId: request.id, limit: "user-code", ip: request.ip },
      "user-code",
    );
    try {
      const value = await op();
      void end(false);
      return { value };
    } catch (e) {
      // A wrong code is charged before it is answered; anything else is no guess.
      if (isOAuthError(e) && e.code === "not_found") await end(true);
      else void end(false);
      throw e;
    }
  }

  // The authenticator's routes live in this scope, so its path is relative to `base`.
  const ctx: SignInContext = {
    path: "/sign-in",
    sessions,
    limiter,
    csrf,
    csrfToken,
    safeReturnTo,
    formOf,
    sendPage: (reply, status, page) => sendHtml(reply, status, signInPage(base, page)),
  };
  o.authenticator.register(app, ctx);

  if (o.codeFlow) {
    authorizationPages(app, { codeFlow: o.codeFlow, base, signedIn, csrf, csrfToken, toSignIn });
  }

  const connections = o.connections;
  if (connections) {
    const CONNECTIONS = "/connections";
    const showConnections = async (
      reply: FastifyReply,
      user: SignedIn,
      status: number,
      notice?: string,
    ) =>
      sendHtml(
        reply,
        status,
        connectionsPage({
          base,
          subject: user.subject,
          canSignOut: user.viaSession,
          csrfToken: csrfToken(reply),
          devices: await connections.list(user.subject),
          now: now(),
          ...(notice === undefined ? {} : { notice }),
        }),
      );
    app.get(CONNECTIONS, async (request, reply) => {
      const user = await signedIn(request);
      if (!user) return toSignIn(reply, base + CONNECTIONS);
      return showConnections(reply, user, 200);
    });
    // Disconnect: only the owner's own family; any other id is 404 and changes nothing.
    app.post(`${CONNECTIONS}/disconnect`, { preHandler: csrf }, async (request, reply) => {
      const user = await signedIn(request);
      if (!user) return toSignIn(reply, base + CONNECTIONS);
      const family = (formOf(request).get("family") ?? "").slice(0, 128);
      if (!(await connections.disconnect(user.subject, family))) {
        return sendHtml(
          reply,
          404,
          outcomePage({
            base,
            tone: "info",
            title: "No such connection",
            message:
              "That device is not connected to your account (it may already be disconnected).",
          }),
        );
      }
      return showConnections(
        reply,
        user,
        200,
        "Disconnected. That device can no longer use your account.",
      );
    });
  }

  app.post("/sign-out", { preHandler: csrf }, async (request, reply) => {
    await sessions.end(request, reply);
    return reply.redirect(base, 303);
  });

  // verification_uri, and verification_uri_complete with ?user_code= (RFC 8628 §3.3, §3.3.1).
  app.get("/", async (request, reply) => {
    const user = await signedIn(request);
    const query = request.query as Record<string, unknown>;
    const given = typeof query.user_code === "string" ? query.user_code.slice(0, 32) : "";
    if (!user) return toSignIn(reply, safeReturnTo(request.url));
    const canonical = normalizeUserCode(given);
    return sendHtml(
      reply,
      200,
      codeEntryPage({
        base,
        subject: user.subject,
        canSignOut: user.viaSession,
        csrfToken: csrfToken(reply),
        value: canonical ? formatUserCode(canonical) : given,
        prefilled: given !== "",
      }),
    );
  });

  // The code is submitted: show the consent screen for it. Never decides anything (§3.3.1).
  app.post("/", { preHandler: csrf }, async (request, reply) => {
    const user = await signedIn(request);
    if (!user) return toSignIn(reply, base);
    const typed = (formOf(request).get("user_code") ?? "").slice(0, 32);
    const again = (status: number, error: string) =>
      sendHtml(
        reply,
        status,
        codeEntryPage({
          base,
          subject: user.subject,
          canSignOut: user.viaSession,
          csrfToken: csrfToken(reply),
          value: typed,
          error,
        }),
      );
    // Not a guess: a malformed code cannot match anything, so it is not charged.
    if (normalizeUserCode(typed) === null) {
      return again(
        400,
        typed === ""
          ? "Enter the code shown on your device."
          : "That isn't a device code. A code has 8 letters and digits, like ABCD-EFGH.",
      );
    }
    let result: { value: DeviceAuthorizationView } | { retryAfterMs: number };
    try {
      result = await underGuessLimit(request, user, () => flow.describe(typed));
    } catch (e) {
      if (isOAuthError(e) && e.code === "not_found") {
        return again(
          400,
          "No request is waiting for that code. Check it against your device; if it has expired, start again there.",
        );
      }
      if (isOAuthError(e) && e.code === "unauthorized_client") {
        return sendHtml(reply, 403, clientDisabledPage(base));
      }
      throw e;
    }
    if ("retryAfterMs" in result) {
      reply.header("retry-after", Math.ceil(result.retryAfterMs / 1000));
      return again(429, tooManyMessage(result.retryAfterMs));
    }
    if (result.value.status !== "pending") return sendHtml(reply, 409, alreadyDecidedPage(base));
    return sendHtml(
      reply,
      200,
      consentPage({
        base,
        subject: user.subject,
        canSignOut: user.viaSession,
        csrfToken: csrfToken(reply),
        request: result.value,
        viewerIp: request.ip,
        now: now(),
      }),
    );
  });

  // Approve or Deny: the same domain operation as the Approve RPC, for the signed-in subject.
  app.post("/decision", { preHandler: csrf }, async (request, reply) => {
    const user = await signedIn(request);
    if (!user) return toSignIn(reply, base);
    const form = formOf(request);
    const userCode = form.require("user_code").slice(0, 32);
    const decision = form.get("decision");
    if (decision !== "approve" && decision !== "deny" && decision !== "report") {
      throw new OAuthError("invalid_request", "decision must be approve, deny or report");
    }
    const approve = decision === "approve";
    // "I didn't start this": a denial with a phishing report (audit event and metric).
    const reportPhishing = decision === "report";
    let result:
      | { value: { clientName: string; requesterAddress: string } }
      | { retryAfterMs: number };
    try {
      // decide() reads the request itself and names its client: no separate lookup.
      result = await underGuessLimit(request, user, () =>
        flow.decide({
          userCode,
          subject: user.subject,
          approve,
          reportPhishing,
          approverAddress: request.ip,
        }),
      );
    } catch (e) {
      if (isOAuthError(e) && e.code === "not_found") return sendHtml(reply, 410, expiredPage(base));
      if (isOAuthError(e) && e.code === "already_decided") {
        return sendHtml(reply, 409, alreadyDecidedPage(base));
      }
      if (isOAuthError(e) && e.code === "unauthorized_client") {
        return sendHtml(reply, 403, clientDisabledPage(base));
      }
      throw e;
    }
    if ("retryAfterMs" in result) {
      reply.header("retry-after", Math.ceil(result.retryAfterMs / 1000));
      return sendHtml(
        reply,
        429,
        outcomePage({
          base,
          tone: "info",
          title: "Too many attempts",
          message: tooManyMessage(result.retryAfterMs),
        }),
      );
    }
    const name = result.value.clientName;
    if (reportPhishing) {
      return sendHtml(reply, 200, reportedPage(base, name, result.value.requesterAddress));
    }
    return sendHtml(reply, 200, approve ? approvedPage(base, name) : deniedPage(base, name));
  });
}
