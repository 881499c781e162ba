/** POST /oauth/device/authorize (RFC 8628 §3.1–3.2): form in, domain call, JSON out. */
import type { FastifyInstance } from "fastify";
import type { DeviceFlow } from "../domain/device-flow.js";
import { parseScope } from "../domain/scope.js";
import { readClientCredentials } from "./client-credentials.js";
import { noStore } from "./oauth-reply.js";
import { formOf, postOnly } from "./oauth-route.js";

export const DEVICE_AUTHORIZATION_PATH = "/oauth/device/authorize";

export function deviceAuthorizationEndpoint(
  app: FastifyInstance,
  flow: DeviceFlow,
  prefix: string,
): void {
  postOnly(app, prefix + DEVICE_AUTHORIZATION_PATH, async (request, reply) => {
    const form = formOf(request);
    const scope = form.get("scope");
    const result = await flow.authorize({
      credentials: readClientCredentials(request.headers.authorization, form, request.ip),
      ...(scope === undefined ? {} : { scopes: parseScope(scope) }),
      resources: form.getAll("resource"),
      ipAddress: request.ip,
      userAgent: request.headers["user-agent"] ?? "",
    });
    return noStore(reply).send({
      device_code: result.deviceCode,
      user_code: result.userCode,
      verification_uri: result.verificationUri,
      verification_uri_complete: result.verificationUriComplete,
      expires_in: result.expiresIn,
      interval: result.interval,
    });
  });
}
