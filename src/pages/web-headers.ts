/** Headers every verification page carries. */
import type { FastifyReply } from "fastify";

/**
 * No inline script or style (so an injected fragment cannot run), forms post
 * only to us, and no other site may frame the page (clickjacking an Approve
 * button is the classic attack on consent screens).
 */
export const CONTENT_SECURITY_POLICY = policyWithFormAction("'self'");

function policyWithFormAction(formAction: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

/** An http(s) origin whose host and port are plain (no `;`, `,` or space could reach the header). */
const PLAIN_ORIGIN = /^https?:\/\/(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The consent screen of the code grant posts to us, and our answer redirects
 * to the client: browsers apply `form-action` to that redirect too (CSP 3
 * §6.4.1), so the policy names the redirect URI's origin, or its private-use
 * scheme (RFC 8252 §7.1). Anything that is not plainly a host stays out of
 * the header; such a client then cannot be redirected to, which is safe.
 */
export function allowFormRedirectTo(reply: FastifyReply, redirectUri: string): FastifyReply {
  let source: string | undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):/.exec(redirectUri)?.[1];
  if (scheme === "http" || scheme === "https") {
    const origin = URL.canParse(redirectUri) ? new URL(redirectUri).origin : "";
    if (PLAIN_ORIGIN.test(origin)) source = origin;
  } else if (scheme !== undefined) {
    source = `${scheme}:`;
  }
  return source === undefined
    ? reply
    : reply.header("content-security-policy", policyWithFormAction(`'self' ${source}`));
}

/** Sets the security headers on any page reply. */
export function pageSecurityHeaders(reply: FastifyReply): FastifyReply {
  return (
    reply
      .header("content-security-policy", CONTENT_SECURITY_POLICY)
      .header("x-frame-options", "DENY")
      .header("x-content-type-options", "nosniff")
      // verification_uri_complete carries the user code: never pass it on in a Referer.
      .header("referrer-policy", "no-referrer")
      .header("cross-origin-opener-policy", "same-origin")
  );
}

/** Pages show codes and CSRF tokens: no cache may keep them (RFC 8628 §3.3 codes are secrets in flight). */
export function noStorePage(reply: FastifyReply): FastifyReply {
  return reply.header("cache-control", "no-store").header("pragma", "no-cache");
}

/** Sends a page: HTML, never cached (pages show codes and CSRF tokens). */
export function sendHtml(reply: FastifyReply, status: number, page: string): FastifyReply {
  return noStorePage(reply).code(status).type("text/html; charset=utf-8").send(page);
}
