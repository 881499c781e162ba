/**
 * Checking an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC
 * 8707 §2): which failures may be sent back to the client and which must be
 * shown to the person instead (§4.1.2.1: never redirect to an unverified
 * redirect URI). Outcomes are values: the endpoint and the consent page pick
 * the answer, neither repeats a rule.
 */
import {
  AUTHORIZATION_CODE_GRANT,
  type Client,
  type ClientLookup,
  type ClientRegistry,
} from "./client.js";
import { isOAuthError } from "./oauth-error.js";
import { isS256Challenge, PKCE_METHOD } from "./pkce.js";
import {
  checkRedirectUri,
  isRedirectUriProblem,
  matchRedirectUri,
  type RedirectUriKind,
} from "./redirect-uri.js";
import { parseResources, type ResourceLimits } from "./resource.js";
import { parseScope, resolveScopes } from "./scope.js";

/** The request's query: every value of every parameter, in order. */
export type AuthorizationQuery = ReadonlyMap<string, readonly string[]>;

/** RFC 6749 §4.1.2.1 error codes, plus RFC 8707 §2's `invalid_target`. */
export type AuthorizationErrorCode =
  | "invalid_request"
  | "unauthorized_client"
  | "access_denied"
  | "unsupported_response_type"
  | "invalid_scope"
  | "invalid_target"
  | "server_error"
  | "temporarily_unavailable";

/** A request whose client and redirect URI are good: everything the consent screen and the code need. */
export interface AuthorizationRequest {
  readonly client: Client;
  /** Where the browser goes back to (the matched URI, port included). */
  readonly redirectUri: string;
  /** `redirect_uri` exactly as sent, "" when omitted (the token request must repeat it). */
  readonly redirectUriParam: string;
  readonly redirectKind: RedirectUriKind;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  readonly resources: readonly string[];
  /** Echoed unchanged (RFC 6749 §4.1.2). */
  readonly state: string | undefined;
}

export type AuthorizationCheck =
  /** No client or redirect URI to trust: show this to the person, redirect nowhere. */
  | { readonly kind: "refused"; readonly description: string }
  /** The redirect URI is good: send the error back there, with `state`. */
  | {
      readonly kind: "error";
      readonly redirectUri: string;
      readonly state: string | undefined;
      readonly error: AuthorizationErrorCode;
      readonly description: string;
    }
  | { readonly kind: "valid"; readonly request: AuthorizationRequest };

/** One value, "" counting as omitted (RFC 6749 §3.1); `null` when the parameter is repeated. */
function single(q: AuthorizationQuery, name: string): string | undefined | null {
  const values = (q.get(name) ?? []).filter((v) => v !== "");
  if (values.length > 1) return null;
  return values[0];
}

/** Checks an authorization request against the client registry. */
export async function checkAuthorizationRequest(
  clients: ClientRegistry,
  q: AuthorizationQuery,
  limits: ResourceLimits,
  lookup?: ClientLookup,
): Promise<AuthorizationCheck> {
  const clientId = single(q, "client_id");
  if (clientId === null) return { kind: "refused", description: "client_id is repeated" };
  if (clientId === undefined) return { kind: "refused", description: "client_id is missing" };
  const client = await clients.find(clientId, lookup);
  if (client === undefined) {
    return { kind: "refused", description: "the client is not registered" };
  }
  if (!client.active) return { kind: "refused", description: "the client is disabled" };
  const requested = single(q, "redirect_uri");
  if (requested === null) return { kind: "refused", description: "redirect_uri is repeated" };
  const redirectUri = matchRedirectUri(client.redirectUris, requested);
  if (redirectUri === undefined) {
    return {
      kind: "refused",
      description:
        requested === undefined
          ? "redirect_uri is missing"
          : "redirect_uri is not registered for this client",
    };
  }
  const kind = checkRedirectUri(redirectUri);
  if (isRedirectUriProblem(kind)) return { kind: "refused", description: kind.problem };

  // From here on the redirect URI is known good: errors go back to the client.
  const stateValue = single(q, "state");
  const state = stateValue ?? undefined;
  const fail = (error: AuthorizationErrorCode, description: string): AuthorizationCheck => ({
    kind: "error",
    redirectUri,
    state,
    error,
    description,
  });
  if (stateValue === null) return fail("invalid_request", "state is repeated");
  if (!client.grantTypes.includes(AUTHORIZATION_CODE_GRANT)) {
    return fail("unauthorized_client", "the client may not use the authorization code grant");
  }
  for (const name of ["response_type", "code_challenge", "code_challenge_method", "scope"]) {
    if (single(q, name) === null) return fail("invalid_request", `${name} is repeated`);
  }
  const responseType = single(q, "response_type");
  if (responseType === undefined) return fail("invalid_request", "response_type is missing");
  if (responseType !== "code") {
    return fail("unsupported_response_type", "only response_type=code is supported");
  }
  // RFC 7636 §4.3 with OAuth 2.1 §4.1.1: PKCE required, S256 only.
  const method = single(q, "code_challenge_method");
  if (method !== PKCE_METHOD) {
    return fail(
      "invalid_request",
      method === undefined
        ? "code_challenge_method=S256 is required (PKCE)"
        : "only code_challenge_method=S256 is supported",
    );
  }
  const challenge = single(q, "code_challenge");
  if (challenge === undefined || challenge === null || !isS256Challenge(challenge)) {
    return fail("invalid_request", "code_challenge must be 43 base64url characters (S256)");
  }
  let scopes: string[];
  let resources: string[];
  try {
    const scope = single(q, "scope");
    scopes = resolveScopes(client, scope ? parseScope(scope) : undefined);
    resources = parseResources(q.get("resource")?.filter((r) => r !== "") ?? [], limits);
  } catch (e) {
    if (isOAuthError(e) && (e.code === "invalid_scope" || e.code === "invalid_target")) {
      return fail(e.code, e.description);
    }
    throw e;
  }
  return {
    kind: "valid",
    request: {
      client,
      redirectUri,
      redirectUriParam: requested ?? "",
      redirectKind: kind,
      codeChallenge: challenge,
      scopes,
      resources,
      state,
    },
  };
}

/**
 * The redirect URI with the response parameters added to its query, which is
 * kept (RFC 6749 §3.1.2: "MUST retain the query component"). `iss` is always
 * there (RFC 9207 §2), so a client can tell which server answered.
 */
export function authorizationResponseUri(
  redirectUri: string,
  params: Readonly<Record<string, string | undefined>>,
): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) query.append(name, value);
  }
  const separator = redirectUri.includes("?") ? "&" : "?";
  return redirectUri + separator + query.toString();
}
