/** Clients and helpers for the token-lifecycle tests: real server, real clients. */
import * as oauth from "oauth4webapi";
import { type Client, DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT } from "../../src/domain/client.js";
import { hashSecretFast } from "../../src/domain/secret-hash.js";
import type { TestServer } from "../support/handoff-server.js";
import { TEST_CLIENTS } from "../support/test-clients.js";

export const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** A confidential client with the refresh grant: it may introspect its own tokens. */
export const AGENT_SECRET = "agent-secret-0123456789abcdefghijklmnopqrstuv";
export const REFRESHING_AGENT: Client = {
  id: "refreshing-agent",
  name: "Refreshing Agent",
  secretHash: hashSecretFast(AGENT_SECRET),
  grantTypes: [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT],
  scopes: ["read", "write", "admin"],
  defaultScopes: ["read"],
  redirectUris: [],
  active: true,
};

const { secretHash: _, ...AGENT_WITHOUT_SECRET } = REFRESHING_AGENT;

/** A second public client with the refresh grant, to prove tokens are bound to their client. */
export const OTHER_CLI: Client = { ...AGENT_WITHOUT_SECRET, id: "other-cli", name: "Other CLI" };

/** A confidential client without the refresh grant (no refresh token is issued to it). */
export const NO_REFRESH_AGENT_SECRET = "no-refresh-secret-0123456789abcdefghijklmnop";
export const NO_REFRESH_AGENT: Client = {
  ...REFRESHING_AGENT,
  id: "no-refresh-agent",
  secretHash: hashSecretFast(NO_REFRESH_AGENT_SECRET),
  grantTypes: [DEVICE_CODE_GRANT],
};

export const LIFECYCLE_CLIENTS: readonly Client[] = [
  ...TEST_CLIENTS,
  REFRESHING_AGENT,
  OTHER_CLI,
  NO_REFRESH_AGENT,
];

export const MCP_RESOURCE = "https://mcp.example.com/";
export const OTHER_RESOURCE = "https://files.example.com/api";

/** oauth4webapi's view of the server (RFC 8414 discovery). */
export async function discover(server: TestServer): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(server.issuer);
  return oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
  );
}

export interface Party {
  readonly client: oauth.Client;
  readonly auth: oauth.ClientAuth;
}

export const publicCli: Party = { client: { client_id: "public-cli" }, auth: oauth.None() };
export const otherCli: Party = { client: { client_id: "other-cli" }, auth: oauth.None() };
export const agent: Party = {
  client: { client_id: REFRESHING_AGENT.id },
  auth: oauth.ClientSecretPost(AGENT_SECRET),
};

/**
 * A whole device flow through oauth4webapi: authorize (with `resource`s),
 * approve in the domain, redeem. Returns the token response.
 */
export async function deviceTokens(
  server: TestServer,
  as: oauth.AuthorizationServer,
  party: Party = publicCli,
  params: { scope?: string; resources?: string[]; tokenResources?: string[] } = {},
): Promise<oauth.TokenEndpointResponse> {
  const form = new URLSearchParams({ scope: params.scope ?? "read write" });
  for (const r of params.resources ?? []) form.append("resource", r);
  const dar = await oauth.processDeviceAuthorizationResponse(
    as,
    party.client,
    await oauth.deviceAuthorizationRequest(as, party.client, party.auth, form, insecure),
  );
  await server.flow.decide({ userCode: dar.user_code, subject: "alice", approve: true });
  const extra = new URLSearchParams();
  for (const r of params.tokenResources ?? []) extra.append("resource", r);
  const res = await oauth.deviceCodeGrantRequest(as, party.client, party.auth, dar.device_code, {
    ...insecure,
    additionalParameters: extra,
  });
  return oauth.processDeviceCodeResponse(as, party.client, res);
}

/** One refresh through oauth4webapi. */
export async function refresh(
  as: oauth.AuthorizationServer,
  refreshToken: string,
  party: Party = publicCli,
  params: Record<string, string | string[]> = {},
): Promise<oauth.TokenEndpointResponse> {
  const extra = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) extra.append(k, x);
  const res = await oauth.refreshTokenGrantRequest(as, party.client, party.auth, refreshToken, {
    ...insecure,
    additionalParameters: extra,
  });
  return oauth.processRefreshTokenResponse(as, party.client, res);
}

/** The OAuth error of a rejected promise (oauth4webapi's ResponseBodyError). */
export async function oauthErrorOf(
  p: Promise<unknown>,
): Promise<{ error: string; status: number }> {
  const e = await p.then(
    () => {
      throw new Error("expected an error response");
    },
    (err: unknown) => err,
  );
  if (!(e instanceof oauth.ResponseBodyError)) throw e;
  return { error: e.error, status: e.status };
}

/** RFC 7662 introspection through oauth4webapi, as `party`. */
export async function introspect(
  as: oauth.AuthorizationServer,
  token: string,
  party: Party = agent,
): Promise<oauth.IntrospectionResponse> {
  const res = await oauth.introspectionRequest(as, party.client, party.auth, token, insecure);
  return oauth.processIntrospectionResponse(as, party.client, res);
}

/** RFC 7009 revocation through oauth4webapi, as `party`. */
export async function revoke(
  as: oauth.AuthorizationServer,
  token: string,
  party: Party = publicCli,
): Promise<void> {
  const res = await oauth.revocationRequest(as, party.client, party.auth, token, insecure);
  await oauth.processRevocationResponse(res);
}

/** validateJwtAccessToken as a resource server at `audience` would run it. */
export function validateAt(
  as: oauth.AuthorizationServer,
  accessToken: string,
  audience: string,
): Promise<oauth.JWTAccessTokenClaims> {
  const request = new Request("https://rs.example.com/", {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return oauth.validateJwtAccessToken(as, request, audience, insecure);
}
