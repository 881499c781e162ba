/** Secrets never reach the logs: run whole flows at trace level and search the log for each secret. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/handoff/v1/device_auth_pb.js";
import {
  authorizeDevice,
  pollToken,
  SERVICE_TOKEN,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { bearer, type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";
import { CONFIDENTIAL_SECRET } from "../support/test-clients.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ logLevel: "trace" });
});
afterAll(async () => server.close());

describe("logs", () => {
  it("never contain device codes, user codes, tokens, client secrets or the service token", async () => {
    const secrets: string[] = [CONFIDENTIAL_SECRET, SERVICE_TOKEN];
    // HTTP, with a confidential client, the user code in a query string, and a failed Basic attempt.
    const a = await authorizeDevice(server, {
      client_id: "confidential-agent",
      client_secret: CONFIDENTIAL_SECRET,
    });
    secrets.push(a.device_code, a.user_code, a.user_code.replace("-", ""));
    await fetch(`${server.issuer}/device?user_code=${a.user_code}`);
    await fetch(
      `${server.issuer}/oauth/token?client_secret=${encodeURIComponent(CONFIDENTIAL_SECRET)}`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `client_id=confidential-agent&device_code=${a.device_code}`,
      },
    );
    await server.post(
      "/oauth/token",
      { grant_type: "x" },
      { authorization: `Basic ${Buffer.from("confidential-agent:wrong").toString("base64")}` },
    );
    await server.flow.decide({ userCode: a.user_code, subject: "alice", approve: true });
    const tokenRes = await server.post("/oauth/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: a.device_code,
      client_id: "confidential-agent",
      client_secret: CONFIDENTIAL_SECRET,
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    secrets.push(access_token);

    // RPC, with the service credential.
    const rpc = deviceAuthClients(server.issuer, [bearer(SERVICE_TOKEN)])[
      "gRPC over h2c"
    ] as DeviceAuthClient;
    const b = await rpc.authorize({ clientId: "public-cli" });
    secrets.push(b.deviceCode, b.userCode);
    await rpc.approve({ userCode: b.userCode, subject: "bob", decision: Decision.APPROVE });
    secrets.push(
      (await rpc.pollToken({ clientId: "public-cli", deviceCode: b.deviceCode })).accessToken,
    );
    await pollToken(server, b.deviceCode);

    const logs = server.logs();
    expect(logs).toContain('"msg":"request"'); // the access logs are on, at trace level
    expect(logs).toContain('"rpc":"handoff.v1.DeviceAuthService/Approve"');
    for (const s of secrets) expect(logs).not.toContain(s);
  });
});
