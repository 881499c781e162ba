/** POST /oauth/token (RFC 6749 §3.2, RFC 8628 §3.4): the device-code grant. */
import type { FastifyInstance } from "fastify";
import { DEVICE_CODE_GRANT } from "../domain/client.js";
import type { DeviceFlow } from "../domain/device-flow.js";
import { OAuthError } from "../domain/oauth-error.js";
import { readClientCredentials } from "./client-credentials.js";
import { noStore } from "./oauth-reply.js";
import { formOf, postOnly } from "./oauth-route.js";

export const TOKEN_PATH = "/oauth/token";

/** Grant types this endpoint serves; the metadata advertises exactly these. */
export const SUPPORTED_GRANTS = [DEVICE_CODE_GRANT] as const;

export function tokenEndpoint(app: FastifyInstance, flow: DeviceFlow, prefix: string): void {
  postOnly(app, prefix + TOKEN_PATH, async (request, reply) => {
    const form = formOf(request);
    const grantType = form.require("grant_type");
    const credentials = readClientCredentials(request.headers.authorization, form);
    if (grantType !== DEVICE_CODE_GRANT) {
      throw new OAuthError("unsupported_grant_type", "the grant type is not supported");
    }
    const tokens = await flow.poll(credentials, form.require("device_code"));
    return noStore(reply).send({
      access_token: tokens.accessToken,
      token_type: tokens.tokenType,
      expires_in: tokens.expiresIn,
      scope: tokens.scope,
      ...(tokens.refreshToken === undefined ? {} : { refresh_token: tokens.refreshToken }),
    });
  });
}
