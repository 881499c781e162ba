/**
 * The person's side of the authorization code grant: sign-in (the same
 * authenticators and session as the device pages), the consent screen, and
 * the redirect back with `code`, `state` and `iss` (RFC 6749 §4.1.2, RFC
 * 9207). Every step checks the request again with the domain's one rule, so
 * an edited query or form cannot skip a check; a request whose client or
 * redirect URI is not known good is answered here, never redirected (§4.1.2.1).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from "fastify";
import type { SignedIn } from "../auth/sessions.js";
import type { AuthorizationCodeFlow } from "../domain/authorization-code-flow.js";
import { OAuthError } from "../domain/oauth-error.js";
import {
  answerFailedCheck,
  checkRawQuery,
  type ShowRefusal,
} from "../http/authorization-endpoint.js";
import { formOf } from "../http/oauth-route.js";
import { rawQueryOf } from "../http/query-params.js";
import { authorizationConsentPage } from "./authorization-consent-page.js";
import { outcomePage } from "./outcome-pages.js";
import { allowFormRedirectTo, pageSecurityHeaders, sendHtml } from "./web-headers.js";

/** What the pages lend the code grant's routes (see verification-pages.ts). */
export interface AuthorizationPagesContext {
  readonly codeFlow: AuthorizationCodeFlow;
  /** The pages' base path, e.g. `/device`; these routes are `${base}/authorize`. */
  readonly base: string;
  signedIn(request: FastifyRequest): Promise<SignedIn | null>;
  readonly csrf: preHandlerHookHandler;
  csrfToken(reply: FastifyReply): string;
  toSignIn(reply: FastifyReply, returnTo: string): FastifyReply;
}

/** The path of the consent step below the pages' base. */
export const AUTHORIZE_PAGE = "/authorize";

/** The refusal page for a request whose client or redirect URI is not known good (§4.1.2.1). */
export function showAuthorizationRefusal(base: string): ShowRefusal {
  return (reply, description) => {
    pageSecurityHeaders(reply);
    return sendHtml(
      reply,
      400,
      outcomePage({
        base,
        tone: "bad",
        title: "This sign-in link is not valid",
        message: `The application that sent you here made a request we cannot accept (${description}). Nothing was shared. Go back to the application and try again, or tell its developers.`,
      }),
    );
  };
}

/** Registers `${base}/authorize` (GET: the consent screen; POST: the decision) in the pages' scope. */
export function authorizationPages(app: FastifyInstance, ctx: AuthorizationPagesContext): void {
  const { codeFlow, base } = ctx;
  const refuse = showAuthorizationRefusal(base);
  const here = (raw: string) => `${base}${AUTHORIZE_PAGE}?${raw}`;

  app.get(AUTHORIZE_PAGE, async (request, reply) => {
    const raw = rawQueryOf(request.url);
    const check = await checkRawQuery(codeFlow, raw, request.ip);
    if (check.kind !== "valid") return answerFailedCheck(reply, codeFlow, check, refuse);
    const user = await ctx.signedIn(request);
    if (!user) return ctx.toSignIn(reply, here(raw));
    allowFormRedirectTo(reply, check.request.redirectUri);
    return sendHtml(
      reply,
      200,
      authorizationConsentPage({
        base,
        subject: user.subject,
        canSignOut: user.viaSession,
        csrfToken: ctx.csrfToken(reply),
        request: check.request,
        query: raw,
      }),
    );
  });

  // Approve or Deny: the request comes back in the form and is checked again.
  app.post(AUTHORIZE_PAGE, { preHandler: ctx.csrf }, async (request, reply) => {
    const form = formOf(request);
    const raw = form.get("request") ?? "";
    const user = await ctx.signedIn(request);
    if (!user) return ctx.toSignIn(reply, here(raw));
    const decision = form.get("decision");
    if (decision !== "approve" && decision !== "deny") {
      throw new OAuthError("invalid_request", "decision must be approve or deny");
    }
    const check = await checkRawQuery(codeFlow, raw, request.ip);
    if (check.kind !== "valid") return answerFailedCheck(reply, codeFlow, check, refuse);
    const answer = await codeFlow.decide(
      check.request,
      user.subject,
      decision === "approve",
      request.ip,
    );
    return reply.redirect(answer.location, 303);
  });
}
