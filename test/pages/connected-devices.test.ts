/**
 * The "Connected devices" page and Disconnect, in headless
 * Chromium, on memory and on Redis. Alice approves two devices, Bob one;
 * each page lists exactly its owner's grants; Disconnect revokes the refresh
 * family (the next refresh is invalid_grant) and its access token
 * (introspection answers {"active":false} at once, RFC 7662 §2.2), the other
 * grant keeps working; a form naming another person's family is 404 and
 * changes nothing; a post without the CSRF token is 403.
 */
import * as oauth from "oauth4webapi";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import {
  discover,
  insecure,
  LIFECYCLE_CLIENTS,
  oauthErrorOf,
  otherCli,
  type Party,
  publicCli,
  refresh,
} from "../tokens/token-fixtures.js";
import {
  ALICE,
  BOB,
  launchChromium,
  screenshot,
  signInInBrowser,
  testUsers,
} from "./page-fixtures.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(["memory", "redis"] as const)("Connected devices (%s)", (kind) => {
  let server: TestServer;
  let redis: RedisProcess | undefined;
  let as: oauth.AuthorizationServer;
  beforeAll(async () => {
    if (kind === "redis") redis = await startRedis();
    server = await startTestServer({
      ...(redis ? { redis: { url: redis.url } } : {}),
      clients: LIFECYCLE_CLIENTS,
      authenticator: await testUsers(),
    });
    as = await discover(server);
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  /** A device flow approved by `subject`, redeemed by `party`. */
  async function approved(party: Party, subject: string) {
    const dar = await oauth.processDeviceAuthorizationResponse(
      as,
      party.client,
      await oauth.deviceAuthorizationRequest(
        as,
        party.client,
        party.auth,
        new URLSearchParams({ scope: "read write" }),
        insecure,
      ),
    );
    await server.flow.decide({ userCode: dar.user_code, subject, approve: true });
    const res = await oauth.deviceCodeGrantRequest(
      as,
      party.client,
      party.auth,
      dar.device_code,
      insecure,
    );
    const t = await oauth.processDeviceCodeResponse(as, party.client, res);
    const refreshToken = t.refresh_token ?? "";
    return { ...t, refreshToken, familyId: refreshToken.split(".")[0] ?? "" };
  }

  const active = async (token: string): Promise<{ active: boolean }> =>
    (
      await server.post(
        "/oauth/introspect",
        { token },
        { authorization: `Bearer ${SERVICE_TOKEN}` },
      )
    ).json() as Promise<{ active: boolean }>;

  async function signedInPage(user: { username: string; password: string }): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.issuer}/device/connections`);
    await signInInBrowser(page, user);
    await page.waitForURL(/\/device\/connections$/);
    return page;
  }

  const rows = (page: Page) =>
    page
      .locator("li.connection")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-family")));

  it("lists each person's own grants; Disconnect revokes one, the other keeps working", async () => {
    const first = await approved(publicCli, "alice");
    const second = await approved(otherCli, "alice");
    const bobs = await approved(publicCli, "bob");

    const alice = await signedInPage(ALICE);
    expect((await rows(alice)).sort()).toEqual([first.familyId, second.familyId].sort());
    await expect(alice.locator("main").textContent()).resolves.toContain("Other CLI");
    await screenshot(alice, `connections-${kind}-alice`);

    const bob = await signedInPage(BOB);
    expect(await rows(bob)).toEqual([bobs.familyId]);
    await screenshot(bob, `connections-${kind}-bob`);

    // A forged form from Bob's session naming Alice's family: 404, nothing revoked.
    const csrf = await bob.locator('input[name="_csrf"]').first().inputValue();
    const forged = await bob
      .context()
      .request.post(`${server.issuer}/device/connections/disconnect`, {
        form: { _csrf: csrf, family: first.familyId },
      });
    expect(forged.status()).toBe(404);
    // Without the CSRF token: 403.
    const noCsrf = await bob
      .context()
      .request.post(`${server.issuer}/device/connections/disconnect`, {
        form: { family: bobs.familyId },
      });
    expect(noCsrf.status()).toBe(403);
    expect((await active(first.access_token)).active).toBe(true);
    expect((await active(bobs.access_token)).active).toBe(true);

    await alice.locator(`li.connection[data-family="${second.familyId}"] button`).click();
    await alice.getByText("Disconnected.").waitFor();
    expect(await rows(alice)).toEqual([first.familyId]);
    await screenshot(alice, `connections-${kind}-disconnected`);

    expect((await oauthErrorOf(refresh(as, second.refreshToken, otherCli))).error).toBe(
      "invalid_grant",
    );
    expect(await active(second.access_token)).toEqual({ active: false });
    expect((await active(first.access_token)).active).toBe(true);
    expect((await refresh(as, first.refreshToken, publicCli)).access_token).toBeTruthy();
    // The audit line names the client that was cut off.
    expect(server.logs()).toContain(
      '"event":"revoked","client_id":"other-cli","subject":"alice","token_type":"refresh_token","by":"subject"',
    );
    await alice.context().close();
    await bob.context().close();
  });
});
