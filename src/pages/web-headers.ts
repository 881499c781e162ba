/** Headers every verification page carries. */
import type { FastifyReply } from "fastify";

/**
 * No inline script or style (so an injected fragment cannot run), forms post
 * only to us, and no other site may frame the page (clickjacking an Approve
 * button is the classic attack on consent screens).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

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
