/**
 * DeviceAuthService.WaitToken through every transport on the one port: the
 * token the moment the person decides, heartbeats while waiting, typed
 * outcomes (OAuthError detail) for denial, expiry, pacing and the stream
 * limit, and a stream that outlives HTTP/1.1's request timeout.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Decision,
  ErrorCode,
  OAuthErrorSchema,
  type WaitTokenResponse,
} from "../../gen/handoff/v1/device_auth_pb.js";
import {
  SERVICE_TOKEN,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { bearer, type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";
import { CONFIDENTIAL_SECRET } from "../support/test-clients.js";

const transports = [
  "Connect over HTTP/1.1",
  "Connect over h2c",
  "gRPC over h2c",
  "gRPC-Web over HTTP/1.1",
];

/** Reads a stream to its end: every message, then the error it ended with (if any). */
async function drain(
  stream: AsyncIterable<WaitTokenResponse>,
  onMessage?: (m: WaitTokenResponse) => void,
) {
  const messages: WaitTokenResponse[] = [];
  try {
    for await (const m of stream) {
      messages.push(m);
      onMessage?.(m);
    }
    return { messages, error: undefined };
  } catch (e) {
    const ce = ConnectError.from(e);
    return { messages, error: { code: ce.code, detail: ce.findDetails(OAuthErrorSchema)[0] } };
  }
}

/** Resolves once `messages` holds a heartbeat (the stream is open and waiting). */
async function firstHeartbeat(messages: WaitTokenResponse[]): Promise<void> {
  while (!messages.some((m) => m.event.case === "heartbeat")) await sleep(10);
}

describe("WaitToken", () => {
  let server: TestServer;
  let clients: Record<string, DeviceAuthClient>;
  let trusted: DeviceAuthClient;
  beforeAll(async () => {
    // Heartbeats every second; HTTP/1.1 requests must arrive within 1 s (the stream must outlive that).
    server = await startTestServer({
      waitHeartbeatMs: 1000,
      headersTimeoutMs: 1000,
      requestTimeoutMs: 1000,
      waitRecheckMs: 60_000,
    });
    clients = deviceAuthClients(server.issuer);
    trusted = deviceAuthClients(server.issuer, [bearer(SERVICE_TOKEN)])[
      "gRPC over h2c"
    ] as DeviceAuthClient;
  });
  afterAll(async () => server.close());

  describe.each(transports)("over %s", (name) => {
    const c = () => clients[name] as DeviceAuthClient;

    it("sends heartbeats while undecided, then the token the moment the person approves (one message, then the end)", async () => {
      const auth = await c().authorize({ clientId: "public-cli", scopes: ["read"] });
      const seen: WaitTokenResponse[] = [];
      const done = drain(
        c().waitToken({ clientId: "public-cli", deviceCode: auth.deviceCode }),
        (m) => seen.push(m),
      );
      await firstHeartbeat(seen);
      // Longer than the heartbeat period and HTTP/1.1's request timeout: the stream stays up.
      await sleep(1600);
      await trusted.approve({
        userCode: auth.userCode,
        subject: "alice",
        decision: Decision.APPROVE,
      });
      const { messages, error } = await done;
      expect(error).toBeUndefined();
      const heartbeats = messages.filter((m) => m.event.case === "heartbeat");
      expect(heartbeats.length).toBeGreaterThanOrEqual(2);
      const first = heartbeats[0]?.event.value as { expiresIn: number };
      expect(first.expiresIn).toBeGreaterThan(50);
      expect(first.expiresIn).toBeLessThanOrEqual(61);
      const last = messages.at(-1);
      expect(last?.event.case).toBe("token");
      const token = last?.event.value as {
        accessToken: string;
        tokenType: string;
        refreshToken: string;
      };
      expect(token.tokenType).toBe("Bearer");
      expect(token.accessToken.split(".")).toHaveLength(3);
      expect(token.refreshToken).not.toBe("");
      // Exactly once: the code is spent.
      const poll = await c()
        .pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode })
        .catch((e: unknown) => ConnectError.from(e));
      expect(poll).toBeInstanceOf(ConnectError);
      expect((poll as ConnectError).findDetails(OAuthErrorSchema)[0]?.code).toBe(
        ErrorCode.INVALID_GRANT,
      );
    });

    it("ends with PERMISSION_DENIED + ACCESS_DENIED when the person denies", async () => {
      const auth = await c().authorize({ clientId: "public-cli" });
      const seen: WaitTokenResponse[] = [];
      const done = drain(
        c().waitToken({ clientId: "public-cli", deviceCode: auth.deviceCode }),
        (m) => seen.push(m),
      );
      await firstHeartbeat(seen);
      await trusted.approve({ userCode: auth.userCode, subject: "alice", decision: Decision.DENY });
      const { messages, error } = await done;
      expect(messages.every((m) => m.event.case === "heartbeat")).toBe(true);
      expect(error?.code).toBe(Code.PermissionDenied);
      expect(error?.detail?.code).toBe(ErrorCode.ACCESS_DENIED);
      expect(error?.detail?.error).toBe("access_denied");
    });

    it("RFC 8628 §3.5: a stream opened right after a poll is slow_down, with the raised interval", async () => {
      const auth = await c().authorize({ clientId: "public-cli" });
      await c()
        .pollToken({ clientId: "public-cli", deviceCode: auth.deviceCode })
        .catch(() => {});
      const { messages, error } = await drain(
        c().waitToken({ clientId: "public-cli", deviceCode: auth.deviceCode }),
      );
      expect(messages).toHaveLength(0);
      expect(error?.code).toBe(Code.ResourceExhausted);
      expect(error?.detail?.code).toBe(ErrorCode.SLOW_DOWN);
      expect(error?.detail?.interval).toBe(auth.interval + 5);
    });

    it("an already approved code gives its token at once, without a heartbeat", async () => {
      const auth = await c().authorize({
        clientId: "confidential-agent",
        clientSecret: CONFIDENTIAL_SECRET,
      });
      await trusted.approve({
        userCode: auth.userCode,
        subject: "bob",
        decision: Decision.APPROVE,
      });
      const { messages, error } = await drain(
        c().waitToken({
          clientId: "confidential-agent",
          clientSecret: CONFIDENTIAL_SECRET,
          deviceCode: auth.deviceCode,
        }),
      );
      expect(error).toBeUndefined();
      expect(messages.map((m) => m.event.case)).toEqual(["token"]);
    });

    it("refuses a wrong client secret (UNAUTHENTICATED + INVALID_CLIENT) and an unknown code (INVALID_GRANT)", async () => {
      const auth = await c().authorize({
        clientId: "confidential-agent",
        clientSecret: CONFIDENTIAL_SECRET,
      });
      const wrong = await drain(
        c().waitToken({
          clientId: "confidential-agent",
          clientSecret: "nope",
          deviceCode: auth.deviceCode,
        }),
      );
      expect(wrong.error?.code).toBe(Code.Unauthenticated);
      expect(wrong.error?.detail?.code).toBe(ErrorCode.INVALID_CLIENT);
      const unknown = await drain(
        c().waitToken({ clientId: "public-cli", deviceCode: "not-a-code" }),
      );
      expect(unknown.error?.detail?.code).toBe(ErrorCode.INVALID_GRANT);
    });
  });

  it("a cancelled stream frees its slot and its subscription", async () => {
    const c = clients["Connect over h2c"] as DeviceAuthClient;
    const auth = await c.authorize({ clientId: "public-cli" });
    const abort = new AbortController();
    const seen: WaitTokenResponse[] = [];
    const done = drain(
      c.waitToken(
        { clientId: "public-cli", deviceCode: auth.deviceCode },
        { signal: abort.signal },
      ),
      (m) => seen.push(m),
    );
    await firstHeartbeat(seen);
    expect(server.waits.openCount).toBe(1);
    abort.abort();
    expect((await done).error?.code).toBe(Code.Canceled);
    while (server.waits.openCount > 0) await sleep(10);
    expect(server.waits.openCount).toBe(0);
  });
});

