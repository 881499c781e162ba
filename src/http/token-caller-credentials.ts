/** Reads who calls revocation or introspection: a service bearer token or client credentials. */
import type { FastifyRequest } from "fastify";
import { bearerToken, namesBearerScheme } from "../domain/bearer-credential.js";
import type { CallerCredentials } from "../tokens/token-caller.js";
import { readClientCredentials } from "./client-credentials.js";
import type { FormParams } from "./form-params.js";

/**
 * `Authorization: Bearer <service token>` (RFC 6750 §2.1 syntax) makes the
 * caller a service; otherwise client credentials as at the token endpoint
 * (RFC 6749 §2.3.1). No credentials at all is left to the domain, which
 * answers `invalid_client` (401).
 */
export function readCallerCredentials(
  request: FastifyRequest,
  form: FormParams,
): CallerCredentials {
  const authorization = request.headers.authorization;
  // A malformed Bearer value is a wrong service credential (401 with a Bearer
  // challenge), not a request without client credentials.
  if (namesBearerScheme(authorization)) return { bearer: bearerToken(authorization) ?? "" };
  if (authorization === undefined && form.get("client_id") === undefined) return {};
  return { client: readClientCredentials(authorization, form, request.ip) };
}

/** True when the request tried a bearer token (its 401 gets a Bearer challenge). */
export function usedBearer(request: FastifyRequest): boolean {
  return namesBearerScheme(request.headers.authorization);
}
