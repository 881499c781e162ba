/**
 * A whole Redis Cluster down: with every master stopped, every
 * endpoint and RPC that needs the store, and /readyz, answers 503
 * temporarily_unavailable (RPC UNAVAILABLE) within HANDOFF_REDIS_TIMEOUT_MS
 * plus a margin, round after round for the whole outage; when the cluster
 * returns, service resumes without a restart. Before the fix the first
 * request answered and every later one hung for minutes: ioredis queued
 * commands while it had no slots map, where its commandTimeout never starts.
 */

import { afterEach, describe, expect, it } from "vitest";
import { testUsers } from "../pages/page-fixtures.js";
import {
  authorizeDevice,
  pollToken,
  SERVICE_TOKEN,
  startTestServer,
} from "../support/handoff-server.js";
import { prepareProbes, probeAll } from "../support/outage-probes.js";
import { expectOutageAnswers, slowest } from "../support/outage-rounds.js";
import { startRedisCluster, waitForClusterOk } from "../support/redis-cluster.js";
import { until } from "../support/until.js";

const DEADLINE_MS = 500;

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe("Redis Cluster fully down", () => {
  it("every endpoint, every RPC and /readyz answer within the deadline for the whole outage; recovery without restart", async () => {
    const cluster = await startRedisCluster();
    cleanup.push(() => cluster.stop());
    const server = await startTestServer({
      redis: { clusterNodes: cluster.seeds },
      redisTimeoutMs: DEADLINE_MS,
      authenticator: await testUsers(),
    });
    cleanup.push(() => server.close());
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    cleanup.push(async () => {
      process.off("unhandledRejection", onUnhandled);
    });

    const fixture = await prepareProbes(server.issuer);
    for (const p of await probeAll(server.issuer, fixture)) {
      expect(p.answer, p.name).not.toBe("unavailable");
    }

    for (let i = 0; i < cluster.nodes.length; i++) await cluster.kill(i);
    // Rounds across several seconds: past ioredis's slot-refresh failure and its reconnect cycles.
    const rounds = await expectOutageAnswers(server.issuer, fixture, DEADLINE_MS, 4, 1000);
    console.log(`cluster down: slowest answer per round (ms) ${slowest(rounds).join(", ")}`);

    for (let i = 0; i < cluster.nodes.length; i++) await cluster.restart(i);
    await waitForClusterOk(cluster.nodes.map((n) => n.port));
    await until(async () => (await fetch(`${server.issuer}/readyz`)).status === 200, {
      timeoutMs: 30_000,
      everyMs: 200,
      ignoreErrors: true,
    });
    // A whole flow on the same server process, after the outage.
    const { device_code, user_code } = await authorizeDevice(server);
    const approve = await fetch(`${server.issuer}/handoff.v1.DeviceAuthService/Approve`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${SERVICE_TOKEN}` },
      body: JSON.stringify({ userCode: user_code, subject: "alice", decision: "DECISION_APPROVE" }),
    });
    expect(approve.status).toBe(200);
    expect((await pollToken(server, device_code)).status).toBe(200);
    expect(unhandled).toEqual([]);
  }, 60_000);
});
