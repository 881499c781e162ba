/** Writing RFC-shaped JSON answers: one table from error code to HTTP status. */
import type { Duplex } from "node:stream";
import type { FastifyReply } from "fastify";
import type { OAuthErrorAnswer, OAuthErrorCode, PollRefusal } from "../domain/oauth-error.js";

/** RFC 6749 §5.2: 400 unless said otherwise. */
const STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  temporarily_unavailable: 503,
  not_found: 404,
  already_decided: 409,
  // RFC 6750 §3.1.
  invalid_token: 401,
};

export function statusOf(code: OAuthErrorCode): number {
  return STATUS[code] ?? 400;
}

/** RFC 6749 §5.2: error_description uses %x20-21 / %x23-5B / %x5D-7E only. */
function safeDescription(s: string): string {
  return s.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, "?");
}

/** Token responses and device codes must not be cached (RFC 6749 §5.1, RFC 8628 §3.2). */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header("cache-control", "no-store").header("pragma", "no-cache");
}

/** Sends `{error, error_description}` with the right status and headers. */
export function sendOAuthError(
  reply: FastifyReply,
  e: OAuthErrorAnswer,
  options: { status?: number; basicAuthUsed?: boolean } = {},
): FastifyReply {
  // A limit in force (docs/hostile-input.md) is 429 with Retry-After, whatever the code.
  const status = options.status ?? (e.retryAfter === undefined ? statusOf(e.code) : 429);
  noStore(reply).code(status).type("application/json");
  if (e.retryAfter !== undefined) reply.header("retry-after", String(e.retryAfter));
  else if (e.code === "invalid_client" && options.basicAuthUsed) {
    // RFC 6749 §5.2: a client that tried the Authorization header gets a challenge.
    reply.header("www-authenticate", 'Basic realm="handoff", charset="UTF-8"');
  } else if (e.code === "temporarily_unavailable") reply.header("retry-after", "5");
  return reply.send(errorBody(e));
}

function errorBody(e: OAuthErrorAnswer): Record<string, string | number> {
  const body: Record<string, string | number> = {
    error: e.code,
    error_description: safeDescription(e.description),
  };
  // Echo the interval on slow_down: some clients read it (RFC 8628 §3.5).
  if (e.interval !== undefined) body.interval = e.interval;
  return body;
}

/** What fastify's serializer would label a JSON body with. */
export const JSON_UTF8 = "application/json; charset=utf-8";
const REFUSAL_BODIES = new WeakMap<PollRefusal, Buffer>();

/**
 * A poll's expected refusal (RFC 8628 §3.5), as `sendOAuthError` writes it.
 * The flow hands out the same few refusal objects (one per code and
 * interval), so each body is serialised once and sent as bytes: most polls
 * are answered so.
 */
export function sendPollRefusal(reply: FastifyReply, refusal: PollRefusal): FastifyReply {
  let body = REFUSAL_BODIES.get(refusal);
  if (body === undefined) {
    body = Buffer.from(JSON.stringify(errorBody(refusal)));
    REFUSAL_BODIES.set(refusal, body);
  }
  return noStore(reply).code(statusOf(refusal.code)).type(JSON_UTF8).send(body);
}

/**
 * Answers a request Node's HTTP parser refused before any route saw it: a
 * control character in a header, an unknown method, headers past the size
 * limit, a header timeout. Fastify's default answer, `{"error":"Bad Request"}`
 * without `no-store`, is no RFC 6749 error (RFC 6749 §5.2; the fuzz tests found it), so
 * answer as every endpoint does, then close as Node does.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, reason, description] =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "Request Timeout", "the request took too long"]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "Request Header Fields Too Large", "the request headers are too large"]
        : [400, "Bad Request", "the request is not valid HTTP/1.1"];
  const body = JSON.stringify({ error: "invalid_request", error_description: description });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
