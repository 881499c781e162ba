/** POST /oauth/revoke (RFC 7009): form in, domain call, empty 200 out. */
import type { FastifyInstance } from "fastify";
import type { TokenLifecycle } from "../tokens/token-lifecycle.js";
import type { TokenTypeHint } from "../tokens/token-revocation.js";
import { noStore } from "./oauth-reply.js";
import { formOf, postOnly } from "./oauth-route.js";
import { readCallerCredentials } from "./token-caller-credentials.js";

/** The RFC 7009 endpoint, below the issuer's path. */
export const REVOCATION_PATH = "/oauth/revoke";

/** Client authentication methods the endpoint accepts (RFC 8414 §2). */
export const REVOCATION_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"];

/** An unknown `token_type_hint` is ignored (RFC 7009 §2.1: the server may ignore the hint). */
export function hintOf(value: string | undefined): TokenTypeHint | undefined {
  return value === "access_token" || value === "refresh_token" ? value : undefined;
}

/** Registers POST /oauth/revoke. */
export function revocationEndpoint(
  app: FastifyInstance,
  lifecycle: TokenLifecycle,
  prefix: string,
): void {
  postOnly(app, prefix + REVOCATION_PATH, async (request, reply) => {
    const form = formOf(request);
    const creds = readCallerCredentials(request, form);
    await lifecycle.revoke(creds, form.require("token"), hintOf(form.get("token_type_hint")));
    // RFC 7009 §2.2: 200 whether or not the token was valid; the body is ignored.
    return noStore(reply).code(200).send();
  });
}
