/**
 * DeviceAuthService through every transport against one server on one port:
 * the whole flow, and errors a client in any language can branch on by the
 * typed OAuthError detail, never by message text.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Decision,
  DeviceAuthorizationStatus,
  ErrorCode,
  OAuthErrorSchema,
} from "../../gen/handoff/v1/device_auth_pb.js";
import {
  SERVICE_TOKEN,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { bearer, type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";
import { CONFIDENTIAL_SECRET } from "../support/test-clients.js";

let server: TestServer;
let clients: Record<string, DeviceAuthClient>;
let trusted: Record<string, DeviceAuthClient>;

beforeAll(async () => {
  server = await startTestServer();
  clients = deviceAuthClients(server.issuer);
  trusted = deviceAuthClients(server.issuer, [bearer(SERVICE_TOKEN)]);
});
afterAll(async () => server.close());

/** The ConnectError and its typed detail from a failed call. */
async function failure(call: Promise<unknown>) {
  const e = await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (err: unknown) => err,
  );
  const ce = ConnectError.from(e);
  const [detail] = ce.findDetails(OAuthErrorSchema);
  return { code: ce.code, detail };
}

const transports = [
  "Connect over HTTP/1.1",
  "Connect over h2c",
  "gRPC over h2c",
  "gRPC-Web over HTTP/1.1",
];

describe.each(transports)("DeviceAuthService over %s", (name) => {
  const c = () => clients[name] as DeviceAuthClient;
  const t = () => trusted[name] as DeviceAuthClient;

  it("runs the flow: Authorize, pending, slow_down with the new interval, Approve, token, then spent", async () => {
    const auth = await c().authorize(
      {
        clientId: "public-cli",
        scopes: ["read", "write"],
        resources: ["https://mcp.example.com/"],
      },
      { headers: { "user-agent": `rpc-test (${name})` } },
    );
    expect(auth.userCode).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(auth).toMatchObject({
      expiresIn: 60,
      interval: 1,
      verificationUri: `${server.issuer}/device`,
    });

    expect(
      await failure(c().pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode })),
    ).toMatchObject({
      code: Code.FailedPrecondition,
      detail: {
        code: ErrorCode.AUTHORIZATION_PENDING,
        error: "authorization_pending",
        interval: 1,
      },
    });
    expect(
      await failure(c().pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode })),
    ).toMatchObject({
      code: Code.ResourceExhausted,
      detail: { code: ErrorCode.SLOW_DOWN, error: "slow_down", interval: 6 },
    });

    const view = await t().getDeviceAuthorization({
      userCode: auth.userCode.toLowerCase().replace("-", ""),
    });
    expect(view).toMatchObject({
      clientId: "public-cli",
      clientName: "Public Test CLI",
      scopes: ["read", "write"],
      resources: ["https://mcp.example.com/"],
      userAgent: `rpc-test (${name})`,
      status: DeviceAuthorizationStatus.PENDING,
    });
    expect(view.ipAddress).toMatch(/127\.0\.0\.1/);
    expect(view.createdAt).toBeDefined();

    const approved = await t().approve({
      userCode: auth.userCode,
      subject: "alice",
      decision: Decision.APPROVE,
      scopes: ["read"],
    });
    expect(approved).toMatchObject({
      clientId: "public-cli",
      decision: Decision.APPROVE,
      scopes: ["read"],
    });

    const token = await c().pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode });
    expect(token).toMatchObject({ tokenType: "Bearer", expiresIn: 300, scope: "read" });
    expect(token.accessToken.split(".")).toHaveLength(3);

    expect(
      await failure(c().pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode })),
    ).toMatchObject({
      code: Code.InvalidArgument,
      detail: { code: ErrorCode.INVALID_GRANT },
    });
  });

  it("denied is PERMISSION_DENIED + ACCESS_DENIED", async () => {
    const auth = await c().authorize({ clientId: "public-cli" });
    await t().approve({ userCode: auth.userCode, subject: "alice", decision: Decision.DENY });
    expect(
      await failure(c().pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode })),
    ).toMatchObject({
      code: Code.PermissionDenied,
      detail: { code: ErrorCode.ACCESS_DENIED },
    });
  });

  it("client errors: INVALID_CLIENT, UNAUTHORIZED_CLIENT, INVALID_SCOPE, INVALID_TARGET", async () => {
    expect(await failure(c().authorize({ clientId: "nobody" }))).toMatchObject({
      code: Code.Unauthenticated,
      detail: { code: ErrorCode.INVALID_CLIENT },
    });
    expect(
      await failure(c().authorize({ clientId: "confidential-agent", clientSecret: "wrong" })),
    ).toMatchObject({
      code: Code.Unauthenticated,
      detail: { code: ErrorCode.INVALID_CLIENT },
    });
    expect(await failure(c().authorize({ clientId: "refresh-only" }))).toMatchObject({
      code: Code.PermissionDenied,
      detail: { code: ErrorCode.UNAUTHORIZED_CLIENT },
    });
    expect(
      await failure(c().authorize({ clientId: "public-cli", scopes: ["root"] })),
    ).toMatchObject({
      code: Code.InvalidArgument,
      detail: { code: ErrorCode.INVALID_SCOPE },
    });
    expect(
      await failure(c().authorize({ clientId: "public-cli", resources: ["relative/path"] })),
    ).toMatchObject({
      code: Code.InvalidArgument,
      detail: { code: ErrorCode.INVALID_TARGET },
    });
    const ok = await c().authorize({
      clientId: "confidential-agent",
      clientSecret: CONFIDENTIAL_SECRET,
    });
    expect(ok.deviceCode).toBeTruthy();
  });

  it("Approve: UNAUTHENTICATED without the service credential, NOT_FOUND for unknown codes, FAILED_PRECONDITION twice", async () => {
    const auth = await c().authorize({ clientId: "public-cli" });
    const req = { userCode: auth.userCode, subject: "alice", decision: Decision.APPROVE };
    expect((await failure(c().approve(req))).code).toBe(Code.Unauthenticated);
    const wrong = deviceAuthClients(server.issuer, [bearer(`${SERVICE_TOKEN}x`)])[
      name
    ] as DeviceAuthClient;
    expect((await failure(wrong.approve(req))).code).toBe(Code.Unauthenticated);
    expect((await failure(c().getDeviceAuthorization({ userCode: auth.userCode }))).code).toBe(
      Code.Unauthenticated,
    );

    expect(await failure(t().approve({ ...req, userCode: "BBBB-BBBB" }))).toMatchObject({
      code: Code.NotFound,
      detail: { code: ErrorCode.NOT_FOUND },
    });
    expect((await failure(t().approve({ ...req, scopes: ["write"] }))).detail?.code).toBe(
      ErrorCode.INVALID_SCOPE,
    );
    expect((await failure(t().approve({ ...req, decision: Decision.UNSPECIFIED }))).code).toBe(
      Code.InvalidArgument,
    );
    // proto3 enums are open: a number from a newer schema is refused, and the request stays pending.
    expect((await failure(t().approve({ ...req, decision: 7 as Decision }))).code).toBe(
      Code.InvalidArgument,
    );
    expect((await t().getDeviceAuthorization({ userCode: auth.userCode })).status).toBe(
      DeviceAuthorizationStatus.PENDING,
    );
    await t().approve(req);
    expect(await failure(t().approve({ ...req, decision: Decision.DENY }))).toMatchObject({
      code: Code.FailedPrecondition,
      detail: { code: ErrorCode.ALREADY_DECIDED },
    });
  });
});

