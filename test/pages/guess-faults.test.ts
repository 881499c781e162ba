/**
 * The guess limits of the verification page under store faults
 * (docs/verification-page.md "Limits on guessing"): a fault never leaves a
 * charge on a right user code or a right password, a wrong one is charged
 * exactly once, and concurrent wrong codes cannot pass the allowance. The
 * pages are the real ones (`verificationPages` on fastify, real HTTP), over
 * the real attempt counters (memory, and Redis on a real redis-server) behind
 * a wrapper that fails calls (never run: a failover) or loses their replies
 * (run, but the caller timed out): test/support/faulty-attempt-counter.ts.
 * The code lookup can fail too (the device store's fault), through a
 * wrapper around the real DeviceFlow. The soak found the bug these replay: a
 * paused master left five charges on one person's right codes, and 429
 * followed (docs/failure.md "Soak").
 */
import { randomBytes } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AttemptLimiter,
  type AttemptLimits,
  DEFAULT_ATTEMPT_LIMITS,
} from "../../src/auth/attempt-limits.js";
import { createAuthenticator } from "../../src/auth/authenticator-config.js";
import { Sessions } from "../../src/auth/sessions.js";
import type { DeviceFlow } from "../../src/domain/device-flow.js";
import { OAuthError } from "../../src/domain/oauth-error.js";
import type { AttemptCounter } from "../../src/domain/ports/attempt-counter.js";
import { USER_CODE_ALPHABET } from "../../src/domain/user-code.js";
import { FormParams } from "../../src/http/form-params.js";
import { verificationPages } from "../../src/pages/verification-pages.js";
import { MemoryAttemptCounter } from "../../src/store/memory-attempt-counter.js";
import { MemorySessionStore } from "../../src/store/memory-session-store.js";
import { MemorySignInTransactionStore } from "../../src/store/memory-sign-in-transaction-store.js";
import { RedisAttemptCounter } from "../../src/store/redis-attempt-counter.js";
import {
  type FaultPlan,
  type FaultyCounter,
  withFaults,
} from "../support/faulty-attempt-counter.js";
import { authorizeDevice, startTestServer, type TestServer } from "../support/handoff-server.js";
import { type RedisProcess, startRedis, testConnection } from "../support/redis-server.js";
import { ALICE, FormClient, testUsers } from "./page-fixtures.js";

// Two free wrong codes (and passwords), so three before the first delay; a
// delay of a minute, so a lock-out cannot end on its own while a test runs;
// leases of 30 s, so a place held by a lost end cannot free itself either.
const LIMITS: AttemptLimits = {
  ...DEFAULT_ATTEMPT_LIMITS,
  codePerAddress: 1000,
  codePerSession: 2,
  codeGlobal: 100_000,
  signInPerAddress: 2,
  signInPerAccount: 1000,
  signInGlobal: 100_000,
  pageCheckLeaseMs: 30_000,
  firstDelayMs: 60_000,
};
const ALLOWANCE = 3;
const WRONG_PASSWORD = "not the password";

/** One page instance: the real pages over a faulty counter and a flow whose lookups can fail. */
interface Instance {
  readonly base: string;
  /** When true, every code lookup fails as the store fails (503). */
  lookupFails: boolean;
  close(): Promise<void>;
}

async function pagesOver(
  counter: AttemptCounter,
  flow: DeviceFlow,
  limits: AttemptLimits,
): Promise<Instance> {
  const app: FastifyInstance = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "buffer" },
    (_request, body, done) => done(null, FormParams.parse(body as Buffer)),
  );
  const instance = { base: "", lookupFails: false, close: () => app.close() };
  const failing = new Proxy(flow, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== "describe" && prop !== "decide") return value;
      return async (...args: unknown[]) => {
        if (instance.lookupFails) {
          throw new OAuthError("temporarily_unavailable", "the state store is unavailable");
        }
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
  const authenticator = createAuthenticator(await testUsers(), {
    issuer: "http://127.0.0.1",
    transactions: () => new MemorySignInTransactionStore(100),
  });
  await app.register(
    async (scope) =>
      verificationPages(scope, {
        flow: failing,
        authenticator,
        sessions: new Sessions(new MemorySessionStore(), { ttlSeconds: 3600, secure: false }),
        limiter: new AttemptLimiter(counter, limits),
        base: "/device",
        secure: false,
        csrfKey: randomBytes(32),
      }),
    { prefix: "/device" },
  );
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  return Object.assign(instance, { base: address });
}

/** A well-formed user code that is not live (random: 1 in 8.5 × 10¹¹ is one). */
const unknownCode = () =>
  Array.from(randomBytes(8), (b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]).join("");

const times = <T>(n: number, f: () => Promise<T>) =>
  Array.from({ length: n }).reduce<Promise<T[]>>(
    async (acc) => [...(await acc), await f()],
    Promise.resolve([]),
  );

