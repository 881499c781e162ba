/**
 * RFC 8628 §5.1: user-code guessing is limited per source address, per
 * session and globally, and failed sign-ins per address, per account and
 * globally. Each limit is driven past its allowance on a real server.
 * Delays start at 2 s (1 s globally), so back-to-back requests land inside them.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttemptLimits } from "../../src/auth/attempt-limits.js";
import { authorizeDevice, startTestServer, type TestServer } from "../support/handoff-server.js";
import { startRedis } from "../support/redis-server.js";
import {
  ALICE,
  BOB,
  FormClient,
  launchChromium,
  screenshot,
  signInInBrowser,
  testUsers,
} from "./page-fixtures.js";

const WIDE: AttemptLimits = {
  codePerAddress: 1000,
  codePerSession: 1000,
  codeGlobal: 100_000,
  signInPerAddress: 1000,
  signInPerAccount: 1000,
  signInGlobal: 100_000,
  clientAuthPerAddress: 1000,
  clientAuthCheckLeaseMs: 5000,
  pageCheckLeaseMs: 10_000,
  authorizePerAddress: 100_000,
  authorizePerClient: 100_000,
  registrationPerAddress: 1000,
  registrationGlobal: 100_000,
  metadataFetchPerAddress: 1000,
  windowSeconds: 900,
};

const servers: TestServer[] = [];
async function serverWith(limits: Partial<AttemptLimits>, extra = {}): Promise<TestServer> {
  const s = await startTestServer({
    authenticator: await testUsers(),
    // A long first delay: a loaded machine must not outlast it between two steps.
    attemptLimits: { ...WIDE, firstDelayMs: 60_000, ...limits },
    ...extra,
  });
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Submits a code on the code-entry page; returns the response status. */
async function enter(client: FormClient, code: string): Promise<number> {
  await client.get("/device");
  return (await client.post("/device", { _csrf: client.csrf(), user_code: code })).status;
}

const WRONG = ["WXYZ-2345", "WXYZ-2346", "WXYZ-2347", "WXYZ-2348", "WXYZ-2349", "WXYZ-234A"];

