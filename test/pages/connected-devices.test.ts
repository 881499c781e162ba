/**
 * The "Connected devices" page and Disconnect, in headless
 * Chromium, on memory and on Redis. Alice approves two devices and signs
 * in to one app with the authorization code grant, Bob approves one device;
 * each page lists exactly its owner's grants, each with the requester's
 * address and user agent (a hostile one renders as text) and the approver's
 * address with the network hint (for the code grant: the token request and
 * the browser that approved); Disconnect revokes the refresh
 * family (the next refresh is invalid_grant) and its access token
 * (introspection answers {"active":false} at once, RFC 7662 §2.2), the other
 * grant keeps working; a form naming another person's family is 404 and
 * changes nothing; a post without the CSRF token is 403.
 */
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import * as oauth from "oauth4webapi";
import pino from "pino";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSettings } from "../../src/config/settings.js";
import { loadConfig } from "../../src/server/load-config.js";
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
  revoke,
} from "../tokens/token-fixtures.js";
import {
  ALICE,
  BOB,
  FormClient,
  launchChromium,
  screenshot,
  signInInBrowser,
  testUsers,
} from "./page-fixtures.js";

/** The code grant client's loopback redirect (any port matches; RFC 8252 §7.3). */
const CALLBACK = "http://127.0.0.1/callback";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * A device flow approved by `subject`, redeemed by `party`; the device's
 * request sends `userAgent`, the decision comes from `approverAddress`.
 */
