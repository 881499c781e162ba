/** handoff as deployed: Redis store, info-level JSON logs (to /dev/null), one process. */
import pino from "pino";
import { DEMO_CLIENT } from "../src/config/dev-seed.js";
import { startHandoff } from "../src/server/handoff-server.js";
import { generateSigningKey, KeyRing } from "../src/tokens/signing-keys.js";

const server = await startHandoff({
  host: "127.0.0.1",
  port: Number(process.env.PORT),
  deviceCodeTtl: 900,
  pollInterval: 5,
  pollJitterMs: 1000,
  accessTokenTtl: 3600,
  bodyLimit: 16384,
  redis: { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
  redisKeyPrefix: "",
  redisTimeoutMs: 2000,
  memoryMaxPending: 2_000_000,
  clients: [DEMO_CLIENT],
  keys: new KeyRing([await generateSigningKey("ES256")]),
  logLevel: process.env.BENCH_LOG_LEVEL ?? "info",
  logDestination: pino.destination({ dest: "/dev/null", sync: false, minLength: 4096 }),
});
process.stdout.write(`ready ${server.port}\n`);
process.on("SIGINT", () => {
  void server.close().then(() => process.exit(0));
});
