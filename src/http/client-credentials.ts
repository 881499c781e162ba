/** Reads client credentials from an HTTP request (RFC 6749 §2.3.1), leaving the checks to the domain. */
import type { ClientCredentials } from "../domain/client.js";
import { OAuthError } from "../domain/oauth-error.js";
import { decodeFormComponent, type FormParams } from "./form-params.js";

/**
 * `client_secret_basic`: the id and secret are form-url-encoded before base64
 * (RFC 6749 §2.3.1), so `+` is a space and `%3A` a colon. `client_secret_post`:
 * in the body. `none`: only `client_id` in the body. Two methods at once, or a
 * Basic id that contradicts the body's `client_id`, are `invalid_request`.
 */
export function readClientCredentials(
  authorization: string | undefined,
  form: FormParams,
  address: string,
): ClientCredentials {
  const bodyId = form.get("client_id");
  const bodySecret = form.get("client_secret");
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    if (bodySecret !== undefined) {
      throw new OAuthError("invalid_request", "use one client authentication method, not two");
    }
    const { id, secret } = parseBasic(authorization.slice(6).trim());
    if (bodyId !== undefined && bodyId !== id) {
      throw new OAuthError("invalid_request", "client_id does not match the Authorization header");
    }
    return { clientId: id, clientSecret: secret, method: "client_secret_basic", address };
  }
  if (bodyId === undefined)
    throw new OAuthError("invalid_request", "the parameter client_id is required");
  if (bodySecret !== undefined)
    return { clientId: bodyId, clientSecret: bodySecret, method: "client_secret_post", address };
  return { clientId: bodyId, method: "none", address };
}

function parseBasic(token: string): { id: string; secret: string } {
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(token)
    ? Buffer.from(token, "base64").toString("utf8")
    : "";
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw new OAuthError("invalid_client", "malformed Basic credentials");
  const id = decodeFormComponent(decoded.slice(0, colon));
  const secret = decodeFormComponent(decoded.slice(colon + 1));
  if (id === undefined || secret === undefined)
    throw new OAuthError("invalid_client", "malformed Basic credentials");
  return { id, secret };
}
