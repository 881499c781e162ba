/**
 * handoff/client's device flow: against handoff itself (WaitToken and
 * polling), and against a strict server that checks RFC 8628 §3.5 pacing:
 * never sooner than the interval, +5 s after slow_down and kept, Retry-After
 * on 503, stop on expiry and on abort.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/handoff/v1/device_auth_pb.js";
import { deviceLogin, discoverIssuer, OAuthClientError } from "../../src/client/index.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { bearer, type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";
import { startStrictServer } from "./strict-device-server.js";

/** A gap may come up to 50 ms early from timer granularity; never a full second. */
const SLACK_MS = 50;
const gaps = (xs: number[]) => xs.slice(1).map((x, i) => x - (xs[i] as number));

describe("deviceLogin against handoff", () => {
  let server: TestServer;
  let approver: DeviceAuthClient;
  beforeAll(async () => {
    server = await startTestServer();
    approver = deviceAuthClients(server.issuer, [bearer(SERVICE_TOKEN)])[
      "gRPC over h2c"
    ] as DeviceAuthClient;
  });
  afterAll(async () => server.close());

  for (const useWaitToken of [true, false]) {
    it(`gets tokens after approval (${useWaitToken ? "WaitToken, found in the metadata" : "polling"})`, async () => {
      const metadata = await discoverIssuer(server.issuer);
      expect(metadata.handoff_wait_token_endpoint).toBeDefined();
      const ways: string[] = [];
      const tokens = await deviceLogin({
        metadata,
        clientId: "public-cli",
        scope: ["read"],
        useWaitToken,
        onWaiting: (how) => ways.push(how),
        prompt: async (p) => {
          expect(p.verificationUriComplete).toContain(encodeURIComponent(p.userCode));
          expect(p.expiresAt.getTime()).toBeGreaterThan(Date.now());
          setTimeout(
            () =>
              void approver.approve({
                userCode: p.userCode,
                subject: "alice",
                decision: Decision.APPROVE,
              }),
            300,
          );
        },
      });
      expect(ways).toEqual([useWaitToken ? "stream" : "poll"]);
      expect(tokens.accessToken.split(".")).toHaveLength(3);
      expect(tokens.refreshToken).toBeDefined();
      expect(tokens.expiresAt).toBeGreaterThan(Date.now());
    });
  }

  it("a denial ends the login with access_denied (stream and polling)", async () => {
    const metadata = await discoverIssuer(server.issuer);
    for (const useWaitToken of [true, false]) {
      const denied = deviceLogin({
        metadata,
        clientId: "public-cli",
        useWaitToken,
        prompt: (p) => {
          setTimeout(
            () =>
              void approver.approve({
                userCode: p.userCode,
                subject: "alice",
                decision: Decision.DENY,
              }),
            200,
          );
        },
      });
      await expect(denied).rejects.toMatchObject({ code: "access_denied" });
    }
  });
});

describe("deviceLogin against a strict server (RFC 8628 §3.5)", () => {
  it("waits the interval before each poll, adds 5 s on slow_down and keeps it, waits Retry-After on 503", async () => {
    const s = await startStrictServer(1, [
      { error: "authorization_pending" },
      { error: "slow_down" },
      { status: 503, retryAfter: 8 },
      { error: "authorization_pending" },
      { token: "the-token" },
    ]);
    try {
      const tokens = await deviceLogin({
        metadata: await discoverIssuer(s.issuer),
        clientId: "c",
        prompt: () => {},
      });
      expect(tokens.accessToken).toBe("the-token");
      const g = gaps([s.authorizedAt, ...s.polls]);
      expect(g).toHaveLength(5);
      const [first, second, third, fourth, fifth] = g as [number, number, number, number, number];
      expect(first).toBeGreaterThanOrEqual(1000 - SLACK_MS); // the interval, before the first poll too
      expect(second).toBeGreaterThanOrEqual(1000 - SLACK_MS);
      expect(third).toBeGreaterThanOrEqual(6000 - SLACK_MS); // 1 + 5 after slow_down
      expect(fourth).toBeGreaterThanOrEqual(8000 - SLACK_MS); // Retry-After: 8 (more than the interval)
      expect(fifth).toBeGreaterThanOrEqual(6000 - SLACK_MS); // the +5 is kept
    } finally {
      await s.close();
    }
  }, 40_000);

  it("stops on expired_token, and on expiry without asking again", async () => {
    const s = await startStrictServer(1, [{ error: "expired_token" }]);
    try {
      const login = deviceLogin({
        metadata: await discoverIssuer(s.issuer),
        clientId: "c",
        prompt: () => {},
      });
      await expect(login).rejects.toMatchObject({ code: "expired_token" });
      expect(s.polls).toHaveLength(1);
    } finally {
      await s.close();
    }
    const short = await startStrictServer(1, [], 2);
    try {
      const login = deviceLogin({
        metadata: await discoverIssuer(short.issuer),
        clientId: "c",
        prompt: () => {},
      });
      await expect(login).rejects.toBeInstanceOf(OAuthClientError);
      await expect(login).rejects.toMatchObject({ code: "expired_token" });
      expect(short.polls.length).toBeLessThanOrEqual(2);
    } finally {
      await short.close();
    }
  });

  it("an AbortSignal cancels the wait: aborted, and no poll after it", async () => {
    const s = await startStrictServer(1, []);
    try {
      const abort = new AbortController();
      const login = deviceLogin({
        metadata: await discoverIssuer(s.issuer),
        clientId: "c",
        signal: abort.signal,
        prompt: () => {
          setTimeout(() => abort.abort(), 1500);
        },
      });
      await expect(login).rejects.toMatchObject({ code: "aborted" });
      const seen = s.polls.length;
      await new Promise((r) => setTimeout(r, 1200));
      expect(s.polls.length).toBe(seen);
    } finally {
      await s.close();
    }
  });
});
