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

/** What fastify's serializer labels a JSON body with; every JSON answer here says the same. */
export const JSON_UTF8 = "application/json; charset=utf-8";
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" } as const;

/**
 * A whole answer as data: status, headers in the order they are written, the
 * body, and the OAuth error code for the access log. The endpoints build
 * answers and do not care who writes them: fastify's reply (`writeAnswer`)
 * or the form fast path (src/http/form-fast-path.ts), which write the same
 * bytes.
 */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The OAuth error code (RFC 6749 §5.2) of a refusal, for the access log; never a secret. */
  readonly error?: string;
  /**
   * `headers` with the body's Content-Length, for an answer built once and
   * sent many times (a poll refusal): the form fast path sends it as it is
   * instead of making the set anew per request.
   */
  readonly fullHeaders?: Readonly<Record<string, string>>;
}

/** `headers` and the body's Content-Length: what the form fast path writes. */
export function withContentLength(a: Answer): Readonly<Record<string, string>> {
  return a.fullHeaders ?? { ...a.headers, "content-length": String(Buffer.byteLength(a.body)) };
}

/** A JSON answer that must not be cached: tokens, device codes, errors (RFC 6749 §5.1, RFC 8628 §3.2). */
export function noStoreJson(status: number, value: unknown): Answer {
  return { status, headers: NO_STORE_JSON, body: JSON.stringify(value) };
}

/** The headers of a JSON answer that must not be cached, in the order they are written. */
export const NO_STORE_JSON: Readonly<Record<string, string>> = {
  ...NO_STORE,
  "content-type": JSON_UTF8,
};

/** Writes an answer through fastify (which adds Content-Length, as the fast path does). */
export function writeAnswer(reply: FastifyReply, a: Answer): FastifyReply {
  if (a.error !== undefined) reply.request.oauthError = a.error;
  return reply.code(a.status).headers(a.headers).send(a.body);
}

/** `{error, error_description}` with the right status and headers. */
export function errorAnswer(
  e: OAuthErrorAnswer,
  options: { status?: number; basicAuthUsed?: boolean; unavailableRetryAfter?: number } = {},
): Answer {
  // A limit in force (docs/hostile-input.md) is 429 with Retry-After, whatever the code.
  const status = options.status ?? (e.retryAfter === undefined ? statusOf(e.code) : 429);
  const headers: Record<string, string> = { ...NO_STORE, "content-type": JSON_UTF8 };
  if (e.retryAfter !== undefined) headers["retry-after"] = String(e.retryAfter);
  else if (e.code === "invalid_client" && options.basicAuthUsed) {
    // RFC 6749 §5.2: a client that tried the Authorization header gets a challenge.
    headers["www-authenticate"] = 'Basic realm="handoff", charset="UTF-8"';
  } else if (e.code === "temporarily_unavailable") {
    headers["retry-after"] = String(options.unavailableRetryAfter ?? 5);
  }
  return { status, headers, body: JSON.stringify(errorBody(e)), error: e.code };
}

/** Sends `{error, error_description}` with the right status and headers. */
export function sendOAuthError(
  reply: FastifyReply,
  e: OAuthErrorAnswer,
  options: { status?: number; basicAuthUsed?: boolean } = {},
): FastifyReply {
  return writeAnswer(reply, errorAnswer(e, options));
}

/** The answer to an error no rule expected (logged by the caller): no detail leaves. */
export const INTERNAL_ERROR: Answer = {
  status: 500,
  headers: { "content-type": JSON_UTF8 },
  body: JSON.stringify({ error: "server_error", error_description: "internal error" }),
};

function errorBody(e: OAuthErrorAnswer): Record<string, string | number> {
  const body: Record<string, string | number> = {
    error: e.code,
    error_description: safeDescription(e.description),
  };
  // Echo the interval on slow_down: some clients read it (RFC 8628 §3.5).
  if (e.interval !== undefined) body.interval = e.interval;
  return body;
}

const REFUSAL_ANSWERS = new WeakMap<PollRefusal, Answer>();

/**
 * A poll's expected refusal (RFC 8628 §3.5), as `errorAnswer` builds it. The
 * flow hands out the same few refusal objects (one per code and interval),
 * so each answer is built once: most polls are answered so.
 */
export function pollRefusalAnswer(refusal: PollRefusal): Answer {
  let answer = REFUSAL_ANSWERS.get(refusal);
  if (answer === undefined) {
    const built = errorAnswer(refusal);
    answer = { ...built, fullHeaders: withContentLength(built) };
    REFUSAL_ANSWERS.set(refusal, answer);
  }
  return answer;
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
