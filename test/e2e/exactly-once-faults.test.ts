/**
 * Exactly once across faults (docs/failure.md "Exactly once across faults"):
 * the poll that consumes an approved device code is one store step and the
 * tokens come after it (the refresh family is a second write, then the
 * signature). A fault between the two must not lose the approval: the
 * device's next poll gets the token set, and never a second, distinct one.
 *
 * - Over HTTP on a real Redis and a real Redis Cluster: Redis refuses the
 *   family write (an ACL takes the `token:family:*` keys away from the
 *   server's user), then allows it again.
 * - Through the flow itself on memory, Redis and Cluster, with a wrapper
 *   around the real token store or signer: the family write fails before
 *   writing, or writes and its answer is lost; the signature fails; the
 *   confirmation that closes the retry window is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client, ClientRegistry } from "../../src/domain/client.js";
import { DeviceFlow } from "../../src/domain/device-flow.js";
import { OAuthError } from "../../src/domain/oauth-error.js";
import type { DeviceStore } from "../../src/domain/ports/device-store.js";
import { NO_FLOW_EVENTS } from "../../src/domain/ports/flow-events.js";
import type { TokenSet } from "../../src/domain/ports/token-issuer.js";
import type { TokenStore } from "../../src/domain/ports/token-store.js";
import { MemoryDeviceStore } from "../../src/store/memory-device-store.js";
import { MemoryTokenStore } from "../../src/store/memory-token-store.js";
import { connectRedis, type RedisConnection } from "../../src/store/redis-connection.js";
import { RedisDeviceStore } from "../../src/store/redis-device-store.js";
import { RedisTokenStore } from "../../src/store/redis-token-store.js";
import { AccessTokenIssuer } from "../../src/tokens/access-token.js";
import { generateSigningKey, KeyRing } from "../../src/tokens/signing-keys.js";
import { TokenLifecycle } from "../../src/tokens/token-lifecycle.js";
import {
  authorizeDevice,
  pollToken,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisClusterProcess, startRedisCluster } from "../support/redis-cluster.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { PUBLIC_CLIENT } from "../support/test-clients.js";

/** The test server's pace: interval 1 s, jitter 200 ms, so a poll is on time after 800 ms. */
const ON_TIME_MS = 1000;

// ---------------------------------------------------------------------------
// Over HTTP: Redis itself refuses the family write.

/** Every key the server writes during a poll except the refresh families (and their marks). */
const ALL_BUT_FAMILIES = [
  "~device:*",
  "~ratelimit:*",
  "~session:*",
  "~client:*",
  "~token:revoked:*",
];

async function onEveryMaster(ports: readonly number[], ...command: string[]): Promise<void> {
  const { Redis } = await import("ioredis");
  for (const port of ports) {
    const c = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await c.connect();
      await c.call(command[0] as string, ...command.slice(1));
    } finally {
      c.disconnect();
    }
  }
}

/** Approves a fresh device flow, then makes Redis refuse the family write for one poll. */
async function pollThroughRefusedFamilyWrite(server: TestServer, ports: readonly number[]) {
  const { device_code, user_code } = await authorizeDevice(server);
  await server.flow.decide({ userCode: user_code, subject: "alice", approve: true });

  await onEveryMaster(ports, "ACL", "SETUSER", "default", "resetkeys", ...ALL_BUT_FAMILIES);
  let failed: Response;
  try {
    failed = await pollToken(server, device_code);
  } finally {
    await onEveryMaster(ports, "ACL", "SETUSER", "default", "allkeys");
  }
  expect(failed.status).toBe(503);
  expect(await failed.json()).toMatchObject({ error: "temporarily_unavailable" });

  // The device waits its interval (or Retry-After) and polls again: the tokens.
  await sleep(ON_TIME_MS);
  const retried = await pollToken(server, device_code);
  const body = (await retried.json()) as Record<string, unknown>;
  expect(retried.status, JSON.stringify(body)).toBe(200);
  expect(body).toMatchObject({ token_type: "Bearer", scope: "read" });
  expect(typeof body.access_token).toBe("string");
  expect(typeof body.refresh_token).toBe("string");

  // Delivered: the code is spent, as after any issuance.
  await sleep(ON_TIME_MS);
  const again = await pollToken(server, device_code);
  expect(again.status).toBe(400);
  expect(await again.json()).toMatchObject({ error: "invalid_grant" });

  // The family behind the refresh token was written: it refreshes.
  const refreshed = await server.post("/oauth/token", {
    grant_type: "refresh_token",
    refresh_token: String(body.refresh_token),
    client_id: "public-cli",
  });
  expect(refreshed.status).toBe(200);
}

