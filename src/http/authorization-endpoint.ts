/**
 * GET /oauth/authorize (RFC 6749 §4.1.1, RFC 7636 §4.3): the authorization
 * code grant's front door. It checks the request with the domain's rule and
 * answers a failure itself: a page for the person when the client or the
 * redirect URI is not known good (never a redirect, §4.1.2.1: an open
 * redirector otherwise), else the error back to the client with `state` and
 * `iss`. A good request goes on to the consent step in the pages
 * (src/pages/authorization-pages.ts), which checks it again.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { AuthorizationCodeFlow } from "../domain/authorization-code-flow.js";
import type { AuthorizationCheck } from "../domain/authorization-request.js";
import { parseQuery, rawQueryOf } from "./query-params.js";

/** The authorization endpoint, below the issuer's path. */
export const AUTHORIZE_PATH = "/oauth/authorize";

/** Shows a person why an authorization request is refused (a page, never a redirect). */
export type ShowRefusal = (reply: FastifyReply, description: string) => FastifyReply;

/**
 * Checks a raw query; a malformed encoding is refused like a request without
 * a client. `address` is the requester's (a metadata-document fetch it causes
 * is charged to it, docs/client-registration.md).
 */
export async function checkRawQuery(
  codeFlow: AuthorizationCodeFlow,
  raw: string,
  address: string,
): Promise<AuthorizationCheck> {
  const query = parseQuery(raw);
  if (query === null) {
    return { kind: "refused", description: "the request is not valid URL encoding" };
  }
  return codeFlow.check(query, { address });
}

/** Answers a failed check: the refusal page, or the error at the client's redirect URI. */
export function answerFailedCheck(
  reply: FastifyReply,
  codeFlow: AuthorizationCodeFlow,
  check: Exclude<AuthorizationCheck, { kind: "valid" }>,
  showRefusal: ShowRefusal,
): FastifyReply {
  if (check.kind === "error") {
    reply.request.oauthError = check.error;
    return reply.redirect(codeFlow.errorResponse(check).location, 303);
  }
  reply.request.oauthError = "invalid_request";
  return showRefusal(reply, check.description);
}

/** Registers GET (and HEAD) `${prefix}/oauth/authorize`; a good request goes on to `consentPath`. */
export function authorizationEndpoint(
  app: FastifyInstance,
  codeFlow: AuthorizationCodeFlow,
  prefix: string,
  consentPath: string,
  showRefusal: ShowRefusal,
): void {
  app.get(prefix + AUTHORIZE_PATH, async (request, reply) => {
    const raw = rawQueryOf(request.url);
    const check = await checkRawQuery(codeFlow, raw, request.ip);
    if (check.kind !== "valid") return answerFailedCheck(reply, codeFlow, check, showRefusal);
    // The query goes on unchanged; the consent step checks it again.
    return reply.header("cache-control", "no-store").redirect(`${consentPath}?${raw}`, 303);
  });
}
