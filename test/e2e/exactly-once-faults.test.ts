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
 *
 * The authorization code grant (RFC 6749 §4.1.3) the same way: the token
 * request that redeems the code is one store step, the tokens come after it;
 * the same token request after a fault gets the one token set, and a code
 * presented again after its set was delivered is still a replay whose tokens
 * are revoked (RFC 6749 §4.1.2). Over HTTP with the same ACL fault; through
 * the flow with the same wrappers, plus one around the real code store (the
 * redemption written and its answer lost, the confirmation lost).
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizationCodeFlow } from "../../src/domain/authorization-code-flow.js";
import type { Client, ClientRegistry } from "../../src/domain/client.js";
import { DeviceFlow } from "../../src/domain/device-flow.js";
import { OAuthError } from "../../src/domain/oauth-error.js";
import type { AuthorizationCodeStore } from "../../src/domain/ports/authorization-code-store.js";
import type { DeviceStore } from "../../src/domain/ports/device-store.js";
import { NO_FLOW_EVENTS } from "../../src/domain/ports/flow-events.js";
import type { TokenSet } from "../../src/domain/ports/token-issuer.js";
import type { TokenStore } from "../../src/domain/ports/token-store.js";
import { MemoryAuthorizationCodeStore } from "../../src/store/memory-authorization-code-store.js";
import { MemoryDeviceStore } from "../../src/store/memory-device-store.js";
import { MemoryTokenStore } from "../../src/store/memory-token-store.js";
import { RedisAuthorizationCodeStore } from "../../src/store/redis-authorization-code-store.js";
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
import { CODE_CLIENT, PUBLIC_CLIENT } from "../support/test-clients.js";

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
  "~authorization_code:*",
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

