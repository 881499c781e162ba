/**
 * Clients whose secrets are scrypt hashes (`handoff secrets
 * hash`) are verified off the event loop, so the server keeps answering
 * while they authenticate; and a client that polls pays scrypt once, not on
 * every request. Bounds are relative and generous: the machine is shared.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEVICE_CODE_GRANT } from "../../src/domain/client.js";
import { hashScrypt } from "../../src/domain/secret-hash.js";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import { TEST_CLIENTS } from "../support/test-clients.js";

const CLIENTS = 8;
const secret = (i: number) => `person-chosen secret number ${i}`;

let server: TestServer;
beforeAll(async () => {
  // One client more than the storm uses, never authenticated, to time a derivation.
  // The cost `handoff secrets hash` writes (N = 2^15): about 100 ms of threadpool each.
  const hashes = await Promise.all(
    Array.from({ length: CLIENTS + 1 }, (_, i) => hashScrypt(secret(i))),
  );
  server = await startTestServer({
    clients: [
      ...TEST_CLIENTS,
      ...hashes.map((secretHash, i) => ({
        id: `scrypt-agent-${i}`,
        name: `Scrypt Agent ${i}`,
        secretHash,
        grantTypes: [DEVICE_CODE_GRANT],
        scopes: ["read"],
        defaultScopes: ["read"],
        redirectUris: [],
        active: true,
      })),
    ],
  });
});
afterAll(async () => server.close());

const authorize = (i: number, s = secret(i)) =>
  server.post("/oauth/device/authorize", { client_id: `scrypt-agent-${i}`, client_secret: s });

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await f();
  return [v, performance.now() - t];
}

describe("scrypt client secrets", () => {
  it("/healthz stays fast while 8 scrypt-hashed clients authenticate at once", async () => {
    // One wrong secret alone: what one scrypt verification costs here, now.
    const [, one] = await timed(() => authorize(CLIENTS, "wrong"));
    let inFlight = true;
    const storm = Promise.all(Array.from({ length: CLIENTS }, (_, i) => authorize(i))).finally(
      () => {
        inFlight = false;
      },
    );
    const health: number[] = [];
    while (inFlight && health.length < 20) {
      const [res, ms] = await timed(() => fetch(`${server.issuer}/healthz`));
      expect(res.status).toBe(200);
      if (inFlight) health.push(ms);
    }
    const statuses = (await storm).map((r) => r.status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(health.length).toBeGreaterThan(0);
    health.sort((a, b) => a - b);
    const median = health[Math.floor(health.length / 2)] as number;
    // With scryptSync each health check would wait for every derivation queued before it
    // (8 × one); off the loop it waits for none.
    console.log(
      `one scrypt request ${one.toFixed(0)} ms; ${health.length} health checks during the storm, median ${median.toFixed(1)} ms`,
    );
    expect(median).toBeLessThan(Math.max(one, 50));
  });

  it("a client that polls pays scrypt once: ten more requests cost less than three derivations", async () => {
    expect((await authorize(3)).status).toBe(200); // remembered from here on
    const [, one] = await timed(() => authorize(CLIENTS, "wrong again"));
    const [statuses, ten] = await timed(async () => {
      const out: number[] = [];
      for (let i = 0; i < 10; i++) out.push((await authorize(3)).status);
      return out;
    });
    expect(statuses.every((s) => s === 200)).toBe(true);
    console.log(
      `ten remembered requests ${ten.toFixed(0)} ms; one derivation ${one.toFixed(0)} ms`,
    );
    expect(ten).toBeLessThan(3 * one);
  });
});
