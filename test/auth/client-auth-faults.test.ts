/**
 * Client authentication under store faults (docs/hostile-input.md "Client
 * authentication"): a Redis fault never locks out a client that has its
 * secret, and guessing stays limited in series and in parallel. A real
 * redis-server and the real Redis attempt counter, behind a wrapper that
 * fails calls (never run: a failover) or loses their replies (run, but the
 * caller timed out: test/support/faulty-attempt-counter.ts).
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AttemptLimiter, DEFAULT_ATTEMPT_LIMITS } from "../../src/auth/attempt-limits.js";
import { clientAuthThrottle } from "../../src/auth/client-auth-throttle.js";
import { StaticClientRegistry } from "../../src/config/clients-file.js";
import { authenticateClient } from "../../src/domain/client.js";
import { OAuthError } from "../../src/domain/oauth-error.js";
import { RedisAttemptCounter } from "../../src/store/redis-attempt-counter.js";
import {
  type FaultPlan,
  type FaultyCounter,
  withFaults,
} from "../support/faulty-attempt-counter.js";
import { type RedisProcess, startRedis, testConnection } from "../support/redis-server.js";
import { FAST_HASH_CLIENT, FAST_SECRET } from "../support/test-clients.js";

// Two free failures, so three before the first delay; a delay of a minute, so a
// lock-out cannot end on its own while a test runs.
const LIMITS = {
  ...DEFAULT_ATTEMPT_LIMITS,
  clientAuthPerAddress: 2,
  clientAuthCheckLeaseMs: 30_000,
  firstDelayMs: 60_000,
};
const ALLOWANCE = LIMITS.clientAuthPerAddress + 1;
const silent = { warn: () => {} };

let redis: RedisProcess;
let client: Redis;
let faults: FaultyCounter;
let registry: StaticClientRegistry;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});
beforeEach(async () => {
  await client.flushall();
  faults = withFaults(new RedisAttemptCounter(testConnection(client)));
  const limiter = new AttemptLimiter(faults.counter, LIMITS);
  registry = new StaticClientRegistry([FAST_HASH_CLIENT], clientAuthThrottle(limiter, silent));
});

type Outcome = "ok" | "wrong" | "refused" | "unavailable" | string;

/** One authentication of the confidential client from one address, and what came of it. */
async function auth(secret: string, plan: FaultPlan = []): Promise<Outcome> {
  faults.plan(plan);
  try {
    await authenticateClient(registry, {
      clientId: FAST_HASH_CLIENT.id,
      clientSecret: secret,
      method: "client_secret_post",
      address: "203.0.113.7",
    });
    return "ok";
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e;
    if (e.code === "temporarily_unavailable") return "unavailable";
    if (e.code === "invalid_client") return e.retryAfter === undefined ? "wrong" : "refused";
    return e.code;
  } finally {
    faults.plan([]);
  }
}

const times = <T>(n: number, f: () => Promise<T>) =>
  Array.from({ length: n }).reduce<Promise<T[]>>(
    async (acc) => [...(await acc), await f()],
    Promise.resolve([]),
  );

describe("a Redis fault never locks out the client with the right secret", () => {
  it("the store fails after each right check (a failover): afterwards the right secret works at once", async () => {
    const during = await times(2 * ALLOWANCE, () => auth(FAST_SECRET, ["pass", "fail"]));
    expect(await times(2 * ALLOWANCE, () => auth(FAST_SECRET))).toEqual(
      Array(2 * ALLOWANCE).fill("ok"),
    );
    // And during the fault the right secret was let in: its answer never waits on the store.
    expect(during).toEqual(Array(2 * ALLOWANCE).fill("ok"));
  });

  it("the reply after each right check is lost: afterwards the right secret works at once", async () => {
    const during = await times(2 * ALLOWANCE, () => auth(FAST_SECRET, ["pass", "lost-reply"]));
    expect(await auth(FAST_SECRET)).toBe("ok");
    expect(during).toEqual(Array(2 * ALLOWANCE).fill("ok"));
  });

  it("the reply before the check is lost (it ran; 503 before the check): afterwards the right secret works at once", async () => {
    const during = await times(2 * ALLOWANCE, () => auth(FAST_SECRET, ["lost-reply"]));
    expect(await times(2 * ALLOWANCE, () => auth(FAST_SECRET))).toEqual(
      Array(2 * ALLOWANCE).fill("ok"),
    );
    expect(during).toEqual(Array(2 * ALLOWANCE).fill("unavailable"));
  });

  it("… and the store still failed the clean-up after it: afterwards the right secret works at once", async () => {
    const during = await times(2 * ALLOWANCE, () => auth(FAST_SECRET, ["lost-reply", "fail"]));
    expect(await times(2 * ALLOWANCE, () => auth(FAST_SECRET))).toEqual(
      Array(2 * ALLOWANCE).fill("ok"),
    );
    expect(during).toEqual(Array(2 * ALLOWANCE).fill("unavailable"));
  });

  it("the store fails before the check: 503, and nothing is left behind", async () => {
    const during = await times(2 * ALLOWANCE, () => auth(FAST_SECRET, ["fail", "fail"]));
    expect(during).toEqual(Array(2 * ALLOWANCE).fill("unavailable"));
    expect(await auth(FAST_SECRET)).toBe("ok");
  });
});

describe("guessing stays limited, with and without faults", () => {
  it("in series: the allowance of wrong secrets, then every attempt is refused, the right secret too", async () => {
    expect(await times(ALLOWANCE, () => auth("wrong"))).toEqual(Array(ALLOWANCE).fill("wrong"));
    expect(await auth("wrong")).toBe("refused");
    expect(await auth(FAST_SECRET)).toBe("refused");
  });

  it("in series, each wrong secret's charge lost: the next check delivers it, so the limit holds", async () => {
    const wrong = await times(ALLOWANCE, () => auth("wrong", ["pass", "fail"]));
    expect(wrong).toEqual(Array(ALLOWANCE).fill("wrong"));
    expect(await auth(FAST_SECRET)).toBe("refused");
  });

  it("in series, right secrets mixed in clear nothing a wrong one earned", async () => {
    for (let i = 0; i < ALLOWANCE; i++) {
      expect(await auth("wrong")).toBe("wrong");
      if (i < ALLOWANCE - 1) expect(await auth(FAST_SECRET)).toBe("ok");
    }
    expect(await auth(FAST_SECRET)).toBe("refused");
  });

  it("in parallel: of 20 concurrent wrong secrets at most the allowance is checked, then all are refused", async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => auth("wrong")));
    expect(outcomes.filter((o) => o === "wrong")).toHaveLength(ALLOWANCE);
    expect(outcomes.filter((o) => o === "refused")).toHaveLength(20 - ALLOWANCE);
    expect(await auth(FAST_SECRET)).toBe("refused");
    expect(await auth("wrong")).toBe("refused");
  });

  it("in parallel, every charge lost: still at most the allowance is checked, and the charges arrive later", async () => {
    faults.plan((method) => (method === "endCheck" ? "fail" : "pass"));
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        authenticateClient(registry, {
          clientId: FAST_HASH_CLIENT.id,
          clientSecret: "wrong",
          method: "client_secret_post",
          address: "203.0.113.7",
        }).catch((e: OAuthError) => (e.retryAfter === undefined ? "wrong" : "refused")),
      ),
    );
    faults.plan([]);
    expect(outcomes.filter((o) => o === "wrong")).toHaveLength(ALLOWANCE);
    expect(await auth(FAST_SECRET)).toBe("refused");
  });
});
