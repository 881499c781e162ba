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
import type { FormParams } from "./form-params.js";
import { type Answer, noStoreJson, pollRefusalAnswer, writeAnswer } from "./oauth-reply.js";
import { formRequestOf, postOnly } from "./oauth-route.js";

/** The token endpoint, below the issuer's path. */
export const TOKEN_PATH = "/oauth/token";

/** Grant types this endpoint serves; the metadata advertises exactly these. */
export const SUPPORTED_GRANTS = [
  DEVICE_CODE_GRANT,
  AUTHORIZATION_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
] as const;

/** What the token endpoint reads of a request, whoever parsed it (fastify or the fast path). */
export interface FormRequest {
  readonly form: FormParams;
  readonly authorization: string | undefined;
  /** The client's address (HANDOFF_TRUST_PROXY applied). */
  readonly ip: string;
  readonly userAgent: string | undefined;
}

export interface TokenEndpointDeps {
  readonly flow: DeviceFlow;
  readonly lifecycle: TokenLifecycle;
  readonly codeFlow: AuthorizationCodeFlow;
}

/**
 * The token endpoint's answer: form in, domain call, RFC 6749 §5.1 JSON out.
 * An expected refusal of a poll is answered, not thrown; anything else that
 * fails throws an OAuthError for the transport's one error path.
 */
export async function tokenAnswer(d: TokenEndpointDeps, r: FormRequest): Promise<Answer> {
  const { form } = r;
  const grantType = form.require("grant_type");
  const credentials = readClientCredentials(r.authorization, form, r.ip);
  // RFC 8707 §2: `resource` may repeat; it narrows the audience of this access token.
  const resources = form.getAll("resource");
  let tokens: TokenSet;
  if (grantType === DEVICE_CODE_GRANT) {
    const result = await d.flow.poll(credentials, form.require("device_code"), { resources });
    // The usual answer to a poll (RFC 8628 §3.5).
    if (!result.ok) return pollRefusalAnswer(result.refusal);
    tokens = result.tokens;
  } else if (grantType === AUTHORIZATION_CODE_GRANT) {
    const redirectUri = form.get("redirect_uri");
    const codeVerifier = form.get("code_verifier");
    tokens = await d.codeFlow.redeem({
      credentials,
      code: form.require("code"),
      ...(redirectUri === undefined ? {} : { redirectUri }),
      ...(codeVerifier === undefined ? {} : { codeVerifier }),
      resources,
      requesterAddress: r.ip,
      requesterUserAgent: r.userAgent ?? "",
    });
  } else if (grantType === REFRESH_TOKEN_GRANT) {
    const scope = form.get("scope");
    tokens = await d.lifecycle.refresh({
      credentials,
      refreshToken: form.require("refresh_token"),
      ...(scope === undefined ? {} : { scopes: parseScope(scope) }),
      resources,
    });
  } else {
    throw new OAuthError("unsupported_grant_type", "the grant type is not supported");
  }
  // RFC 6749 §5.1; `scope` always, so clients need not remember what they asked for.
  return noStoreJson(200, {
    access_token: tokens.accessToken,
    token_type: tokens.tokenType,
    expires_in: tokens.expiresIn,
    scope: tokens.scope,
    ...(tokens.refreshToken === undefined ? {} : { refresh_token: tokens.refreshToken }),
  });
}

/** Registers POST /oauth/token on fastify. */
export function tokenEndpoint(app: FastifyInstance, d: TokenEndpointDeps, prefix: string): void {
  postOnly(app, prefix + TOKEN_PATH, async (request, reply) =>
    writeAnswer(reply, await tokenAnswer(d, formRequestOf(request))),
  );
}