const REDIRECT = "http://127.0.0.1:51234/callback";

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** An approved authorization code of CODE_CLIENT (the consent page's decision, taken directly). */
async function approvedAuthorizationCode(flow: AuthorizationCodeFlow, subject = "alice") {
  const p = pkce();
  const query = new Map<string, string[]>([
    ["response_type", ["code"]],
    ["client_id", [CODE_CLIENT.id]],
    ["redirect_uri", [REDIRECT]],
    ["code_challenge", [p.challenge]],
    ["code_challenge_method", ["S256"]],
    ["state", ["st-1"]],
    ["scope", ["read"]],
  ]);
  const check = await flow.check(query);
  if (check.kind !== "valid") throw new Error(JSON.stringify(check));
  const { location } = await flow.decide(check.request, subject, true);
  const code = new URL(location).searchParams.get("code") ?? "";
  expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { code, verifier: p.verifier };
}

/** The token request of the code grant, as a public client sends it (RFC 6749 §4.1.3). */
function exchangeCode(server: TestServer, code: string, verifier: string) {
  return server.post("/oauth/token", {
    grant_type: "authorization_code",
    client_id: CODE_CLIENT.id,
    redirect_uri: REDIRECT,
    code,
    code_verifier: verifier,
  });
}

/** Redeems a fresh code while Redis refuses the family write, then retries it. */
async function redeemThroughRefusedFamilyWrite(server: TestServer, ports: readonly number[]) {
  const { code, verifier } = await approvedAuthorizationCode(server.codeFlow);

  await onEveryMaster(ports, "ACL", "SETUSER", "default", "resetkeys", ...ALL_BUT_FAMILIES);
  let failed: Response;
  try {
    failed = await exchangeCode(server, code, verifier);
  } finally {
    await onEveryMaster(ports, "ACL", "SETUSER", "default", "allkeys");
  }
  expect(failed.status).toBe(503);
  expect(await failed.json()).toMatchObject({ error: "temporarily_unavailable" });

  // The client sends the same token request again: the tokens, not invalid_grant.
  const retried = await exchangeCode(server, code, verifier);
  const body = (await retried.json()) as Record<string, unknown>;
  expect(retried.status, JSON.stringify(body)).toBe(200);
  expect(body).toMatchObject({ token_type: "Bearer", scope: "read" });
  expect(typeof body.refresh_token).toBe("string");

  // The family behind the refresh token was written: it refreshes.
  const refreshed = await server.post("/oauth/token", {
    grant_type: "refresh_token",
    refresh_token: String(body.refresh_token),
    client_id: CODE_CLIENT.id,
  });
  expect(refreshed.status).toBe(200);
  const rotated = (await refreshed.json()) as Record<string, unknown>;

  // Delivered: the code presented again is a replay (RFC 6749 §4.1.2), and
  // what was issued from it is revoked, rotations included.
  const replay = await exchangeCode(server, code, verifier);
  expect(replay.status).toBe(400);
  expect(await replay.json()).toMatchObject({ error: "invalid_grant" });
  const afterReplay = await server.post("/oauth/token", {
    grant_type: "refresh_token",
    refresh_token: String(rotated.refresh_token),
    client_id: CODE_CLIENT.id,
  });
  expect(afterReplay.status).toBe(400);
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

    it("code grant: the 503 is followed by the token set on the same request, then a replay", async () => {
      await redeemThroughRefusedFamilyWrite(server, [redis.port]);
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

    it("code grant: the 503 is followed by the token set on the same request, then a replay", async () => {
      await redeemThroughRefusedFamilyWrite(
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

/**
 * The real code store; the next redemption or confirmation fails as set:
 * `redeemLost` runs the redemption and loses its answer (a timeout after
 * Redis took the write), `attachLost` fails the confirmation before writing.
 */
function withCodeFaults(
  inner: AuthorizationCodeStore,
  faults: { redeemLost: boolean; attachLost: boolean },
): AuthorizationCodeStore {
  const unavailable = () =>
    new OAuthError("temporarily_unavailable", "the state store did not answer in time");
  return new Proxy(inner, {
    get: (target, prop, receiver) => {
      if (prop === "redeem") {
        return async (...args: Parameters<AuthorizationCodeStore["redeem"]>) => {
          const outcome = await target.redeem(...args);
          if (faults.redeemLost) {
            faults.redeemLost = false;
            throw unavailable();
          }
          return outcome;
        };
      }
      if (prop === "attach") {
        return async (...args: Parameters<AuthorizationCodeStore["attach"]>) => {
          if (faults.attachLost) {
            faults.attachLost = false;
            throw unavailable();
          }
          return target.attach(...args);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

const CLIENTS: ClientRegistry = {
  find: async (id: string): Promise<Client | undefined> =>
    [PUBLIC_CLIENT, CODE_CLIENT].find((c) => c.id === id),
};
const CREDENTIALS = { clientId: PUBLIC_CLIENT.id, method: "none" } as const;
const INTERVAL_S = 1;
const JITTER_MS = 200;
/** How long an attempt that did not release the code is taken as still running. */
const LEASE_MS = 3000;

interface Rig {
  flow: DeviceFlow;
  codeFlow: AuthorizationCodeFlow;
  codeFaults: { redeemLost: boolean; attachLost: boolean };
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
  codes: () => AuthorizationCodeStore;
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
  const codeFaults = { redeemLost: false, attachLost: false };
  const codeStore = backend.codes();
  const codeFlow = new AuthorizationCodeFlow({
    clients: CLIENTS,
    store: withCodeFaults(codeStore, codeFaults),
    tokens,
    options: {
      issuer: "https://handoff.test",
      codeTtl: 60,
      replayWindow: 300,
      resources: { perRequest: 20, perGrant: 10, maxLength: 512, httpOnLoopback: false },
      retryWindow: 60,
      retryLeaseMs: LEASE_MS,
    },
    events: NO_FLOW_EVENTS,
    clock,
  });
  return {
    flow,
    codeFlow,
    codeFaults,
    tokens,
    faults,
    loseConfirm,
    failSigning,
    advance: (ms) => {
      offset += ms;
    },
    close: async () => {
      await codeStore.close();
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

/** The outcome of one token request of the code grant, as the client would see it. */
async function exchange(
  r: Rig,
  code: string,
  verifier: string,
  redirectUri = REDIRECT,
): Promise<TokenSet | string> {
  try {
    return await r.codeFlow.redeem({
      credentials: { clientId: CODE_CLIENT.id, method: "none" },
      code,
      redirectUri,
      codeVerifier: verifier,
    });
  } catch (e) {
    if (e instanceof OAuthError) return e.code;
    return "server_error";
  }
}

function tokensOf(t: TokenSet | string): TokenSet {
  if (typeof t === "string") throw new Error(`expected tokens, got ${t}`);
  return t;
}

const CODE_CREDENTIALS = { clientId: CODE_CLIENT.id, method: "none" } as const;

async function refreshes(r: Rig, refreshToken: string | undefined): Promise<TokenSet | string> {
  try {
    return await r.tokens.refresh({
      credentials: CODE_CREDENTIALS,
      refreshToken: refreshToken ?? "",
    });
  } catch (e) {
    return e instanceof OAuthError ? e.code : "server_error";
  }
}

let subjects = 0;

function codeFaultCases(name: string, open: () => Promise<Rig>) {
  describe(`code grant through the flow: ${name}`, () => {
    let r: Rig;
    beforeAll(async () => {
      r = await open();
    }, 60_000);
    afterAll(async () => r?.close());

    /** A code approved by a subject of its own, so its families can be counted. */
    async function approved() {
      const subject = `faults-${++subjects}-${randomBytes(4).toString("hex")}`;
      return { subject, ...(await approvedAuthorizationCode(r.codeFlow, subject)) };
    }

    /** The one family the subject has: never a second, distinct token set. */
    async function onlyFamily(subject: string, tokens: TokenSet): Promise<void> {
      const families = await r.faults.inner.listBySubject(subject, Date.now(), 10);
      expect(families.map((f) => f.familyId)).toEqual([tokens.refreshToken?.split(".")[0]]);
    }

    it.each([
      ["the family write fails before writing", "before-write"],
      ["the family is written but the answer is lost", "after-write"],
      ["signing the access token fails", "signing"],
    ] as const)(
      "%s: the same request again gets the tokens; the code after that is a replay",
      async (_, fault) => {
        const { subject, code, verifier } = await approved();
        if (fault === "signing") r.failSigning.next = true;
        else r.faults.fault = fault;
        expect(await exchange(r, code, verifier)).toBe(
          fault === "signing" ? "server_error" : "temporarily_unavailable",
        );

        // The failed attempt released the code: the client's retry need not wait.
        const tokens = tokensOf(await exchange(r, code, verifier));
        expect(tokens).toMatchObject({ tokenType: "Bearer", scope: "read" });
        expect(tokens.refreshToken).toMatch(/^[\w-]{22}\.[\w-]{43}$/);
        await onlyFamily(subject, tokens);

        // The family is the one the retry handed out: it rotates.
        const rotated = tokensOf(await refreshes(r, tokens.refreshToken));

        // Delivered (confirmed): the code again is a replay, and what it gave is revoked.
        expect(await exchange(r, code, verifier)).toBe("invalid_grant");
        expect(await refreshes(r, rotated.refreshToken)).toBe("invalid_grant");
      },
    );

    it("the redemption is written but its answer is lost: the same request after the lease gets the tokens", async () => {
      const { subject, code, verifier } = await approved();
      r.codeFaults.redeemLost = true;
      expect(await exchange(r, code, verifier)).toBe("temporarily_unavailable");
      r.advance(LEASE_MS);
      const tokens = tokensOf(await exchange(r, code, verifier));
      await onlyFamily(subject, tokens);
      expect(await exchange(r, code, verifier)).toBe("invalid_grant");
    });

    it("the confirmation is lost too: every retry in the window gets the same set, never a second", async () => {
      const { subject, code, verifier } = await approved();
      r.faults.fault = "after-write";
      expect(await exchange(r, code, verifier)).toBe("temporarily_unavailable");
      // The tokens are handed out although the confirmation failed (it is best effort).
      r.codeFaults.attachLost = true;
      const a = tokensOf(await exchange(r, code, verifier));
      // Say the answer never reached the client: it retries after the lease.
      r.advance(LEASE_MS);
      const b = tokensOf(await exchange(r, code, verifier));
      expect(b.refreshToken).toBe(a.refreshToken);
      expect(jtiOf(b.accessToken)).toBe(jtiOf(a.accessToken));
      // The same claims (an ES256 signature differs each time it is made).
      expect(claimsOf(b.accessToken)).toEqual(claimsOf(a.accessToken));
      await onlyFamily(subject, b);
      // b was confirmed: the code is spent, and presenting it revokes the one set.
      expect(await exchange(r, code, verifier)).toBe("invalid_grant");
      expect(await refreshes(r, b.refreshToken)).toBe("invalid_grant");
    });

    it("the confirmation is lost and the code comes back past the retry window: a replay, and the set it gave is revoked", async () => {
      const { code, verifier } = await approved();
      r.codeFaults.attachLost = true;
      const a = tokensOf(await exchange(r, code, verifier));
      r.advance(61_000);
      // RFC 6749 §4.1.2: the record never learnt what was issued; the names are derived.
      expect(await exchange(r, code, verifier)).toBe("invalid_grant");
      expect(await refreshes(r, a.refreshToken)).toBe("invalid_grant");
      expect(await r.faults.inner.isAccessTokenRevoked(jtiOf(a.accessToken), Date.now())).toBe(
        true,
      );
    });

    it("a retry after the family was rotated does not reset it: the old token stays rotated out", async () => {
      const { code, verifier } = await approved();
      r.faults.fault = "after-write";
      expect(await exchange(r, code, verifier)).toBe("temporarily_unavailable");
      r.codeFaults.attachLost = true;
      const a = tokensOf(await exchange(r, code, verifier));
      const rotated = tokensOf(await refreshes(r, a.refreshToken));
      r.advance(LEASE_MS);
      const b = tokensOf(await exchange(r, code, verifier));
      expect(b.refreshToken).toBe(a.refreshToken);
      // The family was not written again: the first token is reuse, the rotated one dies with it.
      expect(await refreshes(r, b.refreshToken)).toBe("invalid_grant");
      expect(await refreshes(r, rotated.refreshToken)).toBe("invalid_grant");
    });

    it("a duplicate racing an attempt still running is a replay: neither gets tokens", async () => {
      const { subject, code, verifier } = await approved();
      r.faults.fault = "hang";
      const running = exchange(r, code, verifier);
      await until(() => r.faults.fault === "none");
      expect(await exchange(r, code, verifier)).toBe("invalid_grant");
      r.faults.resume();
      // RFC 6749 §4.1.2: the code was used twice; what the attempt issued is revoked.
      expect(await running).toBe("invalid_grant");
      r.advance(LEASE_MS);
      expect(await exchange(r, code, verifier)).toBe("invalid_grant");
      const families = await r.faults.inner.listBySubject(subject, Date.now(), 10);
      expect(families).toEqual([]);
    });

    it("another redirect_uri or verifier is no retry: a replay, and the retry is spent", async () => {
      for (const other of ["redirect", "verifier"] as const) {
        const { code, verifier } = await approved();
        r.faults.fault = "before-write";
        expect(await exchange(r, code, verifier)).toBe("temporarily_unavailable");
        expect(
          other === "redirect"
            ? await exchange(r, code, verifier, "http://127.0.0.1:51235/callback")
            : await exchange(r, code, pkce().verifier),
        ).toBe("invalid_grant");
        expect(await exchange(r, code, verifier)).toBe("invalid_grant");
      }
    });

    it("past the retry window a redeemed code is spent, whatever happened", async () => {
      const { code, verifier } = await approved();
      r.faults.fault = "before-write";
      expect(await exchange(r, code, verifier)).toBe("temporarily_unavailable");
      r.advance(61_000);
      expect(await exchange(r, code, verifier)).toBe("invalid_grant");
    });
  });
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await sleep(10);
  if (!done()) throw new Error("timed out waiting");
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString());
}

function jtiOf(jwt: string): string {
  const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString());
  return String(payload.jti);
}

const memoryBackend = () => ({
  device: () => new MemoryDeviceStore({ maxPending: 1000 }),
  token: () => new MemoryTokenStore(),
  codes: () => new MemoryAuthorizationCodeStore({ maxCodes: 1000 }),
});

faultCases("memory stores", () => rig(memoryBackend()));
codeFaultCases("memory stores", () => rig(memoryBackend()));

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
    codes: () => new RedisAuthorizationCodeStore(connection),
    close: async () => connection.close(),
  };
}

const quiet = { warn() {}, info() {}, error() {}, debug() {} } as unknown as Parameters<
  typeof connectRedis
>[2];

// The device and the code grant's cases share one Redis and one Cluster, each on a connection of its own.
const oneRedis = async () => {
  redis ??= await startRedis();
  return rig(redisBackend(connectRedis({ url: redis.url }, 2000, quiet)));
};
const redisCluster = async () => {
  cluster ??= await startRedisCluster(3);
  return rig(redisBackend(connectRedis({ clusterNodes: cluster.seeds }, 2000, quiet)));
};

faultCases("one Redis", oneRedis);
codeFaultCases("one Redis", oneRedis);
faultCases("Redis Cluster", redisCluster);
codeFaultCases("Redis Cluster", redisCluster);
