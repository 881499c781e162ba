/**
 * The RFC endpoints driven by oauth4webapi, a client written by others
 * (what that library enforces): discovery, device
 * authorization, polling through pending, slow_down, denial, success and
 * expiry, and validateJwtAccessToken on the result.
 */
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, startTestServer, type TestServer } from "../support/handoff-server.js";
import { CONFIDENTIAL_SECRET } from "../support/test-clients.js";

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const publicClient: oauth.Client = { client_id: "public-cli" };

let server: TestServer;
let as: oauth.AuthorizationServer;

async function discover(s: TestServer): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(s.issuer);
  return oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
  );
}

async function startFlow(
  params: Record<string, string> = { scope: "read write" },
  client = publicClient,
  auth = oauth.None(),
  target = as,
) {
  const res = await oauth.deviceAuthorizationRequest(target, client, auth, params, insecure);
  return oauth.processDeviceAuthorizationResponse(target, client, res);
}

async function poll(deviceCode: string, client = publicClient, auth = oauth.None(), target = as) {
  const res = await oauth.deviceCodeGrantRequest(target, client, auth, deviceCode, insecure);
  return oauth.processDeviceCodeResponse(target, client, res);
}

async function pollError(deviceCode: string): Promise<oauth.ResponseBodyError> {
  const e = await poll(deviceCode).then(
    () => {
      throw new Error("expected an error response");
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(oauth.ResponseBodyError);
  return e as oauth.ResponseBodyError;
}

beforeAll(async () => {
  server = await startTestServer();
  as = await discover(server);
});
afterAll(async () => server.close());

describe("oauth4webapi against handoff", () => {
  it("RFC 8414: discovers the device authorization endpoint", () => {
    expect(as.device_authorization_endpoint).toBe(`${server.issuer}/oauth/device/authorize`);
    expect(as.issuer).toBe(server.issuer);
  });

  it("RFC 8628: pending, slow_down, approval, token, then the code is spent", async () => {
    const dar = await startFlow();
    expect(dar.interval).toBe(1);
    expect(dar.verification_uri_complete).toContain(
      encodeURIComponent(dar.user_code).replace("%2D", "-"),
    );

    expect((await pollError(dar.device_code)).error).toBe("authorization_pending");
    const slow = await pollError(dar.device_code);
    expect(slow.error).toBe("slow_down");
    expect(slow.cause).toMatchObject({ interval: 6 });

    await server.flow.decide({ userCode: dar.user_code, subject: "alice", approve: true });
    const tokens = await poll(dar.device_code);
    expect(tokens.token_type).toBe("bearer"); // oauth4webapi lower-cases it
    expect(tokens.scope).toBe("read write");

    expect((await pollError(dar.device_code)).error).toBe("invalid_grant");
  });

  it("RFC 9068: validateJwtAccessToken accepts the token for its resource", async () => {
    const dar = await startFlow({ scope: "read", resource: "https://mcp.example.com/" });
    await server.flow.decide({ userCode: dar.user_code, subject: "alice", approve: true });
    const tokens = await poll(dar.device_code);
    const request = new Request("https://mcp.example.com/tools", {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    const claims = await oauth.validateJwtAccessToken(
      as,
      request,
      "https://mcp.example.com/",
      insecure,
    );
    expect(claims).toMatchObject({
      sub: "alice",
      client_id: "public-cli",
      scope: "read",
      iss: server.issuer,
    });
    // And it is refused for another audience.
    await expect(
      oauth.validateJwtAccessToken(as, request, "https://other.example/", insecure),
    ).rejects.toThrow();
  });

  it("RFC 8628 §3.5: access_denied after the person denies", async () => {
    const dar = await startFlow();
    await server.flow.decide({ userCode: dar.user_code, subject: "alice", approve: false });
    expect((await pollError(dar.device_code)).error).toBe("access_denied");
  });

  it("RFC 8628 §3.5: expired_token after the configured life", async () => {
    const short = await startTestServer({ deviceCodeTtl: 1 });
    try {
      const shortAs = await discover(short);
      const dar = await startFlow({}, publicClient, oauth.None(), shortAs);
      expect(dar.expires_in).toBe(1);
      await sleep(2100);
      const e = await poll(dar.device_code, publicClient, oauth.None(), shortAs).catch(
        (err: unknown) => err,
      );
      expect(e).toMatchObject({ error: "expired_token" });
    } finally {
      await short.close();
    }
  });

  it("RFC 6749 §2.3.1: a confidential client with client_secret_basic", async () => {
    const client: oauth.Client = { client_id: "confidential-agent" };
    const auth = oauth.ClientSecretBasic(CONFIDENTIAL_SECRET);
    const dar = await startFlow({}, client, auth);
    await server.flow.decide({ userCode: dar.user_code, subject: "svc", approve: true });
    const tokens = await poll(dar.device_code, client, auth);
    expect(tokens.access_token).toBeTruthy();
  });

  it("RFC 6749 §5.2: a wrong secret is invalid_client", async () => {
    const client: oauth.Client = { client_id: "confidential-agent" };
    const e = await startFlow({}, client, oauth.ClientSecretPost("wrong")).catch(
      (err: unknown) => err,
    );
    expect(e).toMatchObject({ error: "invalid_client", status: 401 });
  });
});
