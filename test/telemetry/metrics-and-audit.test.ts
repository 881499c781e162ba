/**
 * GET /metrics and the audit log after whole flows, on memory and on Redis:
 * every counter moves, every security event is one info line with client,
 * subject and addresses, and no secret reaches the log. docs/operations.md.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEVICE_CODE_GRANT } from "../../src/domain/client.js";
import { hashScrypt } from "../../src/domain/secret-hash.js";
import { ALICE, FormClient, testUsers } from "../pages/page-fixtures.js";
import {
  authorizeDevice,
  pollToken,
  SERVICE_TOKEN,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";
import { CONFIDENTIAL_SECRET, TEST_CLIENTS } from "../support/test-clients.js";

const METRICS_TOKEN = "test-metrics-token-0123456789abcdef0123456789";

/** Reads one sample's value from the text format; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

async function scrape(server: TestServer): Promise<string> {
  const res = await fetch(`${server.issuer}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return res.text();
}

type AuditLine = Record<string, string> & { level: number; event: string };
const auditLines = (server: TestServer): AuditLine[] =>
  server
    .logs()
    .split("\n")
    .filter((l) => l.includes('"msg":"audit"'))
    .map((l) => JSON.parse(l) as AuditLine);

describe.each(["memory", "redis"] as const)("metrics and audit events (%s)", (kind) => {
  let server: TestServer;
  let redis: RedisProcess | undefined;
  const secrets: string[] = [CONFIDENTIAL_SECRET, SERVICE_TOKEN, METRICS_TOKEN, ALICE.password];

  beforeAll(async () => {
    if (kind === "redis") redis = await startRedis();
    server = await startTestServer({
      ...(redis ? { redis: { url: redis.url } } : {}),
      clients: [
        ...TEST_CLIENTS,
        {
          id: "agent",
          name: "Agent",
          secretHash: await hashScrypt(CONFIDENTIAL_SECRET, 1024),
          grantTypes: [DEVICE_CODE_GRANT],
          scopes: ["read"],
          defaultScopes: ["read"],
          redirectUris: [],
          active: true,
        },
      ],
      metricsToken: METRICS_TOKEN,
      deviceCodeTtl: 3,
      logLevel: "info",
      authenticator: await testUsers(),
      attemptLimits: {
        codePerSession: 1,
        signInPerAccount: 1,
        clientAuthPerAddress: 1,
        firstDelayMs: 60_000,
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it("GET /metrics needs its own bearer credential", async () => {
    const none = await fetch(`${server.issuer}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer /);
    const service = await fetch(`${server.issuer}/metrics`, {
      headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    expect(service.status).toBe(401);
    expect(service.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(await (await fetch(`${server.issuer}/metrics`)).json()).toMatchObject({
      error: "invalid_token",
    });
  });

  it("after whole flows every counter has moved, and each event is one audit line without secrets", async () => {
    const before = await scrape(server);
    expect(sample(before, "handoff_device_authorizations_total")).toBe(0);

    // Pending, slow_down, approve over the page (signed in), issued, refresh, reuse, revoke.
    const a = await authorizeDevice(server, { client_id: "public-cli", scope: "read" });
    secrets.push(a.device_code, a.user_code, a.user_code.replace("-", ""));
    expect((await pollToken(server, a.device_code)).status).toBe(400); // pending
    expect(
      ((await (await pollToken(server, a.device_code)).json()) as { error: string }).error,
    ).toBe("slow_down");
    const browser = new FormClient(server.issuer, { "user-agent": "metrics-test" });
    await browser.signIn(ALICE);
    secrets.push(...["handoff_session", "handoff_csrf"].flatMap((c) => browser.cookie(c) ?? []));
    await browser.post("/device", { _csrf: browser.csrf(), user_code: a.user_code });
    const approved = await browser.post("/device/decision", {
      _csrf: browser.csrf(),
      user_code: a.user_code,
      decision: "approve",
    });
    expect(approved.status).toBe(200);
    await sleep(900);
    const issued = (await (await pollToken(server, a.device_code)).json()) as {
      access_token: string;
      refresh_token: string;
    };
    expect(issued.refresh_token).toBeTruthy();
    const refreshed = (await (
      await server.post("/oauth/token", {
        grant_type: "refresh_token",
        refresh_token: issued.refresh_token,
        client_id: "public-cli",
      })
    ).json()) as { access_token: string; refresh_token: string };
    const reuse = await server.post("/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: issued.refresh_token,
      client_id: "public-cli",
    });
    expect(reuse.status).toBe(400);
    secrets.push(
      issued.access_token,
      issued.refresh_token,
      refreshed.access_token,
      refreshed.refresh_token,
    );
    expect(
      (
        await server.post("/oauth/revoke", {
          token: refreshed.access_token,
          client_id: "public-cli",
        })
      ).status,
    ).toBe(200);

    // Denied (RPC Approve with DENY), and a phishing report.
    const rpc = deviceAuthClients(server.issuer, [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${SERVICE_TOKEN}`);
        return next(req);
      },
    ])["Connect over HTTP/1.1"] as DeviceAuthClient;
    const b = await rpc.authorize({ clientId: "public-cli" });
    secrets.push(b.deviceCode, b.userCode);
    // The device waits on a WaitToken stream: the gauge counts it while it is open.
    const waiting = (async () => {
      try {
        for await (const _ of rpc.waitToken({ clientId: "public-cli", deviceCode: b.deviceCode })) {
          // heartbeats until the decision
        }
        return "ended";
      } catch (e) {
        return ConnectError.from(e).code;
      }
    })();
    for (let i = 0; i < 100 && sample(await scrape(server), "handoff_open_streams") !== 1; i++) {
      await sleep(20);
    }
    expect(sample(await scrape(server), "handoff_open_streams")).toBe(1);
    await server.flow.decide({
      userCode: b.userCode,
      subject: "bob",
      approve: false,
      approverAddress: "192.0.2.7",
    });
    expect(await waiting).toBe(Code.PermissionDenied);
    expect(
      ((await (await pollToken(server, b.deviceCode)).json()) as { error: string }).error,
    ).toBe("access_denied");
    const c = await authorizeDevice(server);
    secrets.push(c.device_code, c.user_code);
    await server.flow.decide({
      userCode: c.user_code,
      subject: "carol",
      approve: false,
      reportPhishing: true,
      approverAddress: "198.51.100.9",
    });

    // Limits: past the allowance of one: wrong codes in one session, wrong passwords, wrong secrets.
    for (const code of ["WXYZ-2345", "WXYZ-2346", "WXYZ-2347"]) {
      await browser.get("/device");
      await browser.post("/device", { _csrf: browser.csrf(), user_code: code });
    }
    const stranger = new FormClient(server.issuer);
    for (let i = 0; i < 3; i++) {
      await stranger.get("/device/sign-in");
      await stranger.post("/device/sign-in", {
        _csrf: stranger.csrf(),
        username: "bob",
        password: "wrong password",
        return_to: "/device",
      });
    }
    for (let i = 0; i < 3; i++) {
      await server.post("/oauth/device/authorize", { client_id: "agent", client_secret: "wrong" });
    }

    // Expired: a code outlives its 3 s (and the second it is rounded up to).
    const d = await authorizeDevice(server);
    secrets.push(d.device_code, d.user_code);
    await sleep(4100); // the code carries its expiry in whole seconds, rounded up
    expect(
      ((await (await pollToken(server, d.device_code)).json()) as { error: string }).error,
    ).toBe("expired_token");

    const m = await scrape(server);
    const moved: Array<[string, Record<string, string>?]> = [
      ["handoff_device_authorizations_total"],
      ["handoff_polls_total", { outcome: "pending" }],
      ["handoff_polls_total", { outcome: "slow_down" }],
      ["handoff_polls_total", { outcome: "denied" }],
      ["handoff_polls_total", { outcome: "expired" }],
      ["handoff_polls_total", { outcome: "issued" }],
      ["handoff_approvals_total"],
      ["handoff_denials_total"],
      ["handoff_phishing_reports_total"],
      ["handoff_tokens_issued_total", { grant: "device_code" }],
      ["handoff_tokens_issued_total", { grant: "refresh_token" }],
      ["handoff_refresh_rotations_total"],
      ["handoff_refresh_reuse_detected_total"],
      ["handoff_revocations_total", { token_type: "access_token", by: "client" }],
      ["handoff_limit_refusals_total", { limit: "user_code" }],
      ["handoff_limit_refusals_total", { limit: "sign_in" }],
      ["handoff_limit_refusals_total", { limit: "client_auth" }],
      ["handoff_http_request_duration_seconds_count", { route: "/oauth/token", outcome: "200" }],
      [
        "handoff_http_request_duration_seconds_count",
        { route: "/oauth/token", outcome: "authorization_pending" },
      ],
      [
        "handoff_rpc_duration_seconds_count",
        { procedure: "handoff.v1.DeviceAuthService/Authorize", outcome: "ok" },
      ],
      [
        "handoff_store_operation_duration_seconds_count",
        { backend: kind, store: "device", operation: "poll" },
      ],
      [
        "handoff_store_operation_duration_seconds_count",
        { backend: kind, store: "token", operation: "rotate" },
      ],
    ];
    for (const [name, labels] of moved) {
      expect(sample(m, name, labels), `${name} ${JSON.stringify(labels ?? {})}`).toBeGreaterThan(0);
    }
    expect(sample(m, "handoff_device_authorizations_total")).toBe(4);
    expect(sample(m, "handoff_polls_total", { outcome: "issued" })).toBe(1);
    expect(m).toContain("handoff_open_streams 0");
    // Route templates only: no raw path, and no code from a query string, becomes a label.
    expect(m).not.toContain(a.user_code);

    // The audit log: one info line per event, with who and from where.
    const lines = auditLines(server);
    expect(lines.every((l) => l.level === 30)).toBe(true);
    const byEvent = (e: string) => lines.filter((l) => l.event === e);
    expect(byEvent("authorized")).toHaveLength(4);
    expect(byEvent("authorized")[0]).toMatchObject({ client_id: "public-cli", ip: "127.0.0.1" });
    expect(byEvent("approved")).toEqual([
      expect.objectContaining({
        client_id: "public-cli",
        subject: "alice",
        ip: "127.0.0.1",
        requester_ip: "127.0.0.1",
      }),
    ]);
    expect(
      byEvent("denied")
        .map((l) => l.subject)
        .sort(),
    ).toEqual(["bob", "carol"]);
    expect(byEvent("phishing_reported")).toEqual([
      expect.objectContaining({
        client_id: "public-cli",
        subject: "carol",
        ip: "198.51.100.9",
        requester_ip: "127.0.0.1",
      }),
    ]);
    expect(byEvent("issued")).toEqual([
      expect.objectContaining({ client_id: "public-cli", subject: "alice", grant: "device_code" }),
    ]);
    expect(byEvent("refreshed")).toEqual([
      expect.objectContaining({ client_id: "public-cli", subject: "alice" }),
    ]);
    expect(byEvent("reuse_detected")).toEqual([
      expect.objectContaining({ client_id: "public-cli" }),
    ]);
    expect(byEvent("revoked")).toEqual([
      expect.objectContaining({
        client_id: "public-cli",
        subject: "alice",
        token_type: "access_token",
      }),
    ]);
    const log = server.logs();
    for (const s of secrets) expect(log).not.toContain(s);
  });

  it.runIf(kind === "redis")("counts store errors when Redis is gone", async () => {
    await redis?.stop();
    redis = undefined;
    expect((await server.post("/oauth/device/authorize", { client_id: "public-cli" })).status).toBe(
      503,
    );
    const m = await scrape(server);
    expect(
      sample(m, "handoff_store_errors_total", {
        backend: "redis",
        store: "device",
        // On one Redis a device authorization's write charges its quota in the same step.
        operation: "createCharged",
      }),
    ).toBeGreaterThan(0);
  });
});
