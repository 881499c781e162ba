/** Starts a real handoff server on a free loopback port for a test. */
import { Writable } from "node:stream";
import { type AttemptLimits, DEFAULT_ATTEMPT_LIMITS } from "../../src/auth/attempt-limits.js";
import { SETTING_DEFAULTS } from "../../src/config/settings.js";
import { DEFAULT_RESOURCE_LIMITS } from "../../src/domain/resource.js";
import {
  type HandoffConfig,
  type RunningHandoff,
  startHandoff,
} from "../../src/server/handoff-server.js";
import { generateSigningKey, KeyRing } from "../../src/tokens/signing-keys.js";
import { freePort } from "./free-port.js";
import { TEST_CLIENTS } from "./test-clients.js";

export const SERVICE_TOKEN = "test-service-token-0123456789abcdef0123456789";
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

export interface TestServer extends RunningHandoff {
  /** Every log line the server wrote, as text. */
  readonly logs: () => string;
  /** POSTs a form to a path and returns the response. */
  post(
    path: string,
    form: Record<string, string | string[]>,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

let sharedKeys: KeyRing | undefined;

/** What a test may set: any part of the configuration; the attempt limits one by one. */
export type TestServerOptions = Partial<Omit<HandoffConfig, "attemptLimits">> & {
  readonly attemptLimits?: Partial<AttemptLimits>;
};

/**
 * The server listens last, after the issuer (which names the port) is built
 * in: so a port is picked first, and picked again in the rare case another
 * process took it meanwhile. A test that names its issuer or port gets those.
 */
async function startOnFreePort(
  overrides: TestServerOptions,
  config: (port: number) => HandoffConfig,
): Promise<RunningHandoff> {
  if (overrides.issuer !== undefined || overrides.port !== undefined) {
    return startHandoff(config(overrides.port ?? 0));
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startHandoff(config(await freePort()));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt === 5) throw e;
    }
  }
}

/** A test server: memory store unless `redis` is given; short interval for fast pacing tests. */
/** The server's log lines with `msg` (e.g. "request", the access log; "rpc", the RPC access log), parsed. */
export function logLines(server: Pick<TestServer, "logs">, msg: string): Record<string, unknown>[] {
  return server
    .logs()
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

export async function startTestServer(overrides: TestServerOptions = {}): Promise<TestServer> {
  sharedKeys ??= new KeyRing([await generateSigningKey("ES256")]);
  const keys = sharedKeys;
  let logText = "";
  const logDestination = new Writable({
    write(chunk, _enc, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  // What the settings give when unset (src/config/settings.ts), then what tests want shorter.
  const D = SETTING_DEFAULTS;
  const config = (port: number): HandoffConfig => {
    const issuer = overrides.issuer ?? `http://localhost:${port}`;
    return {
      host: "127.0.0.1",
      port,
      issuer,
      verificationUri: `${issuer}/device`,
      defaultAudience: issuer,
      deviceCodeTtl: 60,
      pollInterval: 1,
      pollJitterMs: 200,
      waitMaxStreams: 1000,
      waitRecheckMs: 1000,
      waitHeartbeatMs: 15_000,
      accessTokenTtl: 300,
      authorizationCodeTtl: 60,
      refreshTokenIdleTtl: D.HANDOFF_REFRESH_TOKEN_IDLE_TTL,
      refreshTokenTtl: D.HANDOFF_REFRESH_TOKEN_TTL,
      refreshReuseWindow: D.HANDOFF_REFRESH_REUSE_WINDOW,
      connectionsMaxPerSubject: D.HANDOFF_CONNECTIONS_MAX_PER_SUBJECT,
      signingKeysWatchMs: D.HANDOFF_SIGNING_KEYS_WATCH_MS,
      resourceLimits: DEFAULT_RESOURCE_LIMITS,
      bodyLimit: 4096,
      headersTimeoutMs: D.HANDOFF_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: D.HANDOFF_REQUEST_TIMEOUT_MS,
      maxConnections: D.HANDOFF_MAX_CONNECTIONS,
      tokenRetryWindow: D.HANDOFF_TOKEN_RETRY_WINDOW,
      serviceToken: SERVICE_TOKEN,
      redisKeyPrefix: "",
      redisTimeoutMs: 1000,
      redisWaitReplicas: D.HANDOFF_REDIS_WAIT_REPLICAS,
      redisWaitTimeoutMs: D.HANDOFF_REDIS_WAIT_TIMEOUT_MS,
      memoryMaxPending: 10_000,
      clients: TEST_CLIENTS,
      keys,
      logLevel: "trace",
      logDestination,
      authenticator: { kind: "local", users: [] },
      sessionTtl: D.HANDOFF_SESSION_TTL,
      ...overrides,
      attemptLimits: {
        ...DEFAULT_ATTEMPT_LIMITS,
        // Tests make many device authorizations from one loopback address; the
        // tests of that limit set it (test/http/device-authorization-limits.test.ts).
        authorizePerAddress: 1_000_000,
        authorizePerClient: 1_000_000,
        ...overrides.attemptLimits,
      },
    };
  };
  const server = await startOnFreePort(overrides, config);
  return Object.assign(server, {
    logs: () => logText,
    post: (
      path: string,
      form: Record<string, string | string[]>,
      headers: Record<string, string> = {},
    ) => {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
      return fetch(server.issuer + path, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: body.toString(),
      });
    },
  });
}

/** Starts a flow as `clientId` through the RFC endpoint and returns the JSON. */
export async function authorizeDevice(
  server: TestServer,
  form: Record<string, string | string[]> = { client_id: "public-cli" },
  headers: Record<string, string> = {},
): Promise<{ device_code: string; user_code: string; interval: number; expires_in: number }> {
  const res = await server.post("/oauth/device/authorize", form, headers);
  if (res.status !== 200) throw new Error(`authorize failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as {
    device_code: string;
    user_code: string;
    interval: number;
    expires_in: number;
  };
}

/** One RFC token-endpoint poll for the device grant. */
export function pollToken(
  server: TestServer,
  deviceCode: string,
  clientId = "public-cli",
): Promise<Response> {
  return server.post("/oauth/token", {
    grant_type: DEVICE_GRANT,
    device_code: deviceCode,
    client_id: clientId,
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
