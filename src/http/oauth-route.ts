/** Route plumbing shared by the RFC endpoints: POST-only routes and the parsed form. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { OAuthError } from "../domain/oauth-error.js";
import { FormParams } from "./form-params.js";
import { noStore } from "./oauth-reply.js";

const OTHER_METHODS = ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"] as const;

/**
 * Registers a POST handler and answers every other method with 405 and
 * `Allow: POST` (RFC 8628 §3.1, RFC 6749 §3.2).
 */
export function postOnly(
  app: FastifyInstance,
  path: string,
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
): void {
  app.post(path, async (request, reply) => {
    // RFC 6749 §2.3.1: credentials must not travel in the request URI.
    const query = request.query as Record<string, unknown>;
    if (query.client_secret !== undefined) {
      throw new OAuthError(
        "invalid_request",
        "client credentials must not be sent in the query string",
      );
    }
    return handler(request, reply);
  });
  app.route({
    method: [...OTHER_METHODS],
    url: path,
    handler: async (_request, reply) => methodNotAllowed(reply),
  });
}

/** 405 with `Allow: POST` (RFC 9110 §15.5.6). */
export function methodNotAllowed(reply: FastifyReply, allow = "POST"): FastifyReply {
  return noStore(reply)
    .code(405)
    .header("allow", allow)
    .send({ error: "invalid_request", error_description: `this endpoint accepts ${allow} only` });
}

/** What the form endpoints read of a fastify request. */
export function formRequestOf(request: FastifyRequest): {
  form: FormParams;
  authorization: string | undefined;
  ip: string;
  userAgent: string | undefined;
} {
  return {
    form: formOf(request),
    authorization: request.headers.authorization,
    ip: request.ip,
    userAgent: request.headers["user-agent"],
  };
}

/** The request's form parameters (the form parser stores a FormParams as the body). */
export function formOf(request: FastifyRequest): FormParams {
  return request.body instanceof FormParams ? request.body : FormParams.empty();
}