describe("over HTTP: Redis refuses the refresh family write after the consumption", () => {
  describe("one Redis", () => {
    let redis: RedisProcess;
    let server: TestServer;
    beforeAll(async () => {
      redis = await startRedis();
      server = await startTestServer({ redis: { url: redis.url } });
    });
    afterAll(async () => {
      await server?.close();
      await redis?.stop();
    });

    it("the 503 is followed by the token set on the next poll, then invalid_grant", async () => {
      await pollThroughRefusedFamilyWrite(server, [redis.port]);
    });
  });

  describe("Redis Cluster", () => {
    let cluster: RedisClusterProcess;
    let server: TestServer;
    beforeAll(async () => {
      cluster = await startRedisCluster(3);
      server = await startTestServer({ redis: { clusterNodes: cluster.seeds } });
    }, 60_000);
    afterAll(async () => {
      await server?.close();
      await cluster?.stop();
    });

    it("the 503 is followed by the token set on the next poll, then invalid_grant", async () => {
      await pollThroughRefusedFamilyWrite(
        server,
        cluster.nodes.map((n) => n.port),
      );
    });
  });
});

// ---------------------------------------------------------------------------
// Through the flow: faults injected around the real stores.

type Fault = "none" | "before-write" | "after-write" | "hang";

/** The real token store, with the next family write failing as `fault` says. */
class FaultyTokenStore {
  fault: Fault = "none";
  /** Lets a hanging family write go on. */
  resume: () => void = () => {};
  constructor(readonly inner: TokenStore) {}
  store(): TokenStore {
    return new Proxy(this.inner, {
      get: (target, prop, receiver) => {
        if (prop !== "createFamily") return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<TokenStore["createFamily"]>) => {
          const fault = this.fault;
          if (fault === "before-write") {
            this.fault = "none";
            throw new OAuthError("temporarily_unavailable", "the state store is unavailable");
          }
          if (fault === "hang") {
            this.fault = "none";
            await new Promise<void>((go) => {
              this.resume = go;
            });
          }
          await target.createFamily(...args);
          if (fault === "after-write") {
            this.fault = "none";
            throw new OAuthError(
              "temporarily_unavailable",
              "the state store did not answer in time",
            );
          }
        };
      },
    });
  }
}

/** The real device store; `confirmLost` drops the next confirmation, as a failed write would. */
function withConfirmFault(inner: DeviceStore, lose: { next: boolean }): DeviceStore {
  return new Proxy(inner, {
    get: (target, prop, receiver) => {
      if (prop !== "confirm") return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<DeviceStore["confirm"]>) => {
        if (lose.next) {
          lose.next = false;
          throw new OAuthError("temporarily_unavailable", "the state store is unavailable");
        }
        return target.confirm(...args);
      };
    },
  });
}

const CLIENTS: ClientRegistry = {
  find: async (id: string): Promise<Client | undefined> =>
    id === PUBLIC_CLIENT.id ? PUBLIC_CLIENT : undefined,
};
const CREDENTIALS = { clientId: PUBLIC_CLIENT.id, method: "none" } as const;
const INTERVAL_S = 1;
const JITTER_MS = 200;
/** How long an attempt that did not release the code is taken as still running. */
const LEASE_MS = 3000;

interface Rig {
  flow: DeviceFlow;
  tokens: TokenLifecycle;
  faults: FaultyTokenStore;
  loseConfirm: { next: boolean };
  failSigning: { next: boolean };
  /** Test clock: polls are paced by it, so no test sleeps out an interval. */
  advance(ms: number): void;
  close(): Promise<void>;
}

