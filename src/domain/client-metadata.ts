/**
 * Client metadata (RFC 7591 §2), the one rule for every client that describes
 * itself: a registration request (RFC 7591 §3.1) and a Client ID Metadata
 * Document. What it does not understand it ignores (§2: "MUST ignore"); what
 * it understands it checks, with a cap on every field, and refuses with the
 * §3.2.2 codes `invalid_redirect_uri` and `invalid_client_metadata`.
 */
import { AUTHORIZATION_CODE_GRANT } from "./client.js";
import { OAuthError } from "./oauth-error.js";
import { checkRedirectUri, isRedirectUriProblem } from "./redirect-uri.js";
import { SCOPE_TOKEN_PATTERN } from "./scope.js";

/** RFC 7591 §2 `token_endpoint_auth_method` values this server supports. */
export type AuthMethod = "none" | "client_secret_basic" | "client_secret_post";

/** What a self-described client may ask for, and the caps on its fields. */
export interface ClientMetadataPolicy {
  /** Grant types a client may register (a setting). */
  readonly allowedGrants: readonly string[];
  /** Scopes a client may register; requested ones outside are dropped. */
  readonly allowedScopes: readonly string[];
  /** Whether a client with a secret may register (an initial access token was presented). */
  readonly confidentialAllowed: boolean;
  readonly maxRedirectUris: number;
  /** The longest redirect URI (and document URL), in characters. */
  readonly maxUriLength: number;
  /** The longest `client_name`, `software_id` or `software_version`, in characters. */
  readonly maxNameLength: number;
}

/** Validated metadata: what gets stored and echoed (RFC 7591 §3.2.1). */
export interface ClientMetadata {
  readonly redirectUris: readonly string[];
  readonly grantTypes: readonly string[];
  readonly responseTypes: readonly string[];
  readonly tokenEndpointAuthMethod: AuthMethod;
  readonly clientName?: string;
  /** Registered scopes: the requested ones the policy allows, or all allowed when none were asked. */
  readonly scopes: readonly string[];
  readonly softwareId?: string;
  readonly softwareVersion?: string;
}

const AUTH_METHODS: readonly AuthMethod[] = ["none", "client_secret_basic", "client_secret_post"];

/**
 * Controls (C0, C1), bidirectional overrides and isolates, zero-width and
 * line/paragraph separators: a name with these could look like another
 * (`\u202E` reverses what follows). The page escapes HTML; this keeps the
 * text honest.
 */
const DECEPTIVE = /[\p{Cc}\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/u;

const bad = (description: string) => new OAuthError("invalid_client_metadata", description);

function stringList(v: unknown, field: string, max: number, maxLength: number): string[] {
  if (!Array.isArray(v)) throw bad(`${field} must be an array of strings`);
  if (v.length > max) throw bad(`${field} has more than ${max} entries`);
  for (const x of v) {
    if (typeof x !== "string" || x === "") throw bad(`${field} must be an array of strings`);
    if (x.length > maxLength)
      throw bad(`an entry of ${field} is longer than ${maxLength} characters`);
  }
  return [...new Set(v as string[])];
}

function text(v: unknown, field: string, max: number): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v.trim() === "") throw bad(`${field} must be a non-empty string`);
  if (v.length > max) throw bad(`${field} is longer than ${max} characters`);
  if (DECEPTIVE.test(v)) throw bad(`${field} contains control or direction-changing characters`);
  return v.trim();
}

/**
 * Validates client metadata. `omittedAuthMethod` is what an absent
 * `token_endpoint_auth_method` means: RFC 7591 §2 says `client_secret_basic`,
 * but where only public clients may register the server replaces it with
 * `none` (§3.2.1 lets it; the response says what was registered).
 */
export function validateClientMetadata(
  input: unknown,
  policy: ClientMetadataPolicy,
  omittedAuthMethod: AuthMethod,
): ClientMetadata {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw bad("the client metadata must be a JSON object");
  }
  const m = input as Record<string, unknown>;

  const method = m.token_endpoint_auth_method ?? omittedAuthMethod;
  if (typeof method !== "string" || !AUTH_METHODS.includes(method as AuthMethod)) {
    throw bad(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(", ")}`);
  }
  if (method !== "none" && !policy.confidentialAllowed) {
    throw bad("only public clients (token_endpoint_auth_method none) may register here");
  }

  // §2: grant_types defaults to authorization_code, response_types to code.
  const grantTypes =
    m.grant_types === undefined
      ? [AUTHORIZATION_CODE_GRANT]
      : stringList(m.grant_types, "grant_types", 8, 128);
  const refused = grantTypes.find((g) => !policy.allowedGrants.includes(g));
  if (refused !== undefined) throw bad(`the grant type ${refused} may not be registered`);
  const codeGrant = grantTypes.includes(AUTHORIZATION_CODE_GRANT);
  const responseTypes =
    m.response_types === undefined
      ? codeGrant
        ? ["code"]
        : []
      : stringList(m.response_types, "response_types", 8, 128);
  if (responseTypes.some((r) => r !== "code")) throw bad("the only response type is code");
  // §2.1: the two lists must agree.
  if (codeGrant !== responseTypes.includes("code")) {
    throw bad("response_types code goes with grant_types authorization_code, and only with it");
  }

  const redirectUris =
    m.redirect_uris === undefined
      ? []
      : (() => {
          if (!Array.isArray(m.redirect_uris)) {
            throw new OAuthError("invalid_redirect_uri", "redirect_uris must be an array");
          }
          try {
            return stringList(
              m.redirect_uris,
              "redirect_uris",
              policy.maxRedirectUris,
              policy.maxUriLength,
            );
          } catch (e) {
            throw new OAuthError("invalid_redirect_uri", (e as OAuthError).description);
          }
        })();
  for (const uri of redirectUris) {
    const checked = checkRedirectUri(uri);
    if (isRedirectUriProblem(checked))
      throw new OAuthError("invalid_redirect_uri", checked.problem);
  }
  if (codeGrant && redirectUris.length === 0) {
    throw new OAuthError(
      "invalid_redirect_uri",
      "the authorization_code grant needs at least one redirect URI",
    );
  }

  let scopes = [...policy.allowedScopes];
  if (m.scope !== undefined) {
    if (typeof m.scope !== "string") throw bad("scope must be a space-separated string");
    const asked = m.scope.split(" ").filter((s) => s !== "");
    if (asked.some((s) => !SCOPE_TOKEN_PATTERN.test(s))) throw bad("a scope token is malformed");
    scopes = scopes.filter((s) => asked.includes(s));
  }

  const clientName = text(m.client_name, "client_name", policy.maxNameLength);
  const softwareId = text(m.software_id, "software_id", policy.maxNameLength);
  const softwareVersion = text(m.software_version, "software_version", policy.maxNameLength);
  return {
    redirectUris,
    grantTypes,
    responseTypes,
    tokenEndpointAuthMethod: method as AuthMethod,
    scopes,
    ...(clientName === undefined ? {} : { clientName }),
    ...(softwareId === undefined ? {} : { softwareId }),
    ...(softwareVersion === undefined ? {} : { softwareVersion }),
  };
}
