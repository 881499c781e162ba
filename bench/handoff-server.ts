/**
 * handoff as deployed: info-level JSON logs (to /dev/null, asynchronously, as
 * in production to stdout), one process. Redis when REDIS_URL is set, else
 * the memory store; BENCH_PREFILL=N first creates N pending authorizations
 * (for the flat-cost table on the memory store).
 */

import { openSync } from "node:fs";
import { DEFAULT_ATTEMPT_LIMITS } from "../src/auth/attempt-limits.js";
import { DEMO_CLIENT } from "../src/config/dev-seed.js";
import { SETTING_DEFAULTS } from "../src/config/settings.js";
import { DEFAULT_RESOURCE_LIMITS } from "../src/domain/resource.js";
import { startHandoff } from "../src/server/handoff-server.js";
import { asyncStdout } from "../src/server/logger.js";
import { generateSigningKey, KeyRing } from "../src/tokens/signing-keys.js";

const port = Number(process.env.PORT);
const issuer = `http://localhost:${port}`;
// Whatever the bench does not set is at the settings' defaults.
const D = SETTING_DEFAULTS;
const server = await startHandoff({
  host: "127.0.0.1",
  port,
  issuer,
  verificationUri: `${issuer}/device`,
  defaultAudience: issuer,
  deviceCodeTtl: 900,
  pollInterval: 5,
  pollJitterMs: 1000,
  waitMaxStreams: 1000,
  waitRecheckMs: 5000,
  waitHeartbeatMs: 15_000,
  accessTokenTtl: 3600,
  authorizationCodeTtl: 60,
  bodyLimit: 16384,
  headersTimeoutMs: D.HANDOFF_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: D.HANDOFF_REQUEST_TIMEOUT_MS,
  maxConnections: D.HANDOFF_MAX_CONNECTIONS,
  tokenRetryWindow: D.HANDOFF_TOKEN_RETRY_WINDOW,
  refreshTokenIdleTtl: D.HANDOFF_REFRESH_TOKEN_IDLE_TTL,
  refreshTokenTtl: D.HANDOFF_REFRESH_TOKEN_TTL,
  refreshReuseWindow: D.HANDOFF_REFRESH_REUSE_WINDOW,
  connectionsMaxPerSubject: D.HANDOFF_CONNECTIONS_MAX_PER_SUBJECT,
  signingKeysWatchMs: D.HANDOFF_SIGNING_KEYS_WATCH_MS,
  resourceLimits: DEFAULT_RESOURCE_LIMITS,
  authenticator: { kind: "local", users: [] },
  sessionTtl: D.HANDOFF_SESSION_TTL,
  ...(process.env.REDIS_URL ? { redis: { url: process.env.REDIS_URL } } : {}),
  redisKeyPrefix: "",
  // Raised by bench/instructions.ts: under valgrind a store call takes far longer.
  redisTimeoutMs: Number(process.env.BENCH_REDIS_TIMEOUT_MS ?? 2000),
  redisWaitReplicas: D.HANDOFF_REDIS_WAIT_REPLICAS,
  redisWaitTimeoutMs: D.HANDOFF_REDIS_WAIT_TIMEOUT_MS,
  memoryMaxPending: 2_000_000,
  // The load comes from one loopback address: the per-address and per-client
  // counters are still charged on every authorization, never reached.
  attemptLimits: {
    ...DEFAULT_ATTEMPT_LIMITS,
    authorizePerAddress: 100_000_000,
    authorizePerClient: 100_000_000,
  },
  clients: [DEMO_CLIENT],
  keys: new KeyRing([await generateSigningKey("ES256")]),
  logLevel: process.env.BENCH_LOG_LEVEL ?? "info",
  logDestination: asyncStdout(openSync("/dev/null", "w")),
});
const prefill = Number(process.env.BENCH_PREFILL ?? 0);
for (let i = 0; i < prefill; i++) {
  await server.flow.authorize({
    credentials: { clientId: DEMO_CLIENT.id, method: "none", address: "127.0.0.1" },
    ipAddress: "127.0.0.1",
    userAgent: "bench-prefill/1.0",
  });
}
process.stdout.write(`ready ${server.port}\n`);
process.on("SIGINT", () => {
  void server.close().then(() => process.exit(0));
});
