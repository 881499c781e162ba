/** POST /oauth/device/authorize (RFC 8628 §3.1–3.2): form in, domain call, JSON out. */
import type { FastifyInstance } from "fastify";
import type { AuthorizeResult, DeviceFlow } from "../domain/device-flow.js";
import { parseScope } from "../domain/scope.js";
import { readClientCredentials } from "./client-credentials.js";
import { type Answer, NO_STORE_JSON, writeAnswer } from "./oauth-reply.js";
import { formRequestOf, postOnly } from "./oauth-route.js";
import type { FormRequest } from "./token-endpoint.js";

export const DEVICE_AUTHORIZATION_PATH = "/oauth/device/authorize";

/**
 * The answer's JSON (RFC 8628 §3.2), byte for byte what fastify's
 * serializer makes of the object `{device_code, user_code, verification_uri,
 * verification_uri_complete, expires_in, interval}`: the parts that are the
 * same on every answer (the flow's settings) are serialised once.
 */
function answerJson(): (r: AuthorizeResult) => string {
  let fixed:
    | { uri: string; expiresIn: number; interval: number; mid: string; end: string }
    | undefined;
  return (r) => {
    if (
      fixed === undefined ||
      fixed.uri !== r.verificationUri ||
      fixed.expiresIn !== r.expiresIn ||
      fixed.interval !== r.interval
    ) {
      fixed = {
        uri: r.verificationUri,
        expiresIn: r.expiresIn,
        interval: r.interval,
        mid: `,"verification_uri":${JSON.stringify(r.verificationUri)},"verification_uri_complete":`,
        end: `,"expires_in":${JSON.stringify(r.expiresIn)},"interval":${JSON.stringify(r.interval)}}`,
      };
    }
    return `{"device_code":${JSON.stringify(r.deviceCode)},"user_code":${JSON.stringify(r.userCode)}${fixed.mid}${JSON.stringify(r.verificationUriComplete)}${fixed.end}`;
  };
}

/** The device authorization endpoint's answers (RFC 8628 §3.2); failures throw an OAuthError. */
export function deviceAuthorizationAnswers(flow: DeviceFlow): (r: FormRequest) => Promise<Answer> {
  const json = answerJson();
  return async (r) => {
    const { form } = r;
    const scope = form.get("scope");
    const result = await flow.authorize({
      credentials: readClientCredentials(r.authorization, form, r.ip),
      ...(scope === undefined ? {} : { scopes: parseScope(scope) }),
      resources: form.getAll("resource"),
      ipAddress: r.ip,
      userAgent: r.userAgent ?? "",
    });
    return { status: 200, headers: NO_STORE_JSON, body: json(result) };
  };
}

/** Registers POST /oauth/device/authorize on fastify. */
export function deviceAuthorizationEndpoint(
  app: FastifyInstance,
  answers: (r: FormRequest) => Promise<Answer>,
  prefix: string,
): void {
  postOnly(app, prefix + DEVICE_AUTHORIZATION_PATH, async (request, reply) =>
    writeAnswer(reply, await answers(formRequestOf(request))),
  );
}