/** A counter backend; `fresh` gives it with no counters in it (a new one, or a flushed Redis). */
interface Backend {
  fresh(): Promise<AttemptCounter>;
  stop(): Promise<void>;
}

const backends: Array<[string, () => Promise<Backend>]> = [
  [
    "memory",
    async () => {
      let counter: MemoryAttemptCounter | undefined;
      return {
        fresh: async () => {
          counter?.close();
          counter = new MemoryAttemptCounter();
          return counter;
        },
        stop: async () => counter?.close(),
      };
    },
  ],
  [
    "redis",
    async () => {
      const redis: RedisProcess = await startRedis();
      const client = new Redis(redis.url);
      const counter = new RedisAttemptCounter(testConnection(client));
      return {
        fresh: async () => {
          await client.flushall();
          return counter;
        },
        stop: async () => {
          client.disconnect();
          await redis.stop();
        },
      };
    },
  ],
];

describe.each(backends)("guess limits under store faults (%s counter)", (_name, open) => {
  let server: TestServer;
  let backend: Backend;
  let faults: FaultyCounter;
  let page: Instance;
  let person: FormClient;
  let device: { user_code: string };

  beforeAll(async () => {
    // The device flow and its store; the pages under test run beside it on the same flow.
    server = await startTestServer();
    backend = await open();
  });
  afterAll(async () => {
    await page?.close();
    await server.close();
    await backend.stop();
  });
  beforeEach(async () => {
    await page?.close();
    faults = withFaults(await backend.fresh());
    page = await pagesOver(faults.counter, server.flow, LIMITS);
    person = new FormClient(page.base);
    await person.signIn(ALICE);
    device = await authorizeDevice(server);
  });

  /** Enters a code on the code form under a fault plan: the status, 503 for a store fault. */
  async function enter(code: string, plan: FaultPlan = []) {
    await person.get("/device");
    faults.plan(plan);
    try {
      return (await person.post("/device", { _csrf: person.csrf(), user_code: code })).status;
    } finally {
      faults.plan([]);
    }
  }
  const right = (plan: FaultPlan = []) => enter(device.user_code, plan);
  /** A well-formed code that matches nothing, a new one each time. */
  const wrong = (plan: FaultPlan = []) => enter(unknownCode(), plan);

  /** The person's whole allowance is there: ALLOWANCE wrong codes answered, then a delay. */
  async function expectFullAllowance() {
    expect(await right()).toBe(200);
    expect(await times(ALLOWANCE, () => wrong())).toEqual(Array(ALLOWANCE).fill(400));
    expect(await wrong()).toBe(429);
    expect(await right()).toBe(429);
  }

  it("(a) the reply of the step before the lookup is lost (it ran; 503): no charge stays on the right code", async () => {
    const during = await times(2 * ALLOWANCE, () => right(["lost-reply"]));
    expect(during).toEqual(Array(2 * ALLOWANCE).fill(503));
    await expectFullAllowance();
  });

  it("(a) … and the clean-up after it fails too (the store still down): no charge stays", async () => {
    const during = await times(2 * ALLOWANCE, () => right(["lost-reply", "fail"]));
    expect(during).toEqual(Array(2 * ALLOWANCE).fill(503));
    await expectFullAllowance();
  });

  it("(b) the lookup fails with a store fault and the end fails too: no charge stays", async () => {
    page.lookupFails = true;
    const during = await times(2 * ALLOWANCE, () => right(["pass", "fail"]));
    page.lookupFails = false;
    expect(during).toEqual(Array(2 * ALLOWANCE).fill(503));
    await expectFullAllowance();
  });

  it("(b) the right code is found but the end fails: the consent screen is shown, and no charge stays", async () => {
    const during = await times(2 * ALLOWANCE, () => right(["pass", "fail"]));
    expect(during).toEqual(Array(2 * ALLOWANCE).fill(200));
    await expectFullAllowance();
  });

  it("(b) the same on the decision form: Deny is taken, and no charge stays", async () => {
    expect(await right()).toBe(200);
    faults.plan(["pass", "fail"]);
    const denied = await person.post("/device/decision", {
      _csrf: person.csrf(),
      user_code: device.user_code,
      decision: "deny",
    });
    faults.plan([]);
    expect(denied.status).toBe(200);
    device = await authorizeDevice(server);
    await expectFullAllowance();
  });

  it("a wrong code is charged exactly once, whatever is lost around it", async () => {
    for (let i = 0; i < ALLOWANCE; i++) {
      // Its end ran but the reply was lost (so it is delivered again), or its end failed.
      expect(await wrong(i % 2 === 0 ? ["pass", "lost-reply"] : ["pass", "fail"])).toBe(400);
      if (i < ALLOWANCE - 1) {
        expect(await right(["lost-reply", "fail"])).toBe(503);
        expect(await right(["pass", "fail"])).toBe(200);
        // Not charged twice: the right code still goes through.
        expect(await right()).toBe(200);
      }
    }
    // Charged once each: the allowance is spent, so a delay runs.
    expect(await right()).toBe(429);
  });

  it("20 concurrent wrong codes, after faults on right codes: exactly the allowance is checked, and every charge lands", async () => {
    page.lookupFails = true;
    await times(ALLOWANCE, () => right(["pass", "fail"]));
    page.lookupFails = false;
    await person.get("/device");
    const csrf = person.csrf();
    // Every end of these fails: the charges are kept and delivered with the next check.
    faults.plan((method) => (method === "endCheck" ? "fail" : "pass"));
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () =>
        person
          .post("/device", {
            _csrf: csrf,
            user_code: unknownCode(),
          })
          .then((r) => r.status),
      ),
    );
    faults.plan([]);
    expect(statuses.filter((s) => s === 400)).toHaveLength(ALLOWANCE);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - ALLOWANCE);
    expect(await right()).toBe(429);
    expect(await wrong()).toBe(429);
  });

  it("another instance does not know this one's lost end (or it crashed): its place frees itself when the lease ends, nothing charged", async () => {
    const leaseMs = 1500;
    await page.close();
    page = await pagesOver(faults.counter, server.flow, { ...LIMITS, pageCheckLeaseMs: leaseMs });
    person = new FormClient(page.base);
    await person.signIn(ALICE);
    // Instance A: the lookups fail and so do the ends. Each check delivers the end
    // lost before it; the last one's stays lost when A is gone.
    page.lookupFails = true;
    const started = Date.now();
    expect(await times(ALLOWANCE, () => right(["pass", "fail"]))).toEqual(
      Array(ALLOWANCE).fill(503),
    );
    await page.close();
    // Instance B, on the same counters: two wrong codes, and the third place is A's.
    page = await pagesOver(faults.counter, server.flow, { ...LIMITS, pageCheckLeaseMs: leaseMs });
    person = new FormClient(page.base);
    await person.signIn(ALICE);
    expect(await times(ALLOWANCE - 1, () => wrong())).toEqual(Array(ALLOWANCE - 1).fill(400));
    const third = await wrong();
    if (Date.now() - started < leaseMs) {
      expect(third).toBe(429); // a second or less to wait, and nothing charged
      await new Promise((r) => setTimeout(r, started + leaseMs + 100 - Date.now()));
      expect(await wrong()).toBe(400);
    } else {
      expect(third).toBe(400); // a slow machine: the lease was over already
    }
    expect(await wrong()).toBe(429);
    expect(await right()).toBe(429);
  });

  /** Signs in with the password form under a fault plan: the status (303 signed in, 401 wrong, 503). */
  async function signIn(password: string, plan: FaultPlan = []) {
    const c = new FormClient(page.base);
    await c.get("/device/sign-in");
    faults.plan(plan);
    try {
      const res = await c.post("/device/sign-in", {
        _csrf: c.csrf(),
        username: ALICE.username,
        password,
        return_to: "/device",
      });
      return res.status;
    } finally {
      faults.plan([]);
    }
  }
  async function expectFullSignInAllowance() {
    expect(await signIn(ALICE.password)).toBe(303);
    expect(await times(ALLOWANCE, () => signIn(WRONG_PASSWORD))).toEqual(
      Array(ALLOWANCE).fill(401),
    );
    expect(await signIn(WRONG_PASSWORD)).toBe(429);
    expect(await signIn(ALICE.password)).toBe(429);
  }

  it("sign-in (a): the reply of the step before the password check is lost (and its clean-up fails): no charge stays", async () => {
    expect(await times(ALLOWANCE, () => signIn(ALICE.password, ["lost-reply"]))).toEqual(
      Array(ALLOWANCE).fill(503),
    );
    expect(await times(ALLOWANCE, () => signIn(ALICE.password, ["lost-reply", "fail"]))).toEqual(
      Array(ALLOWANCE).fill(503),
    );
    await expectFullSignInAllowance();
  });

  it("sign-in (b): the right password, the end fails: signed in, and no charge stays", async () => {
    expect(await times(2 * ALLOWANCE, () => signIn(ALICE.password, ["pass", "fail"]))).toEqual(
      Array(2 * ALLOWANCE).fill(303),
    );
    await expectFullSignInAllowance();
  });

  it("sign-in: a wrong password is charged exactly once, whatever is lost around it", async () => {
    for (let i = 0; i < ALLOWANCE; i++) {
      expect(await signIn(WRONG_PASSWORD, i % 2 ? ["pass", "fail"] : ["pass", "lost-reply"])).toBe(
        401,
      );
      if (i < ALLOWANCE - 1) {
        expect(await signIn(ALICE.password, ["lost-reply"])).toBe(503);
        expect(await signIn(ALICE.password, ["pass", "fail"])).toBe(303);
      }
    }
    expect(await signIn(ALICE.password)).toBe(429);
  });
});
