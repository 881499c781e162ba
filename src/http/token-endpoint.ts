/**
 * POST /oauth/token (RFC 6749 §3.2): the device-code grant (RFC 8628 §3.4),
 * the authorization code grant with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5) and
 * refresh (RFC 6749 §6).
 */
import type { FastifyInstance } from "fastify";
import type { AuthorizationCodeFlow } from "../domain/authorization-code-flow.js";
import {
  AUTHORIZATION_CODE_GRANT,
  DEVICE_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
} from "../domain/client.js";
import type { DeviceFlow } from "../domain/device-flow.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { TokenSet } from "../domain/ports/token-issuer.js";
import { parseScope } from "../domain/scope.js";
import type { TokenLifecycle } from "../tokens/token-lifecycle.js";
import { readClientCredentials } from "./client-credentials.js";
import { noStore, sendPollRefusal } from "./oauth-reply.js";
import { formOf, postOnly } from "./oauth-route.js";

/** The token endpoint, below the issuer's path. */
export const TOKEN_PATH = "/oauth/token";

/** Grant types this endpoint serves; the metadata advertises exactly these. */
export const SUPPORTED_GRANTS = [
  DEVICE_CODE_GRANT,
  AUTHORIZATION_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
] as const;

/** Registers POST /oauth/token: form in, domain call, RFC 6749 §5.1 JSON out. */
export function tokenEndpoint(
  app: FastifyInstance,
  flow: DeviceFlow,
  lifecycle: TokenLifecycle,
  codeFlow: AuthorizationCodeFlow,
  prefix: string,
): void {
  postOnly(app, prefix + TOKEN_PATH, async (request, reply) => {
    const form = formOf(request);
    const grantType = form.require("grant_type");
    const credentials = readClientCredentials(request.headers.authorization, form, request.ip);
    // RFC 8707 §2: `resource` may repeat; it narrows the audience of this access token.
    const resources = form.getAll("resource");
    let tokens: TokenSet;
    if (grantType === DEVICE_CODE_GRANT) {
      const result = await flow.poll(credentials, form.require("device_code"), { resources });
      if (!result.ok) {
        // The usual answer to a poll: written directly, not thrown to the error handler.
        request.oauthError = result.refusal.code;
        return sendPollRefusal(reply, result.refusal);
      }
      tokens = result.tokens;
    } else if (grantType === AUTHORIZATION_CODE_GRANT) {
      const redirectUri = form.get("redirect_uri");
      const codeVerifier = form.get("code_verifier");
      tokens = await codeFlow.redeem({
        credentials,
        code: form.require("code"),
        ...(redirectUri === undefined ? {} : { redirectUri }),
        ...(codeVerifier === undefined ? {} : { codeVerifier }),
        resources,
        requesterAddress: request.ip,
        requesterUserAgent: request.headers["user-agent"] ?? "",
      });
    } else if (grantType === REFRESH_TOKEN_GRANT) {
      const scope = form.get("scope");
      tokens = await lifecycle.refresh({
        credentials,
        refreshToken: form.require("refresh_token"),
        ...(scope === undefined ? {} : { scopes: parseScope(scope) }),
        resources,
      });
    } else {
      throw new OAuthError("unsupported_grant_type", "the grant type is not supported");
    }
    // RFC 6749 §5.1; `scope` always, so clients need not remember what they asked for.
    return noStore(reply).send({
      access_token: tokens.accessToken,
      token_type: tokens.tokenType,
      expires_in: tokens.expiresIn,
      scope: tokens.scope,
      ...(tokens.refreshToken === undefined ? {} : { refresh_token: tokens.refreshToken }),
    });
  });
}