async function rig(backend: {
  device: () => DeviceStore;
  token: () => TokenStore;
  close?: () => Promise<void>;
}): Promise<Rig> {
  let offset = 0;
  const clock = () => Date.now() + offset;
  const keys = new KeyRing([await generateSigningKey("ES256")]);
  const signer = new AccessTokenIssuer(
    keys,
    { issuer: "https://handoff.test", ttlSeconds: 300, defaultAudience: "https://handoff.test" },
    clock,
  );
  const failSigning = { next: false };
  const faultySigner = new Proxy(signer, {
    get: (target, prop, receiver) => {
      if (prop !== "sign") return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<AccessTokenIssuer["sign"]>) => {
        if (failSigning.next) {
          failSigning.next = false;
          throw new Error("the signing key could not be read");
        }
        return target.sign(...args);
      };
    },
  });
  const faults = new FaultyTokenStore(backend.token());
  const tokenStore = faults.store();
  const tokens = new TokenLifecycle({
    clients: CLIENTS,
    store: tokenStore,
    accessTokens: faultySigner,
    options: {
      refreshIdleTtl: 3600,
      refreshAbsoluteTtl: 86_400,
      keepRotated: 10,
      serviceToken: undefined,
      resources: { perRequest: 20, perGrant: 10, maxLength: 512, httpOnLoopback: false },
    },
    events: NO_FLOW_EVENTS,
    clock,
  });
  const loseConfirm = { next: false };
  const deviceStore = backend.device();
  const flow = new DeviceFlow({
    clients: CLIENTS,
    store: withConfirmFault(deviceStore, loseConfirm),
    tokens,
    options: {
      verificationUri: "https://handoff.test/device",
      expiresIn: 600,
      interval: INTERVAL_S,
      jitterToleranceMs: JITTER_MS,
      resources: { perRequest: 20, perGrant: 10, maxLength: 512, httpOnLoopback: false },
      retryWindow: 60,
      retryLeaseMs: LEASE_MS,
    },
    events: NO_FLOW_EVENTS,
    clock,
  });
  return {
    flow,
    tokens,
    faults,
    loseConfirm,
    failSigning,
    advance: (ms) => {
      offset += ms;
    },
    close: async () => {
      await deviceStore.close();
      await tokenStore.close();
      await backend.close?.();
    },
  };
}

/** The outcome of one poll, as the device would see it. */
async function poll(r: Rig, deviceCode: string): Promise<TokenSet | string> {
  try {
    const result = await r.flow.poll(CREDENTIALS, deviceCode);
    return result.ok ? result.tokens : result.refusal.code;
  } catch (e) {
    if (e instanceof OAuthError) return e.code;
    return "server_error";
  }
}

async function approvedCode(r: Rig): Promise<string> {
  const auth = await r.flow.authorize({
    credentials: CREDENTIALS,
    scopes: ["read"],
    ipAddress: "203.0.113.9",
    userAgent: "faults/1.0",
  });
  await r.flow.decide({ userCode: auth.userCode, subject: "alice", approve: true });
  return auth.deviceCode;
}

