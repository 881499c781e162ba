/**
 * TokenService through real Connect transports against the server's one port
 * (Connect over HTTP/1.1 and h2c, gRPC over h2c): Refresh, Revoke and
 * Introspect share the domain code of the RFC endpoints, and every error
 * carries the typed handoff.v1.OAuthError detail.
 */
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Decision,
  DeviceAuthService,
  ErrorCode,
  OAuthErrorSchema,
} from "../../gen/handoff/v1/device_auth_pb.js";
import { TokenService, TokenTypeHint } from "../../gen/handoff/v1/token_service_pb.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { bearer, rpcClients } from "../support/rpc-clients.js";
import {
  AGENT_SECRET,
  agent,
  deviceTokens,
  discover,
  LIFECYCLE_CLIENTS,
  MCP_RESOURCE,
  NO_REFRESH_AGENT_SECRET,
  validateAt,
} from "../tokens/token-fixtures.js";

type TokenClient = Client<typeof TokenService>;

let server: TestServer;
let as: oauth.AuthorizationServer;

function clients(interceptors: Interceptor[] = []): Record<string, TokenClient> {
  return rpcClients(TokenService, server.issuer, interceptors);
}

/** The gRPC code and the typed OAuthError code of a failed call. */
async function failure(p: Promise<unknown>): Promise<{ code: Code; oauth: ErrorCode | undefined }> {
  const e = await p.then(
    () => {
      throw new Error("expected an error");
    },
    (err: unknown) => ConnectError.from(err),
  );
  return { code: e.code, oauth: e.findDetails(OAuthErrorSchema)[0]?.code };
}

beforeAll(async () => {
  server = await startTestServer({ clients: LIFECYCLE_CLIENTS });
  as = await discover(server);
});
afterAll(async () => server.close());