describe("WaitToken limits", () => {
  let server: TestServer;
  let c: DeviceAuthClient;
  beforeAll(async () => {
    server = await startTestServer({ waitMaxStreams: 1, deviceCodeTtl: 2, waitRecheckMs: 60_000 });
    c = deviceAuthClients(server.issuer)["gRPC over h2c"] as DeviceAuthClient;
  });
  afterAll(async () => server.close());

  it("past HANDOFF_WAIT_MAX_STREAMS: RESOURCE_EXHAUSTED + TEMPORARILY_UNAVAILABLE, and the code still polls", async () => {
    const a = await c.authorize({ clientId: "public-cli" });
    const b = await c.authorize({ clientId: "public-cli" });
    const seen: WaitTokenResponse[] = [];
    const first = drain(c.waitToken({ clientId: "public-cli", deviceCode: a.deviceCode }), (m) =>
      seen.push(m),
    );
    await firstHeartbeat(seen);
    const refused = await drain(c.waitToken({ clientId: "public-cli", deviceCode: b.deviceCode }));
    expect(refused.error?.code).toBe(Code.ResourceExhausted);
    expect(refused.error?.detail?.code).toBe(ErrorCode.TEMPORARILY_UNAVAILABLE);
    // The refusal was not a poll: the first poll of b is authorization_pending, not slow_down.
    const poll = await c
      .pollToken({ clientId: "public-cli", deviceCode: b.deviceCode })
      .catch((e: unknown) => ConnectError.from(e));
    expect((poll as ConnectError).findDetails(OAuthErrorSchema)[0]?.code).toBe(
      ErrorCode.AUTHORIZATION_PENDING,
    );
    // A stream never outlives its code (2 s here): expired_token, even with re-checks a minute apart.
    const ended = await first;
    expect(ended.error?.code).toBe(Code.DeadlineExceeded);
    expect(ended.error?.detail?.code).toBe(ErrorCode.EXPIRED_TOKEN);
  });

  it("metadata advertises the stream endpoint (and omits it when HANDOFF_WAIT_MAX_STREAMS is 0)", async () => {
    const meta = (await (
      await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(meta.handoff_wait_token_endpoint).toBe(
      `${server.issuer}/handoff.v1.DeviceAuthService/WaitToken`,
    );
    const off = await startTestServer({ waitMaxStreams: 0 });
    try {
      const m = (await (
        await fetch(`${off.issuer}/.well-known/oauth-authorization-server`)
      ).json()) as Record<string, unknown>;
      expect(m).not.toHaveProperty("handoff_wait_token_endpoint");
    } finally {
      await off.close();
    }
  });
});
