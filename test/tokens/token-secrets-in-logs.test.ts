/** Refresh tokens, access tokens and secrets never reach the logs, whatever the lifecycle step. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import {
  AGENT_SECRET,
  agent,
  deviceTokens,
  discover,
  introspect,
  LIFECYCLE_CLIENTS,
  oauthErrorOf,
  refresh,
  revoke,
} from "./token-fixtures.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clients: LIFECYCLE_CLIENTS, logLevel: "trace" });
});
afterAll(async () => server.close());

describe("logs at trace level", () => {
  it("never contain refresh tokens (nor their secret part), access tokens, client secrets or the service token", async () => {
    const as = await discover(server);
    const t = await deviceTokens(server, as, agent);
    const r = await refresh(as, t.refresh_token ?? "", agent);
    await oauthErrorOf(refresh(as, t.refresh_token ?? "", agent)); // reuse: the family is revoked
    await introspect(as, r.access_token);
    await revoke(as, r.access_token, agent);
    await server.post(
      "/oauth/introspect",
      { token: r.refresh_token ?? "" },
      { authorization: "Bearer not-the-service-token-but-secret-looking" },
    );
    await server.post(
      "/oauth/introspect",
      { token: t.access_token },
      { authorization: `Bearer ${SERVICE_TOKEN}` },
    );
    const logs = server.logs();
    expect(logs).toContain('"path":"/oauth/introspect"'); // the access log did run
    for (const secret of [
      t.refresh_token ?? "",
      (t.refresh_token ?? "").split(".")[1] ?? "",
      r.refresh_token ?? "",
      t.access_token,
      (t.access_token.split(".")[2] ?? "").slice(0, 40),
      r.access_token,
      AGENT_SECRET,
      SERVICE_TOKEN,
      "not-the-service-token-but-secret-looking",
    ]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(logs).not.toContain(secret);
    }
  });
});