describe("RFC 8628 §5.1 user-code guessing", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("RFC 8628 §5.1: repeated wrong codes in one session run into the limit, in the browser, and the right code waits too", async () => {
    const server = await serverWith({ codePerSession: 2 });
    const device = await authorizeDevice(server);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.issuer}/device`);
    await signInInBrowser(page, ALICE);
    const statuses: number[] = [];
    for (const code of WRONG.slice(0, 4)) {
      await page.getByLabel("Device code").fill(code);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === "POST"),
        page.getByRole("button", { name: "Continue" }).click(),
      ]);
      statuses.push(response.status());
    }
    // Two free failures, a third that is let through but starts a delay, then refusals.
    expect(statuses).toEqual([400, 400, 400, 429]);
    expect(await page.getByRole("alert").textContent()).toContain("Too many attempts");
    await screenshot(page, "10-too-many-codes");
    await page.getByLabel("Device code").fill(device.user_code);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.getByRole("button", { name: "Continue" }).click(),
    ]);
    expect(res.status()).toBe(429);
    expect(Number(res.headers()["retry-after"])).toBeGreaterThan(0);
    await context.close();

    // Another session from the same address is not held back by this session's counter.
    const other = new FormClient(server.issuer);
    await other.signIn(BOB);
    expect(await enter(other, device.user_code)).toBe(200);
  });

  it("RFC 8628 §5.1: wrong codes from one address are limited across sessions", async () => {
    const server = await serverWith({ codePerAddress: 2 });
    const a = new FormClient(server.issuer);
    await a.signIn(ALICE);
    for (const code of WRONG.slice(0, 3)) expect(await enter(a, code)).toBe(400);
    const b = new FormClient(server.issuer);
    await b.signIn(BOB);
    expect(await enter(b, WRONG[3] as string)).toBe(429);
  });

  it("RFC 8628 §5.1: a distributed guesser (many addresses) is slowed by the global counter", async () => {
    const server = await serverWith({ codeGlobal: 2 }, { trustProxy: "127.0.0.1" });
    const statuses: number[] = [];
    for (const [i, code] of WRONG.slice(0, 4).entries()) {
      const c = new FormClient(server.issuer, { "x-forwarded-for": `198.51.100.${i + 1}` });
      await c.signIn(ALICE);
      statuses.push(await enter(c, code));
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
  });

  it("a global user-code limit reached by one guesser from four addresses; someone else's right code gets the consent screen", async () => {
    const server = await serverWith({ codeGlobal: 2 }, { trustProxy: "127.0.0.1" });
    const device = await authorizeDevice(server);
    const statuses: number[] = [];
    for (const [i, code] of WRONG.slice(0, 4).entries()) {
      const c = new FormClient(server.issuer, { "x-forwarded-for": `198.51.100.${i + 1}` });
      await c.signIn(BOB);
      statuses.push(await enter(c, code));
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
    // The guesser stays held, from any address, even with a right code …
    const guesser = new FormClient(server.issuer, { "x-forwarded-for": "198.51.100.99" });
    await guesser.signIn(BOB);
    expect(await enter(guesser, device.user_code)).toBe(429);
    // … while an honest person, from a clean address, is shown the request.
    const honest = new FormClient(server.issuer, { "x-forwarded-for": "203.0.113.9" });
    await honest.signIn(ALICE);
    expect(await enter(honest, device.user_code)).toBe(200);
    expect(honest.lastPage).toContain("Approve");
  });

  it("RFC 8628 §5.1: guessing through the decision form is charged the same way", async () => {
    const server = await serverWith({ codePerSession: 1 });
    const c = new FormClient(server.issuer);
    await c.signIn(ALICE);
    const statuses: number[] = [];
    for (const code of WRONG.slice(0, 3)) {
      await c.get("/device");
      const res = await c.post("/device/decision", {
        _csrf: c.csrf(),
        user_code: code,
        decision: "approve",
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([410, 410, 429]);
  });

  it("RFC 8628 §5.1: malformed input is not a guess and is not charged", async () => {
    const server = await serverWith({ codePerSession: 1 });
    const c = new FormClient(server.issuer);
    await c.signIn(ALICE);
    for (let i = 0; i < 5; i++) expect(await enter(c, "not-a-code")).toBe(400);
    expect(await enter(c, WRONG[0] as string)).toBe(400);
  });

  it("RFC 8628 §5.1: instances sharing Redis share the counters (and the sessions)", async () => {
    const redis = await startRedis();
    try {
      // One HANDOFF_CSRF_SECRET for both: a form from one instance is accepted by the other.
      const target = {
        redis: { url: redis.url },
        redisKeyPrefix: "t:",
        csrfSecret: "pL4mN8qR2tV6xZ0bD3fH7jK1sW5yA9cE2gI6kM0oQ4u",
      };
      const one = await serverWith({ codePerSession: 2 }, target);
      const two = await serverWith({ codePerSession: 2 }, target);
      const c = new FormClient(one.issuer);
      await c.signIn(ALICE);
      for (const code of WRONG.slice(0, 3)) expect(await enter(c, code)).toBe(400);
      // Same browser, same cookie, the other instance: already limited.
      const sameBrowser = new FormClient(two.issuer);
      for (const name of ["handoff_session", "handoff_csrf"]) {
        (sameBrowser as unknown as { cookies: Map<string, string> }).cookies.set(
          name,
          c.cookie(name) ?? "",
        );
      }
      await sameBrowser.get("/device");
      expect(sameBrowser.lastPage).toContain("Signed in as");
      // The token instance one made, posted to instance two: not "This form has expired".
      await c.get("/device");
      const fromOne = c.csrf();
      const posted = await sameBrowser.post("/device", { _csrf: fromOne, user_code: "not-a-code" });
      expect(posted.status).toBe(400);
      expect(await enter(sameBrowser, WRONG[3] as string)).toBe(429);
    } finally {
      await Promise.all(servers.splice(-2).map((s) => s.close()));
      await redis.stop();
    }
  });
});

describe("failed sign-ins", () => {
  async function signIn(c: FormClient, username: string, password: string): Promise<number> {
    await c.get("/device/sign-in");
    const res = await c.post("/device/sign-in", {
      _csrf: c.csrf(),
      username,
      password,
      return_to: "/device",
    });
    return res.status;
  }

  it("are limited per account: after the allowance even the right password waits", async () => {
    const server = await serverWith({ signInPerAccount: 2 });
    const c = new FormClient(server.issuer);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await signIn(c, ALICE.username, "wrong"));
    statuses.push(await signIn(c, ALICE.username, ALICE.password));
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(c.lastPage).toContain("Too many attempts");
    // Another account from the same address is unaffected.
    expect(await signIn(new FormClient(server.issuer), BOB.username, BOB.password)).toBe(303);
  });

  it("are limited per address across accounts", async () => {
    const server = await serverWith({ signInPerAddress: 2 });
    const c = new FormClient(server.issuer);
    const statuses = [];
    for (const name of ["carol", "dave", "erin"]) statuses.push(await signIn(c, name, "x"));
    statuses.push(await signIn(c, BOB.username, BOB.password));
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it("a global limit reached by random user names from two addresses holds those addresses; the right password from a fresh address signs in", async () => {
    const server = await serverWith({ signInGlobal: 3 }, { trustProxy: "127.0.0.1" });
    const from = (ip: string) => new FormClient(server.issuer, { "x-forwarded-for": ip });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push(await signIn(from(`198.51.100.${i % 2}`), `random-${i}`, "x"));
    }
    // Three free failures and one that starts the global delay; then the guessers are held.
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429, 429, 429]);
    expect(await signIn(from("198.51.100.0"), ALICE.username, ALICE.password)).toBe(429);
    expect(await signIn(from("203.0.113.50"), ALICE.username, ALICE.password)).toBe(303);
    expect(await signIn(from("203.0.113.51"), BOB.username, BOB.password)).toBe(303);
  });

  it("one wrong password per round from rotating addresses never keeps the account's owner out", async () => {
    const server = await serverWith({ signInPerAccount: 2 }, { trustProxy: "127.0.0.1" });
    const from = (ip: string) => new FormClient(server.issuer, { "x-forwarded-for": ip });
    for (let round = 0; round < 5; round++) {
      const guesser = `198.51.100.${round + 1}`;
      // A fresh address is always checked: one guess (docs/verification-page.md gives the price) …
      expect(await signIn(from(guesser), ALICE.username, `wrong-${round}`)).toBe(401);
      // … then, once the account's allowance is spent, that address is held, the right password too.
      if (round >= 2) {
        expect(await signIn(from(guesser), ALICE.username, ALICE.password)).toBe(429);
      }
      expect(await signIn(from("203.0.113.9"), ALICE.username, ALICE.password)).toBe(303);
    }
  });

  it("a right password refunds its charge: sign-ins that succeed never add up to a limit", async () => {
    const server = await serverWith({ signInPerAccount: 1, signInPerAddress: 1 });
    for (let i = 0; i < 4; i++) {
      expect(await signIn(new FormClient(server.issuer), ALICE.username, ALICE.password)).toBe(303);
    }
  });
});
