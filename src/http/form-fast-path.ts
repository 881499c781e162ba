/**
 * The form fast path: the two hot endpoints, the poll and the device
 * authorization (RFC 8628 §3.1, §3.4), answered from the HTTP/1.1 server's
 * request listener, in front of fastify (its `serverFactory` hands us the
 * listener). Measured with bench/instructions.ts, fastify's lifecycle (routing,
 * hooks, the content-type parser, the reply) cost more per poll than the
 * rest of the request together (docs/architecture.md "The form fast path").
 *
 * It takes only the plain case, decided from the head alone: POST, the exact
 * path with no query, HTTP/1.x, `Content-Type: application/x-www-form-urlencoded`
 * exactly, a `Content-Length` within the body limit and no other framing, the
 * app not closing. Anything else (an empty body, chunked, a charset parameter,
 * other methods, a query) goes to fastify, which answers it as before. What it
 * takes it answers with the same functions fastify's routes call (the
 * endpoints' `Answer`s, the one error translation, the one access-log line),
 * so both write the same bytes; test/http/form-fast-path.test.ts compares the
 * two byte for byte.
 */
import type http from "node:http";
import { FormParams } from "./form-params.js";
import { type Answer, withContentLength } from "./oauth-reply.js";
import type { FormRequest } from "./token-endpoint.js";

const FORM = "application/x-www-form-urlencoded";

/** One fast route: what fastify's route would compute from the same request. */
export type FormHandler = (request: FormRequest) => Promise<Answer>;

/** What a request answered by the fast path reports, exactly as fastify's onResponse hook does. */
export interface FastPathRecord {
  readonly reqId: string;
  readonly method: string;
  /** The route pattern (the path itself: fast routes have no parameters). */
  readonly route: string;
  readonly status: number;
  readonly error: string | undefined;
  readonly ms: number;
  readonly ip: string;
}

export interface FormFastPathOptions {
  /** Exact path → handler. */
  readonly routes: ReadonlyMap<string, FormHandler>;
  readonly bodyLimit: number;
  /** The client's address (the rule fastify's `request.ip` follows). */
  readonly addressOf: (req: http.IncomingMessage) => string;
  /** The request id, from the generator fastify uses too. */
  readonly nextId: () => string;
  /** Turns a thrown error into the answer fastify's error handler gives (and logs it as it does). */
  readonly failure: (error: unknown, reqId: string, basicAuthUsed: boolean) => Answer;
  /** The access log and the HTTP metrics, as for every fastify route. */
  readonly record: (r: FastPathRecord) => void;
  /** True once the app is closing: fastify then answers (503, `return503OnClosing`). */
  readonly closing: () => boolean;
}

/** A request listener step: true when it took the request, false to pass it on. */
export type FastPath = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export function createFormFastPath(o: FormFastPathOptions): FastPath {
  return (req, res) => {
    if (req.method !== "POST" || req.httpVersionMajor !== 1) return false;
    const handler = o.routes.get(req.url ?? "");
    if (handler === undefined) return false;
    const h = req.headers;
    if (h["content-type"] !== FORM || h["transfer-encoding"] !== undefined || o.closing())
      return false;
    const length = Number(h["content-length"]);
    if (!(length > 0 && length <= o.bodyLimit)) return false;
    const started = process.hrtime.bigint();
    const reqId = o.nextId();
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    // A client that goes away mid-body: nothing to answer (Node destroys the socket).
    req.on("error", () => {});
    req.on("end", () => {
      void answer(o, handler, req, Buffer.concat(chunks, length), reqId).then((a) => {
        // A string body: Node writes the head and the body in one `write`.
        res.writeHead(a.status, withContentLength(a));
        res.end(a.body);
        o.record({
          reqId,
          method: "POST",
          route: req.url ?? "",
          status: a.status,
          error: a.error,
          ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
          ip: o.addressOf(req),
        });
      });
    });
    return true;
  };
}

async function answer(
  o: FormFastPathOptions,
  handler: FormHandler,
  req: http.IncomingMessage,
  body: Buffer,
  reqId: string,
): Promise<Answer> {
  const authorization = req.headers.authorization;
  const basicAuthUsed = /^basic /i.test(authorization ?? "");
  let form: FormParams;
  try {
    form = FormParams.parse(body);
  } catch (e) {
    // As fastify answers a body its parser refused: and closes the connection.
    const refused = o.failure(e, reqId, basicAuthUsed);
    return { ...refused, headers: { connection: "close", ...refused.headers } };
  }
  try {
    return await handler({
      form,
      authorization,
      ip: o.addressOf(req),
      userAgent: req.headers["user-agent"],
    });
  } catch (e) {
    return o.failure(e, reqId, basicAuthUsed);
  }
}
