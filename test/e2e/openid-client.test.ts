/**
 * openid-client's own polling loop (waits `interval` before the first poll,
 * obeys slow_down) against handoff, approved while it waits.
 */
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/handoff-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.close());

/** RFC 8414 discovery as the public CLI, over plain http (loopback). */
const discover = () =>
  client.discovery(new URL(server.issuer), "public-cli", undefined, client.None(), {
    algorithm: "oauth2",
    execute: [client.allowInsecureRequests],
  });

describe("openid-client against handoff", () => {
  it("RFC 8628 §3.4–3.5: pollDeviceAuthorizationGrant gets the token once the person approves", async () => {
    const config = await discover();
    const dar = await client.initiateDeviceAuthorization(config, { scope: "read" });
    const polling = client.pollDeviceAuthorizationGrant(config, dar);
    setTimeout(() => {
      void server.flow.decide({ userCode: dar.user_code, subject: "alice", approve: true });
    }, 1500);
    const tokens = await polling;
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.scope).toBe("read");
    // A client that obeys the interval is never told to slow down (RFC 8628 §3.5), and it did poll while pending.
    expect(server.logs()).toContain('"error":"authorization_pending"');
    expect(server.logs()).not.toContain('"error":"slow_down"');
  });

  it("RFC 8628 §3.5: the loop ends with access_denied", async () => {
    const config = await discover();
    const dar = await client.initiateDeviceAuthorization(config, {});
    await server.flow.decide({ userCode: dar.user_code, subject: "alice", approve: false });
    await expect(client.pollDeviceAuthorizationGrant(config, dar)).rejects.toMatchObject({
      error: "access_denied",
    });
  });
});
