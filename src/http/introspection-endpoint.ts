/** POST /oauth/introspect (RFC 7662): form in, domain call, JSON out. */
import type { FastifyInstance } from "fastify";
import { isOAuthError } from "../domain/oauth-error.js";
import type { TokenLifecycle } from "../tokens/token-lifecycle.js";
import { noStore, sendOAuthError } from "./oauth-reply.js";
import { formOf, postOnly } from "./oauth-route.js";
import { hintOf } from "./revocation-endpoint.js";
import { readCallerCredentials, usedBearer } from "./token-caller-credentials.js";

/** The RFC 7662 endpoint, below the issuer's path. */
export const INTROSPECTION_PATH = "/oauth/introspect";

/**
 * Client authentication methods the endpoint accepts (RFC 8414 §2). Internal
 * services may instead present `Authorization: Bearer <HANDOFF_SERVICE_TOKEN>`
 * (not a registered method name, so not listed).
 */
export const INTROSPECTION_AUTH_METHODS = ["client_secret_basic", "client_secret_post"];

/** Registers POST /oauth/introspect. */
export function introspectionEndpoint(
  app: FastifyInstance,
  lifecycle: TokenLifecycle,
  prefix: string,
): void {
  postOnly(app, prefix + INTROSPECTION_PATH, async (request, reply) => {
    const form = formOf(request);
    try {
      const creds = readCallerCredentials(request, form);
      const result = await lifecycle.introspect(
        creds,
        form.require("token"),
        hintOf(form.get("token_type_hint")),
      );
      // RFC 7662 §2.2: inactive is exactly {"active":false}.
      return noStore(reply).type("application/json").send(result);
    } catch (e) {
      // RFC 7662 §2.3 and RFC 7235 §3.1: the 401 carries a challenge for the scheme
      // tried (Bearer for the service credential), Basic otherwise.
      if (!isOAuthError(e) || e.code !== "invalid_client") throw e;
      request.oauthError = e.code; // the access log's error field, as the error handler sets it
      if (!usedBearer(request)) return sendOAuthError(reply, e, { basicAuthUsed: true });
      reply.header("www-authenticate", 'Bearer realm="handoff", error="invalid_token"');
      return sendOAuthError(reply, e);
    }
  });
}
