/**
 * Every endpoint and RPC that touches the state store, asked once each:
 * what the outage tests fire while Redis or a whole Cluster is
 * down, to show each answers `temporarily_unavailable` within the store
 * deadline, and what they fire again to show service came back.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  Decision,
  DeviceAuthService,
  ErrorCode,
  OAuthErrorSchema,
} from "../../gen/handoff/v1/device_auth_pb.js";
import { TokenService } from "../../gen/handoff/v1/token_service_pb.js";
import { ALICE, FormClient } from "../pages/page-fixtures.js";
import { DEVICE_GRANT, SERVICE_TOKEN } from "./handoff-server.js";
import { bearer } from "./rpc-clients.js";

/** What the probes present: live codes and tokens, and a signed-in page session. */
export interface ProbeFixture {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly refreshToken: string;
  readonly accessToken: string;
  readonly page: FormClient;
  /** A CSRF token of the page session (read from its code-entry page). */
  readonly csrf: string;
}

/** One answer: how long it took and whether it was the outage answer the contract promises. */
export interface ProbeResult {
  readonly name: string;
  readonly ms: number;
  /** "unavailable" when the answer is the promised 503 / UNAVAILABLE; else what came back. */
  readonly answer: string;
}

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

/** Obtains the fixture while the store is up: a pending flow, a token set, a page session. */
export async function prepareProbes(base: string): Promise<ProbeFixture> {
  const rpc = createClient(
    DeviceAuthService,
    createGrpcTransport({ baseUrl: base, interceptors: [bearer(SERVICE_TOKEN)] }),
  );
  const authorize = async () => {
    const res = await fetch(`${base}/oauth/device/authorize`, form({ client_id: "public-cli" }));
    return (await res.json()) as { device_code: string; user_code: string };
  };
  const pending = await authorize();
  const approved = await authorize();
  await rpc.approve({ userCode: approved.user_code, subject: "alice", decision: Decision.APPROVE });
  const res = await fetch(
    `${base}/oauth/token`,
    form({ grant_type: DEVICE_GRANT, device_code: approved.device_code, client_id: "public-cli" }),
  );
  const tokens = (await res.json()) as { access_token: string; refresh_token: string };
  if (!tokens.refresh_token) throw new Error(`no token set: ${JSON.stringify(tokens)}`);
  const page = new FormClient(base);
  await page.signIn(ALICE);
  return {
    deviceCode: pending.device_code,
    userCode: pending.user_code,
    refreshToken: tokens.refresh_token,
    accessToken: tokens.access_token,
    page,
    csrf: page.csrf(),
  };
}

async function http(res: Promise<Response>): Promise<string> {
  const r = await res;
  const body = await r.text();
  if (r.status === 503 && /^\d+$/.test(r.headers.get("retry-after") ?? "")) return "unavailable";
  if (r.status === 503 && body.includes('"unavailable"')) return "unavailable"; // /readyz
  if (r.status === 503 && r.headers.get("content-type")?.startsWith("text/html")) {
    return "unavailable"; // the page's error page
  }
  return `${r.status} ${body.slice(0, 120)}`;
}

async function rpc(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (e) {
    const ce = ConnectError.from(e);
    const detail = ce.findDetails(OAuthErrorSchema)[0]?.code;
    if (ce.code === Code.Unavailable && detail === ErrorCode.TEMPORARILY_UNAVAILABLE) {
      return "unavailable";
    }
    return `${Code[ce.code]} ${ce.rawMessage}`;
  }
}

/** Fires every store-backed endpoint and RPC once, all at the same time. */
export async function probeAll(base: string, f: ProbeFixture): Promise<ProbeResult[]> {
  const transport = createGrpcTransport({ baseUrl: base });
  const service = createGrpcTransport({ baseUrl: base, interceptors: [bearer(SERVICE_TOKEN)] });
  const device = createClient(DeviceAuthService, transport);
  const deviceAsService = createClient(DeviceAuthService, service);
  const tokens = createClient(TokenService, transport);
  const tokensAsService = createClient(TokenService, service);
  const auth = { authorization: `Bearer ${SERVICE_TOKEN}` };
  const sessionCsrf = f.csrf;
  const probes: Record<string, () => Promise<string>> = {
    "POST /oauth/device/authorize": () =>
      http(fetch(`${base}/oauth/device/authorize`, form({ client_id: "public-cli" }))),
    "POST /oauth/token (device_code)": () =>
      http(
        fetch(
          `${base}/oauth/token`,
          form({ grant_type: DEVICE_GRANT, device_code: f.deviceCode, client_id: "public-cli" }),
        ),
      ),
    "POST /oauth/token (refresh_token)": () =>
      http(
        fetch(
          `${base}/oauth/token`,
          form({
            grant_type: "refresh_token",
            refresh_token: f.refreshToken,
            client_id: "public-cli",
          }),
        ),
      ),
    "POST /oauth/revoke": () =>
      http(
        fetch(`${base}/oauth/revoke`, {
          ...form({ token: f.accessToken }),
          headers: { ...form({}).headers, ...auth },
        }),
      ),
    "POST /oauth/introspect": () =>
      http(
        fetch(`${base}/oauth/introspect`, {
          ...form({ token: f.accessToken }),
          headers: { ...form({}).headers, ...auth },
        }),
      ),
    "GET /readyz": () => http(fetch(`${base}/readyz`)),
    "GET /device (session)": () => http(f.page.get(`/device?user_code=${f.userCode}`)),
    // A browser of its own: signing in again would give the shared one a new
    // session, and the other forms' tokens are bound to the session they came with.
    "POST /device/sign-in": async () => {
      const fresh = new FormClient(base);
      await fresh.get("/device/sign-in");
      return http(
        fresh.post("/device/sign-in", {
          _csrf: fresh.csrf(),
          username: ALICE.username,
          password: ALICE.password,
          return_to: "/device",
        }),
      );
    },
    "POST /device (code entry)": () =>
      http(f.page.post("/device", { _csrf: sessionCsrf, user_code: f.userCode })),
    "POST /device/decision": () =>
      http(
        f.page.post("/device/decision", {
          _csrf: sessionCsrf,
          user_code: f.userCode,
          decision: "deny",
        }),
      ),
    "rpc Authorize": () => rpc(device.authorize({ clientId: "public-cli" })),
    "rpc PollToken": () =>
      rpc(device.pollToken({ clientId: "public-cli", deviceCode: f.deviceCode })),
    "rpc Approve": () =>
      rpc(
        deviceAsService.approve({
          userCode: f.userCode,
          subject: "alice",
          decision: Decision.DENY,
        }),
      ),
    "rpc GetDeviceAuthorization": () =>
      rpc(deviceAsService.getDeviceAuthorization({ userCode: f.userCode })),
    "rpc Refresh": () =>
      rpc(tokens.refresh({ clientId: "public-cli", refreshToken: f.refreshToken })),
    "rpc Revoke": () => rpc(tokensAsService.revoke({ token: f.accessToken })),
    "rpc Introspect": () => rpc(tokensAsService.introspect({ token: f.accessToken })),
  };
  return Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      const started = performance.now();
      const answer = await probe().catch((e: Error) => `threw ${e.message}`);
      return { name, ms: Math.round(performance.now() - started), answer };
    }),
  );
}
