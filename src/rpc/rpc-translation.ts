/** What every RPC handler shares: credentials from request fields, token responses, one error translation. */
import type { ClientCredentials } from "../domain/client.js";
import type { TokenSet } from "../domain/device-flow.js";
import { toConnectError } from "./connect-error.js";

/** Request fields to client credentials: a secret in the message is `client_secret_post`'s RPC twin. */
export function clientCredentials(clientId: string, clientSecret: string): ClientCredentials {
  return clientSecret === ""
    ? { clientId, method: "none" }
    : { clientId, clientSecret, method: "client_secret_post" };
}

/** A domain TokenSet as the fields PollTokenResponse and RefreshResponse share. */
export function tokenResponse(t: TokenSet) {
  return {
    accessToken: t.accessToken,
    tokenType: t.tokenType,
    expiresIn: t.expiresIn,
    scope: t.scope,
    refreshToken: t.refreshToken ?? "",
  };
}

/** Runs a handler body and converts whatever it throws, once, for every method. */
export async function translated<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    throw toConnectError(e);
  }
}
