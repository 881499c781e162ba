/**
 * "I didn't start this" and the network hint, in headless Chromium, on
 * memory and on Redis. The device and the browser come from chosen addresses
 * through a trusted proxy's X-Forwarded-For. The report denies the request
 * (the next poll is access_denied, RFC 8628 §3.5), records an audit event and
 * a metric with the client and both addresses, and tells the person what
 * happened. The hint says "same network" for one IPv4 /24 or IPv6 /48 and
 * shows the requester's address otherwise; it never blocks Approve.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizeDevice,
  pollToken,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { ALICE, launchChromium, screenshot, signInInBrowser, testUsers } from "./page-fixtures.js";

const METRICS_TOKEN = "phishing-test-metrics-token-0123456789abcdef";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(["memory", "redis"] as const)("I didn't start this (%s)", (kind) => {
  let server: TestServer;
  let redis: RedisProcess | undefined;
  beforeAll(async () => {
    if (kind === "redis") redis = await startRedis();
    server = await startTestServer({
      ...(redis ? { redis: { url: redis.url } } : {}),
      authenticator: await testUsers(),
      trustProxy: "127.0.0.1",
      metricsToken: METRICS_TOKEN,
      logLevel: "info",
    });
  });
  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  /** A device request from `deviceIp`, and a signed-in browser from `browserIp` on its consent screen. */
  async function consentFor(deviceIp: string, browserIp: string) {
    const device = await authorizeDevice(
      server,
      { client_id: "public-cli", scope: "read" },
      { "x-forwarded-for": deviceIp, "user-agent": "phish-cli/1.0" },
    );
    const context = await browser.newContext({
      extraHTTPHeaders: { "x-forwarded-for": browserIp },
    });
    const page = await context.newPage();
    await page.goto(`${server.issuer}/device?user_code=${device.user_code}`);
    await signInInBrowser(page, ALICE);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Approve" }).count()).toBe(1);
    return { device, page, context };
  }

  it("reports, denies and says so; the poll is access_denied; audit line and metric carry client and both addresses", async () => {
    const { device, page, context } = await consentFor("203.0.113.5", "198.51.100.7");
    const details = page.locator(".details");
    await expect.poll(() => details.textContent()).toContain("203.0.113.5");
    expect(await page.locator("#network-hint").textContent()).toContain(
      "Not the network you are on now",
    );
    // The existing buttons keep their names beside the new one.
    expect(await page.getByRole("button", { name: "Deny" }).count()).toBe(1);
    await screenshot(page, `phishing-1-consent-different-network-${kind}`);
    await page.getByRole("button", { name: "I didn't start this" }).click();
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toBe("Denied and reported");
    const lead = (await page.locator(".lead").textContent()) ?? "";
    expect(lead).toContain("reported to your administrators");
    expect(lead).toContain("203.0.113.5");
    await screenshot(page, `phishing-2-reported-${kind}`);
    await context.close();

    await sleep(1000);
    const poll = await pollToken(server, device.device_code);
    expect(((await poll.json()) as { error: string }).error).toBe("access_denied");

    const report = server
      .logs()
      .split("\n")
      .filter((l) => l.includes('"event":"phishing_reported"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(report).toEqual([
      expect.objectContaining({
        level: 30,
        msg: "audit",
        client_id: "public-cli",
        subject: "alice",
        requester_ip: "203.0.113.5",
        ip: "198.51.100.7",
        requester_user_agent: "phish-cli/1.0",
      }),
    ]);
    expect(server.logs()).not.toContain(device.user_code);
    const metrics = await (
      await fetch(`${server.issuer}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      })
    ).text();
    expect(metrics).toMatch(/^handoff_phishing_reports_total 1$/m);
  });

  it("same IPv4 /24: says so, and Approve still works", async () => {
    const { device, page, context } = await consentFor("192.0.2.10", "192.0.2.77");
    await expect
      .poll(() => page.locator(".details").textContent())
      .toContain("same network as yours (192.0.2.0/24)");
    expect(await page.locator("#network-hint").count()).toBe(0);
    await screenshot(page, `phishing-3-consent-same-network-${kind}`);
    await page.getByRole("button", { name: "Approve" }).click();
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toBe("Device connected");
    await context.close();
    await sleep(1000);
    expect((await pollToken(server, device.device_code)).status).toBe(200);
  });

  it("same IPv6 /48 is one network; another /48 shows the address plainly", async () => {
    const same = await consentFor("2001:db8:1:2::5", "2001:db8:1:ffff::9");
    await expect
      .poll(() => same.page.locator(".details").textContent())
      .toContain("same network as yours (2001:db8:1::/48)");
    await same.context.close();
    const other = await consentFor("2001:db8:2::5", "2001:db8:1::9");
    await expect
      .poll(() => other.page.locator(".details").textContent())
      .toContain("2001:db8:2::5");
    expect(await other.page.locator("#network-hint").count()).toBe(1);
    await screenshot(other.page, `phishing-4-consent-other-ipv6-network-${kind}`);
    await other.context.close();
  });
});