async function approvedGrant(
  server: TestServer,
  as: oauth.AuthorizationServer,
  party: Party,
  subject: string,
  from: { readonly userAgent?: string; readonly approverAddress?: string } = {},
) {
  const dar = await oauth.processDeviceAuthorizationResponse(
    as,
    party.client,
    await oauth.deviceAuthorizationRequest(
      as,
      party.client,
      party.auth,
      new URLSearchParams({ scope: "read write" }),
      { ...insecure, headers: { "user-agent": from.userAgent ?? "device-cli/1.0" } },
    ),
  );
  await server.flow.decide({
    userCode: dar.user_code,
    subject,
    approve: true,
    ...(from.approverAddress === undefined ? {} : { approverAddress: from.approverAddress }),
  });
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

/**
 * A form post whose connection leaves from `localAddress` (any of 127.0.0.0/8
 * is the loopback interface on Linux), so the server sees that address.
 */
function postFrom(
  localAddress: string,
  url: string,
  form: URLSearchParams,
  userAgent: string,
): Promise<{ status: number; body: string }> {
  const body = form.toString();
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        // The server listens on 127.0.0.1 ("localhost" may resolve to ::1).
        host: "127.0.0.1",
        port: target.port,
        path: target.pathname,
        method: "POST",
        localAddress,
        headers: {
          host: target.host,
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(body),
          "user-agent": userAgent,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const activeOf = async (server: TestServer, token: string): Promise<{ active: boolean }> =>
  (
    await server.post("/oauth/introspect", { token }, { authorization: `Bearer ${SERVICE_TOKEN}` })
  ).json() as Promise<{ active: boolean }>;

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

  const approved = (party: Party, subject: string, from?: Parameters<typeof approvedGrant>[4]) =>
    approvedGrant(server, as, party, subject, from);
  const active = (token: string) => activeOf(server, token);

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

  /**
   * The authorization code grant in the signed-in browser (consent, Approve,
   * the redirect to the loopback callback), then the code exchanged by the
   * client with its own User-Agent from `fromAddress` (a loopback source
   * address other than the browser's 127.0.0.1): the family's requester.
   */
  async function codeGrant(page: Page, userAgent: string, fromAddress: string) {
    const verifier = randomBytes(32).toString("base64url");
    const query = new URLSearchParams({
      response_type: "code",
      client_id: "mcp-app",
      redirect_uri: CALLBACK,
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
      state: "st-1",
      scope: "read",
    });
    await page.goto(`${server.issuer}/oauth/authorize?${query}`);
    // The client's loopback listener, played by the browser itself.
    await page.route(`${CALLBACK}?*`, (route) => route.fulfill({ status: 200, body: "signed in" }));
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL((u) => u.href.startsWith(CALLBACK));
    const code = new URL(page.url()).searchParams.get("code") ?? "";
    const res = await postFrom(
      fromAddress,
      `${server.issuer}/oauth/token`,
      new URLSearchParams({
        grant_type: "authorization_code",
        client_id: "mcp-app",
        code,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      }),
      userAgent,
    );
    expect(res.status, res.body).toBe(200);
    const t = JSON.parse(res.body) as { access_token: string; refresh_token: string };
    return { ...t, familyId: t.refresh_token.split(".")[0] ?? "" };
  }

  const rowText = async (page: Page, familyId: string) =>
    (await page.locator(`li.connection[data-family="${familyId}"]`).textContent()) ?? "";

  it("lists each person's own grants, both grants, with where each came from; Disconnect revokes one, the other keeps working", {
    timeout: 60_000,
  }, async () => {
    // A user agent that would run script if it were not escaped.
    const hostile = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> curl/8.5.0`;
    // The device on 127.0.0.1; approved from the same /24, and from another network.
    const first = await approved(publicCli, "alice", {
      userAgent: hostile,
      approverAddress: "127.0.0.9",
    });
    const second = await approved(otherCli, "alice", {
      userAgent: "other-cli/2.1 node/20",
      approverAddress: "198.51.100.23",
    });
    const bobs = await approved(publicCli, "bob");

    const alice = await signedInPage(ALICE);
    // The browser approves from 127.0.0.1; the client redeems from 127.0.0.5.
    const coded = await codeGrant(alice, "mcp-app/3.0 (code exchange)", "127.0.0.5");
    await alice.goto(`${server.issuer}/device/connections`);
    expect((await rows(alice)).sort()).toEqual(
      [first.familyId, second.familyId, coded.familyId].sort(),
    );
    await expect(alice.locator("main").textContent()).resolves.toContain("Other CLI");
    // The requesting device's address and user agent (as text), and the approver's address.
    expect(await rowText(alice, first.familyId)).toContain(
      `Requested from 127.0.0.1 · ${hostile}; approved from 127.0.0.9 (the same network, 127.0.0.0/24).`,
    );
    expect(
      await alice.locator("li.connection script, li.connection img").count(),
      "the user agent became markup",
    ).toBe(0);
    expect(await alice.evaluate("window.__xss")).toBeUndefined();
    expect(await rowText(alice, second.familyId)).toContain(
      "Requested from 127.0.0.1 · other-cli/2.1 node/20; approved from 198.51.100.23 (another network).",
    );
    // The code grant: the token request is the requester, the browser that
    // approved (its consent decision's address) the approver, with the hint.
    const codeRow = await rowText(alice, coded.familyId);
    expect(codeRow).toContain("MCP Test App");
    expect(codeRow).toContain(
      "Requested from 127.0.0.5 · mcp-app/3.0 (code exchange); approved from 127.0.0.1 (the same network, 127.0.0.0/24).",
    );
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
    expect((await rows(alice)).sort()).toEqual([first.familyId, coded.familyId].sort());
    await screenshot(alice, `connections-${kind}-disconnected`);

    expect((await oauthErrorOf(refresh(as, second.refreshToken, otherCli))).error).toBe(
      "invalid_grant",
    );
    expect(await active(second.access_token)).toEqual({ active: false });
    expect((await active(first.access_token)).active).toBe(true);
    expect((await refresh(as, first.refreshToken, publicCli)).access_token).toBeTruthy();
    expect((await active(coded.access_token)).active).toBe(true);
    // Refreshed, the grant still says where it came from.
    await alice.goto(`${server.issuer}/device/connections`);
    expect(await rowText(alice, first.familyId)).toContain("Requested from 127.0.0.1");
    // The audit line names the client that was cut off.
    expect(server.logs()).toContain(
      '"event":"revoked","client_id":"other-cli","subject":"alice","token_type":"refresh_token","by":"subject"',
    );
    await alice.context().close();
    await bob.context().close();
  });
});

describe.each(["memory", "redis"] as const)("HANDOFF_CONNECTIONS_MAX_PER_SUBJECT (%s)", (kind) => {
  const CAP = 3;
  let server: TestServer;
  let redis: RedisProcess | undefined;
  let as: oauth.AuthorizationServer;
  beforeAll(async () => {
    if (kind === "redis") redis = await startRedis();
    server = await startTestServer({
      ...(redis ? { redis: { url: redis.url } } : {}),
      clients: LIFECYCLE_CLIENTS,
      authenticator: await testUsers(),
      connectionsMaxPerSubject: CAP,
    });
    as = await discover(server);
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  it("is read from the environment: default 50, 0 refused", async () => {
    const load = (env: Record<string, string>) =>
      loadConfig(
        readSettings({ HANDOFF_LOG_LEVEL: "silent", PORT: "18299", ...env }),
        "development",
        pino({ level: "silent" }),
      );
    expect((await load({})).connectionsMaxPerSubject).toBe(50);
    expect(
      (await load({ HANDOFF_CONNECTIONS_MAX_PER_SUBJECT: "3" })).connectionsMaxPerSubject,
    ).toBe(3);
    expect(() => readSettings({ HANDOFF_CONNECTIONS_MAX_PER_SUBJECT: "0" })).toThrow(
      /HANDOFF_CONNECTIONS_MAX_PER_SUBJECT/,
    );
  });

  it("past the cap the oldest grant leaves the page only: it still refreshes and revokes", async () => {
    const grants = [];
    for (let i = 0; i <= CAP; i++) grants.push(await approvedGrant(server, as, publicCli, "alice"));
    const [oldest, ...newer] = grants;
    if (oldest === undefined) throw new Error("no grant");

    const person = new FormClient(server.issuer);
    await person.signIn(ALICE);
    const listed = async () => {
      expect((await person.get("/device/connections")).status).toBe(200);
      return [...person.lastPage.matchAll(/data-family="([^"]+)"/g)].map((m) => m[1]);
    };
    expect((await listed()).sort()).toEqual(newer.map((g) => g.familyId).sort());

    // Out of the index, not out of service: it refreshes, and revoking it ends the family.
    const refreshed = await refresh(as, oldest.refreshToken, publicCli);
    expect(refreshed.access_token).toBeTruthy();
    expect((await activeOf(server, refreshed.access_token)).active).toBe(true);
    await revoke(as, oldest.refreshToken, publicCli);
    expect(await activeOf(server, refreshed.access_token)).toEqual({ active: false });
    expect((await oauthErrorOf(refresh(as, refreshed.refresh_token ?? "", publicCli))).error).toBe(
      "invalid_grant",
    );
    // The listed ones are untouched; a newer grant still pushes out the oldest listed.
    expect((await listed()).sort()).toEqual(newer.map((g) => g.familyId).sort());
    const newest = await approvedGrant(server, as, publicCli, "alice");
    expect((await listed()).sort()).toEqual(
      [...newer.slice(1), newest].map((g) => g.familyId).sort(),
    );
  });
});
