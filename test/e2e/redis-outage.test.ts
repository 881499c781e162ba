/**
 * Redis outages: with Redis gone the RFC endpoints answer 503
 * temporarily_unavailable with Retry-After, the RPCs UNAVAILABLE, readiness
 * fails while liveness stays up, nothing hangs past the configured timeout,
 * and service resumes without a restart when Redis returns. With AOF on, a
 * Redis restart loses no pending or approved authorization.
 */

import { Code, ConnectError } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode, OAuthErrorSchema } from "../../gen/handoff/v1/device_auth_pb.js";
import { testUsers } from "../pages/page-fixtures.js";
import {
  authorizeDevice,
  pollToken,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { prepareProbes, probeAll } from "../support/outage-probes.js";
import { expectOutageAnswers, slowest } from "../support/outage-rounds.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";
import { until } from "../support/until.js";

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe("Redis outage", () => {
  it("Retry-After is never sooner than an issuance attempt's lease (2 × HANDOFF_REDIS_TIMEOUT_MS + 1 s): a client that waits it comes back as a retry", async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const server = await startTestServer({ redis: { url: redis.url }, redisTimeoutMs: 3000 });
    cleanup.push(() => server.close());
    const { device_code } = await authorizeDevice(server);
    await redis.stop();
    // The poll (answered by the form fast path) and a revocation (by fastify's route).
    const poll = await pollToken(server, device_code);
    const revoke = await server.post("/oauth/revoke", {
      token: `${"A".repeat(22)}.${"B".repeat(43)}`,
      client_id: "public-cli",
    });
    for (const res of [poll, revoke]) {
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("7");
    }
  }, 30_000);

  it("503 + Retry-After, UNAVAILABLE, readiness down, liveness up; resumes when Redis returns", async () => {
    let redis: RedisProcess = await startRedis();
    const port = redis.port;
    const server: TestServer = await startTestServer({
      redis: { url: redis.url },
      redisTimeoutMs: 500,
    });
    cleanup.push(() => server.close());
    const rpc = deviceAuthClients(server.issuer)["gRPC over h2c"] as DeviceAuthClient;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    cleanup.push(async () => {
      process.off("unhandledRejection", onUnhandled);
    });

    const { device_code } = await authorizeDevice(server);
    expect((await fetch(`${server.issuer}/readyz`)).status).toBe(200);
    await redis.stop();

    const started = Date.now();
    const res = await server.post("/oauth/device/authorize", { client_id: "public-cli" });
    expect(Date.now() - started).toBeLessThan(5000); // bounded by the 500 ms command timeout, never hung
    expect(res.status).toBe(503);
    // Two 500 ms deadlines and a second is under 5 s: the floor.
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toMatchObject({ error: "temporarily_unavailable" });
    const poll = await pollToken(server, device_code);
    expect(poll.status).toBe(503);

    const e = ConnectError.from(
      await rpc.authorize({ clientId: "public-cli" }).catch((err: unknown) => err),
    );
    expect(e.code).toBe(Code.Unavailable);
    expect(e.findDetails(OAuthErrorSchema)[0]?.code).toBe(ErrorCode.TEMPORARILY_UNAVAILABLE);

    expect((await fetch(`${server.issuer}/readyz`)).status).toBe(503);
    expect((await fetch(`${server.issuer}/healthz`)).status).toBe(200);

    redis = await startRedis({ port });
    cleanup.push(() => redis.stop());
    await until(async () => (await fetch(`${server.issuer}/readyz`)).status === 200, {
      timeoutMs: 15000,
      everyMs: 100,
    });
    expect((await server.post("/oauth/device/authorize", { client_id: "public-cli" })).status).toBe(
      200,
    );
    expect(unhandled).toEqual([]);
  });

  it("every endpoint, every RPC and /readyz answer within the deadline for the whole outage", async () => {
    let redis = await startRedis();
    const { port } = redis;
    const server = await startTestServer({
      redis: { url: redis.url },
      redisTimeoutMs: 500,
      authenticator: await testUsers(),
    });
    cleanup.push(() => server.close());
    const fixture = await prepareProbes(server.issuer);
    await redis.stop();
    const rounds = await expectOutageAnswers(server.issuer, fixture, 500, 3, 1000);
    console.log(`redis down: slowest answer per round (ms) ${slowest(rounds).join(", ")}`);
    redis = await startRedis({ port });
    cleanup.push(() => redis.stop());
    await until(async () => (await fetch(`${server.issuer}/readyz`)).status === 200, {
      timeoutMs: 15000,
      everyMs: 100,
    });
    const back = await probeAll(server.issuer, await prepareProbes(server.issuer));
    expect(back.filter((p) => p.answer === "unavailable")).toEqual([]);
  }, 60_000);

  it("a Redis that accepts commands and never answers (CLIENT PAUSE) is cut off at the deadline", async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const server = await startTestServer({
      redis: { url: redis.url },
      redisTimeoutMs: 500,
      authenticator: await testUsers(),
    });
    cleanup.push(() => server.close());
    const fixture = await prepareProbes(server.issuer);
    const admin = new Redis(redis.url);
    cleanup.push(async () => admin.disconnect());
    await admin.call("CLIENT", "PAUSE", "6000", "ALL");
    const rounds = await expectOutageAnswers(server.issuer, fixture, 500, 2, 500);
    console.log(`redis paused: slowest answer per round (ms) ${slowest(rounds).join(", ")}`);
    await admin.call("CLIENT", "UNPAUSE");
    await until(async () => (await fetch(`${server.issuer}/readyz`)).status === 200, {
      timeoutMs: 15000,
      everyMs: 100,
    });
  }, 60_000);

  it("with AOF, a Redis crash and restart loses no pending or approved authorization", async () => {
    let redis = await startRedis({ args: ["--appendonly", "yes", "--appendfsync", "always"] });
    const { port, dir } = redis;
    const server = await startTestServer({ redis: { url: redis.url }, redisTimeoutMs: 500 });
    cleanup.push(() => server.close());
    const pending = await authorizeDevice(server);
    const approved = await authorizeDevice(server);
    await server.flow.decide({ userCode: approved.user_code, subject: "alice", approve: true });

    // Crash (SIGKILL: no shutdown save), then restart from the same directory.
    await redis.kill();
    redis = await startRedis({
      port,
      dir,
      args: ["--appendonly", "yes", "--appendfsync", "always"],
    });
    cleanup.push(() => redis.stop());
    await until(async () => (await fetch(`${server.issuer}/readyz`)).status === 200, {
      timeoutMs: 15000,
      everyMs: 100,
    });

    expect((await pollToken(server, approved.device_code)).status).toBe(200);
    expect((await server.flow.describe(pending.user_code)).status).toBe("pending");
    await server.flow.decide({ userCode: pending.user_code, subject: "bob", approve: true });
    expect((await pollToken(server, pending.device_code)).status).toBe(200);
  });
});
