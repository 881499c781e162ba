/**
 * Approval-to-token latency: a device waiting on a WaitToken stream against
 * a device polling PollToken at the server's interval (RFC 8628 §3.5). Two
 * handoff instances on one real redis-server: the device talks to A, the
 * person approves through B, so the stream is woken by Redis pub/sub.
 *
 *   npm run bench:latency            (BENCH_SAMPLES=20 BENCH_INTERVAL=5 by default)
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pino from "pino";
import { Decision, DeviceAuthService } from "../gen/handoff/v1/device_auth_pb.js";
import { DEMO_CLIENT } from "../src/config/dev-seed.js";
import { readSettings } from "../src/config/settings.js";
import { startHandoff } from "../src/server/handoff-server.js";
import { loadConfig } from "../src/server/load-config.js";
import { freePort } from "../test/support/free-port.js";
import { startRedis } from "../test/support/redis-server.js";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const INTERVAL = Number(process.env.BENCH_INTERVAL ?? 5);
const SERVICE_TOKEN = "bench-service-token-0123456789abcdef012345";

const redis = await startRedis();
// The settings a deployment would give (development mode: the demo client is seeded).
const logger = pino({ level: "silent" });
const start = async () => {
  const settings = readSettings({
    PORT: String(await freePort()),
    HANDOFF_HOST: "127.0.0.1",
    REDIS_URL: redis.url,
    HANDOFF_POLL_INTERVAL: String(INTERVAL),
    HANDOFF_SERVICE_TOKEN: SERVICE_TOKEN,
    HANDOFF_LOG_LEVEL: "silent",
    // Every authorization comes from loopback: the limit is still charged, never reached.
    HANDOFF_AUTHORIZE_LIMIT_PER_ADDRESS: "10000000",
    HANDOFF_AUTHORIZE_LIMIT_PER_CLIENT: "100000000",
  });
  const config = await loadConfig(settings, "development", logger);
  return startHandoff({ ...config, logDestination: pino.destination("/dev/null") });
};
const [a, b] = await Promise.all([start(), start()]);
const device = createClient(DeviceAuthService, createGrpcTransport({ baseUrl: a.issuer }));
const person = createClient(
  DeviceAuthService,
  createGrpcTransport({
    baseUrl: b.issuer,
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${SERVICE_TOKEN}`);
        return next(req);
      },
    ],
  }),
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The person approves at a random moment, as people do (uniform over one interval). */
const randomDelay = () => 300 + Math.random() * INTERVAL * 1000;

async function approveAfter(userCode: string, ms: number): Promise<number> {
  await sleep(ms);
  await person.approve({ userCode, subject: "bench", decision: Decision.APPROVE });
  return performance.now();
}

/** One sample over a stream: ms from Approve's answer to the token message. */
async function streamSample(): Promise<number> {
  const auth = await device.authorize({ clientId: DEMO_CLIENT.id });
  const approved = approveAfter(auth.userCode, randomDelay());
  for await (const m of device.waitToken({
    clientId: DEMO_CLIENT.id,
    deviceCode: auth.deviceCode,
  })) {
    if (m.event.case === "token") return performance.now() - (await approved);
  }
  throw new Error("stream ended without a token");
}

/** One sample polling at the interval, as RFC 8628 §3.5 asks: ms from Approve's answer to the token. */
async function pollSample(): Promise<number> {
  const auth = await device.authorize({ clientId: DEMO_CLIENT.id });
  const approved = approveAfter(auth.userCode, randomDelay());
  for (;;) {
    await sleep(auth.interval * 1000);
    try {
      await device.pollToken({ clientId: DEMO_CLIENT.id, deviceCode: auth.deviceCode });
      return performance.now() - (await approved);
    } catch {
      // authorization_pending: poll again after the interval
    }
  }
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { median: at(0.5), p90: at(0.9), max: s.at(-1) ?? Number.NaN };
};
const fmt = (ms: number) => (ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`);

// Samples run concurrently (each is its own device); the server sees a handful of flows at once.
const streams = await Promise.all(Array.from({ length: SAMPLES }, streamSample));
const polls = await Promise.all(Array.from({ length: SAMPLES }, pollSample));
const rows = [
  ["WaitToken stream (pub/sub wake-up)", stats(streams)],
  [`PollToken every ${INTERVAL} s`, stats(polls)],
] as const;
process.stdout.write(
  `\napproval-to-token latency, ${SAMPLES} samples each, two instances on one redis-server, loopback\n\n` +
    "| client | median | p90 | max |\n|---|---|---|---|\n" +
    rows.map(([n, s]) => `| ${n} | ${fmt(s.median)} | ${fmt(s.p90)} | ${fmt(s.max)} |`).join("\n") +
    "\n",
);
await Promise.all([a.close(), b.close()]);
await redis.stop();
