/** RFC 8414 authorization server metadata and the JWKS it points to. */
import type { FastifyInstance } from "fastify";
import type { JWK } from "jose";
import { PKCE_METHOD } from "../domain/pkce.js";
import { AUTHORIZE_PATH } from "./authorization-endpoint.js";
import { DEVICE_AUTHORIZATION_PATH } from "./device-authorization-endpoint.js";
import { INTROSPECTION_AUTH_METHODS, INTROSPECTION_PATH } from "./introspection-endpoint.js";
import { REGISTRATION_PATH } from "./registration-endpoint.js";
import { REVOCATION_AUTH_METHODS, REVOCATION_PATH } from "./revocation-endpoint.js";
import { SUPPORTED_GRANTS, TOKEN_PATH } from "./token-endpoint.js";

export const JWKS_PATH = "/.well-known/jwks.json";

export interface MetadataOptions {
  readonly issuer: string;
  readonly scopesSupported: readonly string[];
  /** Whether this server takes WaitToken streams (HANDOFF_WAIT_MAX_STREAMS > 0). */
  readonly waitToken: boolean;
  /** RFC 7591 registration is on: advertise `registration_endpoint` (RFC 8414 §2). */
  readonly registration?: boolean;
  /** An https client_id names a Client ID Metadata Document (MCP 2025-11-25). */
  readonly metadataDocuments?: boolean;
}

/**
 * Where the WaitToken stream is served (Connect, gRPC, gRPC-Web): RPC paths
 * live at the origin's root, whatever the issuer's path.
 */
export const WAIT_TOKEN_RPC_PATH = "/handoff.v1.DeviceAuthService/WaitToken";

/** The metadata document (RFC 8414 §2). Computed once: it only changes with configuration. */
export function buildMetadata(o: MetadataOptions): Record<string, unknown> {
  return {
    issuer: o.issuer,
    // RFC 6749 §4.1 with PKCE (RFC 7636), beside the device grant.
    authorization_endpoint: o.issuer + AUTHORIZE_PATH,
    token_endpoint: o.issuer + TOKEN_PATH,
    device_authorization_endpoint: o.issuer + DEVICE_AUTHORIZATION_PATH,
    jwks_uri: o.issuer + JWKS_PATH,
    grant_types_supported: [...SUPPORTED_GRANTS],
    response_types_supported: ["code"],
    // MCP 2025-11-25 clients refuse an AS without it; OAuth 2.1 §4.1.1: S256 only.
    code_challenge_methods_supported: [PKCE_METHOD],
    // RFC 9207 §3: every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: true,
    token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
    scopes_supported: [...o.scopesSupported],
    // RFC 8414 §2: RFC 7009 and RFC 7662 endpoints with their client authentication methods.
    revocation_endpoint: o.issuer + REVOCATION_PATH,
    revocation_endpoint_auth_methods_supported: [...REVOCATION_AUTH_METHODS],
    introspection_endpoint: o.issuer + INTROSPECTION_PATH,
    introspection_endpoint_auth_methods_supported: [...INTROSPECTION_AUTH_METHODS],
    // An extension (RFC 8414 §2 allows more members): a client that finds it
    // may wait on one stream instead of polling (docs/wait-token.md).
    ...(o.waitToken
      ? { handoff_wait_token_endpoint: new URL(WAIT_TOKEN_RPC_PATH, o.issuer).href }
      : {}),
    ...(o.registration ? { registration_endpoint: o.issuer + REGISTRATION_PATH } : {}),
    ...(o.metadataDocuments ? { client_id_metadata_document_supported: true } : {}),
  };
}

/**
 * RFC 8414 §3: the document lives at /.well-known/oauth-authorization-server
 * with the issuer's path, if any, appended after it. `jwks` is asked on each
 * request: the key set changes on rotation, and retired keys drop out once
 * their tokens have expired.
 */
export function metadataEndpoints(
  app: FastifyInstance,
  o: MetadataOptions,
  jwks: () => { keys: JWK[] },
): void {
  const issuerPath = new URL(o.issuer).pathname.replace(/\/$/, "");
  const metadata = JSON.stringify(buildMetadata(o));
  app.get(`/.well-known/oauth-authorization-server${issuerPath}`, async (_request, reply) =>
    reply.header("cache-control", "public, max-age=300").type("application/json").send(metadata),
  );
  app.get(issuerPath + JWKS_PATH, async (_request, reply) =>
    reply
      .header("cache-control", "public, max-age=300")
      .type("application/jwk-set+json")
      .send(jwks()),
  );
}