describe("expiry over RPC", () => {
  it("DEADLINE_EXCEEDED + EXPIRED_TOKEN after the code's life; Approve then NOT_FOUND", async () => {
    const short = await startTestServer({ deviceCodeTtl: 1 });
    try {
      const c = deviceAuthClients(short.issuer)["gRPC over h2c"] as DeviceAuthClient;
      const t = deviceAuthClients(short.issuer, [bearer(SERVICE_TOKEN)])[
        "gRPC over h2c"
      ] as DeviceAuthClient;
      const auth = await c.authorize({ clientId: "public-cli" });
      await sleep(2100);
      expect(
        await failure(c.pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode })),
      ).toMatchObject({
        code: Code.DeadlineExceeded,
        detail: { code: ErrorCode.EXPIRED_TOKEN },
      });
      expect(
        (
          await failure(
            t.approve({ userCode: auth.userCode, subject: "a", decision: Decision.APPROVE }),
          )
        ).code,
      ).toBe(Code.NotFound);
    } finally {
      await short.close();
    }
  });
});

describe("RPC access log", () => {
  it("logs each call's procedure, code and OAuth error, never its messages", async () => {
    const c = clients["gRPC over h2c"] as DeviceAuthClient;
    const auth = await c.authorize({ clientId: "public-cli" });
    await c.pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode }).catch(() => {});
    const lines = server
      .logs()
      .split("\n")
      .filter((l) => l.includes('"msg":"rpc"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // One `rpc` field (the base `service` keeps its one meaning) and the client address.
    expect(lines).toContainEqual(
      expect.objectContaining({
        service: "handoff",
        rpc: "handoff.v1.DeviceAuthService/Authorize",
        code: "ok",
        ip: "127.0.0.1",
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        rpc: "handoff.v1.DeviceAuthService/PollToken",
        code: "FailedPrecondition",
        error: "authorization_pending",
      }),
    );
    expect(server.logs()).not.toContain(auth.deviceCode);
  });
});