describe.each([
  "Connect over HTTP/1.1",
  "Connect over h2c",
  "gRPC over h2c",
  "gRPC-Web over HTTP/1.1",
])("TokenService: %s", (name) => {
  const client = () => clients()[name] as TokenClient;
  const service = () => clients([bearer(SERVICE_TOKEN)])[name] as TokenClient;

  it("Refresh rotates (RFC 6749 §6); the access token validates for its aud (RFC 8707)", async () => {
    const t = await deviceTokens(server, as, undefined, { resources: [MCP_RESOURCE] });
    const r = await client().refresh({
      clientId: "public-cli",
      refreshToken: t.refresh_token ?? "",
    });
    expect(r).toMatchObject({ tokenType: "Bearer", scope: "read write", expiresIn: 300 });
    expect(r.refreshToken).not.toBe(t.refresh_token);
    expect((await validateAt(as, r.accessToken, MCP_RESOURCE)).client_id).toBe("public-cli");
  });

  it("Refresh of a rotated-out token: INVALID_ARGUMENT + INVALID_GRANT, and the family is revoked", async () => {
    const t = await deviceTokens(server, as);
    const first = await client().refresh({
      clientId: "public-cli",
      refreshToken: t.refresh_token ?? "",
    });
    expect(
      await failure(
        client().refresh({ clientId: "public-cli", refreshToken: t.refresh_token ?? "" }),
      ),
    ).toEqual({ code: Code.InvalidArgument, oauth: ErrorCode.INVALID_GRANT });
    const i = await service().introspect({ token: first.refreshToken });
    expect(i.active).toBe(false);
  });

  it("Refresh errors carry their OAuth code: client, grant, scope, target, request", async () => {
    const t = await deviceTokens(server, as);
    const token = t.refresh_token ?? "";
    expect(
      await failure(
        client().refresh({
          clientId: "refreshing-agent",
          clientSecret: "x",
          refreshToken: token,
        }),
      ),
    ).toEqual({ code: Code.Unauthenticated, oauth: ErrorCode.INVALID_CLIENT });
    expect(
      await failure(
        client().refresh({
          clientId: "no-refresh-agent",
          clientSecret: NO_REFRESH_AGENT_SECRET,
          refreshToken: token,
        }),
      ),
    ).toEqual({ code: Code.PermissionDenied, oauth: ErrorCode.UNAUTHORIZED_CLIENT });
    expect(
      await failure(
        client().refresh({ clientId: "public-cli", refreshToken: token, scopes: ["admin"] }),
      ),
    ).toEqual({ code: Code.InvalidArgument, oauth: ErrorCode.INVALID_SCOPE });
    expect(
      await failure(
        client().refresh({
          clientId: "public-cli",
          refreshToken: token,
          resources: [MCP_RESOURCE],
        }),
      ),
    ).toEqual({ code: Code.InvalidArgument, oauth: ErrorCode.INVALID_TARGET });
    expect(await failure(client().refresh({ clientId: "public-cli" }))).toEqual({
      code: Code.InvalidArgument,
      oauth: ErrorCode.INVALID_REQUEST,
    });
    // None of the refused requests burned the token.
    expect(
      (await client().refresh({ clientId: "public-cli", refreshToken: token })).accessToken,
    ).toBeTruthy();
  });

  it("Introspect (RFC 7662): the service sees claims; no credential is UNAUTHENTICATED + INVALID_CLIENT", async () => {
    const t = await deviceTokens(server, as, undefined, { resources: [MCP_RESOURCE] });
    const i = await service().introspect({
      token: t.access_token,
      tokenTypeHint: TokenTypeHint.ACCESS_TOKEN,
    });
    expect(i).toMatchObject({
      active: true,
      clientId: "public-cli",
      sub: "alice",
      aud: [MCP_RESOURCE],
      iss: server.issuer,
      scope: "read write",
      tokenType: "Bearer",
    });
    expect(Number(i.exp?.seconds) - Number(i.iat?.seconds)).toBe(300);
    expect(await failure(client().introspect({ token: t.access_token }))).toEqual({
      code: Code.Unauthenticated,
      oauth: ErrorCode.INVALID_CLIENT,
    });
    // A public client is no authenticated introspection caller.
    expect(
      await failure(client().introspect({ clientId: "public-cli", token: t.access_token })),
    ).toEqual({
      code: Code.Unauthenticated,
      oauth: ErrorCode.INVALID_CLIENT,
    });
  });

  it("Revoke (RFC 7009) by the owning client; another client's Revoke changes nothing", async () => {
    const t = await deviceTokens(server, as, agent);
    const creds = { clientId: "refreshing-agent", clientSecret: AGENT_SECRET };
    await client().revoke({ clientId: "other-cli", token: t.access_token });
    expect((await client().introspect({ ...creds, token: t.access_token })).active).toBe(true);
    await client().revoke({ ...creds, token: t.access_token });
    expect((await client().introspect({ ...creds, token: t.access_token })).active).toBe(false);
    // A client introspecting another client's token learns nothing.
    const other = await deviceTokens(server, as);
    expect(await client().introspect({ ...creds, token: other.access_token })).toMatchObject({
      active: false,
      clientId: "",
    });
  });

  it("Revoke with the service credential revokes any refresh token and its grant", async () => {
    const t = await deviceTokens(server, as);
    await service().revoke({
      token: t.refresh_token ?? "",
      tokenTypeHint: TokenTypeHint.REFRESH_TOKEN,
    });
    expect((await service().introspect({ token: t.access_token })).active).toBe(false);
    expect(
      await failure(
        client().refresh({ clientId: "public-cli", refreshToken: t.refresh_token ?? "" }),
      ),
    ).toEqual({ code: Code.InvalidArgument, oauth: ErrorCode.INVALID_GRANT });
    expect(await failure(service().revoke({ token: "" }))).toEqual({
      code: Code.InvalidArgument,
      oauth: ErrorCode.INVALID_REQUEST,
    });
    expect(await failure(client().revoke({ token: t.access_token }))).toEqual({
      code: Code.Unauthenticated,
      oauth: ErrorCode.INVALID_CLIENT,
    });
  });
});

describe("DeviceAuthService and TokenService share the token lifecycle", () => {
  it("PollToken returns a refresh token (the client has the grant) that Refresh rotates", async () => {
    const transport = createConnectTransport({ baseUrl: server.issuer, httpVersion: "2" });
    const device = createClient(DeviceAuthService, transport);
    const auth = await device.authorize({ clientId: "public-cli", resources: [MCP_RESOURCE] });
    await createClient(
      DeviceAuthService,
      createConnectTransport({
        baseUrl: server.issuer,
        httpVersion: "2",
        interceptors: [bearer(SERVICE_TOKEN)],
      }),
    ).approve({ userCode: auth.userCode, subject: "alice", decision: Decision.APPROVE });
    const t = await device.pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode });
    expect(t.refreshToken).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    const r = await createClient(TokenService, transport).refresh({
      clientId: "public-cli",
      refreshToken: t.refreshToken,
    });
    expect((await validateAt(as, r.accessToken, MCP_RESOURCE)).sub).toBe("alice");
    // And the RFC endpoint refuses the rotated-out token, as the RPC would.
    const res = await server.post("/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: t.refreshToken,
      client_id: "public-cli",
    });
    expect(await res.json()).toMatchObject({ error: "invalid_grant" });
  });
});