function faultCases(name: string, open: () => Promise<Rig>) {
  describe(`through the flow: ${name}`, () => {
    let r: Rig;
    beforeAll(async () => {
      r = await open();
    }, 60_000);
    afterAll(async () => r?.close());

    it.each([
      ["the family write fails before writing", "before-write"],
      ["the family is written but the answer is lost", "after-write"],
      ["signing the access token fails", "signing"],
    ] as const)(
      "%s: the next on-time poll gets the tokens; later polls invalid_grant",
      async (_, fault) => {
        const code = await approvedCode(r);
        if (fault === "signing") r.failSigning.next = true;
        else r.faults.fault = fault;
        const first = await poll(r, code);
        expect(first).toBe(fault === "signing" ? "server_error" : "temporarily_unavailable");

        // The device polls again on its pace.
        r.advance(INTERVAL_S * 1000);
        const tokens = await poll(r, code);
        expect(tokens).toMatchObject({ tokenType: "Bearer", scope: "read" });
        if (typeof tokens === "string") throw new Error(tokens);
        expect(tokens.refreshToken).toMatch(/^[\w-]{22}\.[\w-]{43}$/);

        r.advance(INTERVAL_S * 1000);
        expect(await poll(r, code)).toBe("invalid_grant");

        // The family is the one the retry handed out: its refresh token rotates.
        const refreshed = await r.tokens.refresh({
          credentials: CREDENTIALS,
          refreshToken: tokens.refreshToken as string,
        });
        expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
      },
    );

    it("a poll racing an attempt still running is invalid_grant; the attempt delivers", async () => {
      const code = await approvedCode(r);
      r.faults.fault = "hang";
      const running = poll(r, code);
      await until(() => r.faults.fault === "none");
      expect(await poll(r, code)).toBe("invalid_grant");
      r.faults.resume();
      expect(await running).toMatchObject({ tokenType: "Bearer" });
      r.advance(LEASE_MS);
      expect(await poll(r, code)).toBe("invalid_grant");
    });

    it("the confirmation is lost too: every retry in the window gets the same set, never a second", async () => {
      const code = await approvedCode(r);
      r.faults.fault = "after-write";
      expect(await poll(r, code)).toBe("temporarily_unavailable");
      r.advance(INTERVAL_S * 1000);
      r.loseConfirm.next = true;
      const a = await poll(r, code);
      // Not released (the attempt succeeded): a retry only after the lease.
      r.advance(INTERVAL_S * 1000);
      expect(await poll(r, code)).toBe("invalid_grant");
      r.advance(LEASE_MS);
      const b = await poll(r, code);
      if (typeof a === "string" || typeof b === "string") throw new Error(`${a} ${b}`);
      expect(b.refreshToken).toBe(a.refreshToken);
      expect(jtiOf(b.accessToken)).toBe(jtiOf(a.accessToken));
      // b was confirmed: from now on the code is spent.
      r.advance(INTERVAL_S * 1000);
      expect(await poll(r, code)).toBe("invalid_grant");
    });

    it("a retry after the family was rotated does not reset it: the old token stays rotated out", async () => {
      const code = await approvedCode(r);
      r.faults.fault = "after-write";
      expect(await poll(r, code)).toBe("temporarily_unavailable");
      r.advance(INTERVAL_S * 1000);
      r.loseConfirm.next = true;
      const a = await poll(r, code);
      if (typeof a === "string") throw new Error(a);
      const rotated = await r.tokens.refresh({
        credentials: CREDENTIALS,
        refreshToken: a.refreshToken as string,
      });
      r.advance(LEASE_MS);
      const b = await poll(r, code);
      if (typeof b === "string") throw new Error(b);
      expect(b.refreshToken).toBe(a.refreshToken);
      // The family was not written again: the first token is reuse, the rotated one dies with it.
      await expect(
        r.tokens.refresh({ credentials: CREDENTIALS, refreshToken: b.refreshToken as string }),
      ).rejects.toMatchObject({ code: "invalid_grant" });
      await expect(
        r.tokens.refresh({
          credentials: CREDENTIALS,
          refreshToken: rotated.refreshToken as string,
        }),
      ).rejects.toMatchObject({ code: "invalid_grant" });
    });

    it("past the retry window a consumed code is spent, whatever happened", async () => {
      const code = await approvedCode(r);
      r.faults.fault = "before-write";
      expect(await poll(r, code)).toBe("temporarily_unavailable");
      r.advance(61_000);
      expect(await poll(r, code)).toBe("invalid_grant");
    });
  });
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await sleep(10);
  if (!done()) throw new Error("timed out waiting");
}

function jtiOf(jwt: string): string {
  const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString());
  return String(payload.jti);
}

faultCases("memory stores", () =>
  rig({
    device: () => new MemoryDeviceStore({ maxPending: 1000 }),
    token: () => new MemoryTokenStore(),
  }),
);

let redis: RedisProcess | undefined;
let cluster: RedisClusterProcess | undefined;
afterAll(async () => {
  await redis?.stop();
  await cluster?.stop();
});

function redisBackend(connection: RedisConnection) {
  return {
    device: () => new RedisDeviceStore(connection),
    token: () => new RedisTokenStore(connection),
    close: async () => connection.close(),
  };
}

const quiet = { warn() {}, info() {}, error() {}, debug() {} } as unknown as Parameters<
  typeof connectRedis
>[2];

faultCases("one Redis", async () => {
  redis = await startRedis();
  return rig(redisBackend(connectRedis({ url: redis.url }, 2000, quiet)));
});

faultCases("Redis Cluster", async () => {
  cluster = await startRedisCluster(3);
  return rig(redisBackend(connectRedis({ clusterNodes: cluster.seeds }, 2000, quiet)));
});
