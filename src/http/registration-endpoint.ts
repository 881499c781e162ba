/**
 * POST /oauth/register (RFC 7591 §3): a JSON body in, the domain's
 * registration, 201 with the §3.2.1 response out; errors per §3.2.2. Limited
 * per address through the shared attempt counters; in `token` mode the
 * initial access token (§3, RFC 6750 §2.1) is checked in constant time.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AttemptLimiter } from "../auth/attempt-limits.js";
import { bearerToken } from "../domain/bearer-credential.js";
import { type ClientRegistration, registrationResponse } from "../domain/client-registration.js";
import { isOAuthError, OAuthError } from "../domain/oauth-error.js";
import { constantTimeEqual } from "../domain/secret-hash.js";
import { noStore, sendOAuthError } from "./oauth-reply.js";
import { postOnly } from "./oauth-route.js";

export const REGISTRATION_PATH = "/oauth/register";

export interface RegistrationEndpointOptions {
  readonly registration: ClientRegistration;
  /** Required in `token` mode: the bearer credential a registrant presents. */
  readonly initialAccessToken?: string;
  readonly limiter: AttemptLimiter;
  /** The largest JSON body, in bytes (413 above). */
  readonly bodyLimit: number;
}

/** RFC 6750 §3: a missing or wrong bearer token gets a challenge. */
function refuseToken(reply: FastifyReply, request: FastifyRequest): FastifyReply {
  request.oauthError = "invalid_token";
  reply.header("www-authenticate", 'Bearer realm="handoff", error="invalid_token"');
  return sendOAuthError(
    reply,
    new OAuthError("invalid_token", "registration requires a valid initial access token"),
  );
}

/**
 * Registers the endpoint in its own encapsulated context: only here is a JSON
 * body accepted (every other endpoint takes forms), with its own size limit.
 */
export async function registrationEndpoint(
  app: FastifyInstance,
  o: RegistrationEndpointOptions,
  prefix: string,
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      "application/json",
      { parseAs: "buffer", bodyLimit: o.bodyLimit },
      (_request, body, done) => {
        try {
          done(null, JSON.parse((body as Buffer).toString("utf8")));
        } catch {
          done(new OAuthError("invalid_client_metadata", "the body is not valid JSON"), undefined);
        }
      },
    );
    // Body faults answered in RFC 7591 §3.2.2 terms; the rest goes to the app's handler.
    scope.setErrorHandler((error, request, reply) => {
      if (isOAuthError(error)) throw error;
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 413 || status === 415) {
        request.oauthError = "invalid_client_metadata";
        const description =
          status === 413
            ? `the body exceeds ${o.bodyLimit} bytes`
            : "the body must be application/json (RFC 7591 §3.1)";
        return sendOAuthError(reply, new OAuthError("invalid_client_metadata", description), {
          status: status === 413 ? 413 : 400,
        });
      }
      throw error;
    });

    postOnly(scope, prefix + REGISTRATION_PATH, async (request, reply) => {
      const slots = o.limiter.registrationSlots(request.ip);
      const verdict = await o.limiter.attempt(slots);
      if (!verdict.allowed) {
        const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
        throw new OAuthError(
          "invalid_request",
          `too many registrations from this address; retry in ${retryAfter} s`,
          { retryAfter },
        );
      }
      if (o.registration.mode === "token") {
        const presented = bearerToken(request.headers.authorization);
        if (
          presented === undefined ||
          o.initialAccessToken === undefined ||
          !constantTimeEqual(presented, o.initialAccessToken)
        ) {
          return refuseToken(reply, request);
        }
      }
      const registered = await o.registration.register(request.body ?? undefined);
      return noStore(reply).code(201).send(registrationResponse(registered));
    });
  });
}
