/**
 * The verification page end to end in headless Chromium: a device
 * authorization through the RFC endpoint, then a person signs in, enters the
 * code and decides; the CLI's next poll sees the decision.
 */
import { decodeJwt } from "jose";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizeDevice,
  pollToken,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { ALICE, launchChromium, screenshot, signInInBrowser, testUsers } from "./page-fixtures.js";

const CLI_AGENT = "acme-cli/2.4.1 (linux; x64)";

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({ authenticator: await testUsers() });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function startDevice(form: Record<string, string | string[]> = {}) {
  return authorizeDevice(
    server,
    { client_id: "public-cli", scope: "read write", ...form },
    { "user-agent": CLI_AGENT },
  );
}

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: string }).error;
}

describe("verification page in a browser", () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext();
  });
  afterAll(async () => {
    await context.close();
  });

  it("RFC 8628 §3.3, §5.4, §6.1: sign in, type the code in lower case without the dash, see the request, Approve; the next poll gets a token", async () => {
    const device = await startDevice({ resource: "https://api.example.com/" });
    const page = await context.newPage();
    await page.goto(`${server.issuer}/device`);
    await expect.poll(() => page.url()).toContain("/device/sign-in");
    await screenshot(page, "1-sign-in");
    await signInInBrowser(page, ALICE);

    await expect(page.getByRole("heading", { name: "Connect a device" })).toBeTruthy();
    await page.getByText("Signed in as").waitFor();
    await screenshot(page, "2-code-entry");
    await page.getByLabel("Device code").fill(device.user_code.replace("-", "").toLowerCase());
    // With JavaScript on, the field shows the code as the device does.
    expect(await page.getByLabel("Device code").inputValue()).toBe(device.user_code);
    await page.getByRole("button", { name: "Continue" }).click();

    await page.getByRole("button", { name: "Approve" }).waitFor();
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).toContain("Public Test CLI");
    expect(text).toContain("Read your data");
    expect(text).toContain("Create, change and delete your data");
    expect(text).toContain("https://api.example.com/");
    expect(text).toContain(CLI_AGENT);
    expect(text).toContain("127.0.0.1");
    expect(text).toMatch(/just now|seconds? ago/);
    expect(text).toContain("Only continue if you started this yourself");
    expect(await page.locator("#user-code").textContent()).toBe(device.user_code);
    await screenshot(page, "3-consent");

    // Nothing is decided by looking.
    expect((await server.flow.describe(device.user_code)).status).toBe("pending");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByRole("heading", { name: "Device connected" }).waitFor();
    await screenshot(page, "4-approved");

    const res = await pollToken(server, device.device_code);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string };
    expect(decodeJwt(body.access_token).sub).toBe(ALICE.username);
    await page.close();
  });

  it("RFC 8628 §3.5: Deny, keyboard only with JavaScript off, makes the next poll access_denied", async () => {
    const device = await startDevice();
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const page = await noJs.newPage();
    await page.goto(`${server.issuer}/device`);
    // Sign in with the keyboard: the user-name field has focus on arrival.
    const focusedId = () => page.evaluate<string | undefined>("document.activeElement?.id");
    await expect.poll(focusedId).toBe("username");
    await page.keyboard.type(ALICE.username);
    await page.keyboard.press("Tab");
    await page.keyboard.type(ALICE.password);
    await page.keyboard.press("Enter");
    await page.getByLabel("Device code").waitFor();
    // The code field has focus on arrival; without JS nothing reformats it.
    await expect.poll(focusedId).toBe("user_code");
    await page.keyboard.type(device.user_code.toLowerCase().replace("-", ""));
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Deny" }).waitFor();
    // Tab to Deny and press it.
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate("document.activeElement?.textContent?.trim()");
      if (focused === "Deny") break;
    }
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Request denied" }).waitFor();
    await screenshot(page, "5-denied");
    expect(await errorOf(await pollToken(server, device.device_code))).toBe("access_denied");
    await noJs.close();
  });

  it("RFC 8628 §3.3.1: verification_uri_complete fills the code in and still waits for the person's click", async () => {
    const device = (await startDevice()) as Awaited<ReturnType<typeof startDevice>> & {
      verification_uri_complete: string;
    };
    const fresh = await browser.newContext();
    const page = await fresh.newPage();
    await page.goto(device.verification_uri_complete);
    await signInInBrowser(page, ALICE);
    const field = page.getByLabel("Device code");
    await field.waitFor();
    expect(await field.inputValue()).toBe(device.user_code);
    await page.getByRole("heading", { name: "Check the code" }).waitFor();
    await screenshot(page, "6-prefilled");
    expect((await server.flow.describe(device.user_code)).status).toBe("pending");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("button", { name: "Approve" }).waitFor();
    expect((await server.flow.describe(device.user_code)).status).toBe("pending");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByRole("heading", { name: "Device connected" }).waitFor();
    expect((await pollToken(server, device.device_code)).status).toBe(200);
    await fresh.close();
  });

  it("RFC 8628 §5.4: the consent screen reads on a phone-sized screen (dark mode) without sideways scrolling", async () => {
    const device = await startDevice({ scope: "read write admin" });
    const phone = await browser.newContext({
      viewport: { width: 375, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: "dark",
    });
    const page = await phone.newPage();
    await page.goto(`${server.issuer}/device`);
    await signInInBrowser(page, ALICE);
    await page.getByLabel("Device code").fill(device.user_code);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("button", { name: "Approve" }).waitFor();
    await screenshot(page, "7-consent-phone-dark");
    const overflow = await page.evaluate<number>(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    expect(overflow).toBeLessThanOrEqual(0);
    for (const name of ["Approve", "Deny"]) {
      const box = await page.getByRole("button", { name }).boundingBox();
      expect(box?.height ?? 0).toBeGreaterThanOrEqual(44); // a finger-sized target
    }
    await phone.close();
  });

  it("shows a clear page, not a stack trace, for a code that was already answered", async () => {
    const device = await startDevice();
    const page = await context.newPage();
    await page.goto(`${server.issuer}/device`);
    await page.getByLabel("Device code").fill(device.user_code);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByRole("heading", { name: "Device connected" }).waitFor();
    await page.goto(`${server.issuer}/device`);
    await page.getByLabel("Device code").fill(device.user_code);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: "Already answered" }).waitFor();
    await screenshot(page, "8-already-answered");
    await page.goto(`${server.issuer}/device`);
    await page.getByLabel("Device code").fill("WXYZ-2345");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toContain("No request is waiting");
    await screenshot(page, "9-unknown-code");
    await page.close();
  });

  it("shows a clear page when the request behind a consent screen is gone (expired or never there)", async () => {
    const page = await context.newPage();
    await page.goto(`${server.issuer}/device`);
    // A decision for a code with no live request: what an Approve after expiry sends.
    await page.evaluate(`(() => {
      const form = document.querySelector("main form");
      form.action = "/device/decision";
      form.querySelector("[name=user_code]").value = "WXYZ-2345";
      const d = document.createElement("input");
      d.type = "hidden"; d.name = "decision"; d.value = "approve";
      form.append(d);
      form.submit();
    })()`);
    await page.getByRole("heading", { name: "This code has expired" }).waitFor();
    await screenshot(page, "11-expired");
    await page.close();
  });

  it("refuses a form posted from another site (no CSRF token, no SameSite cookies) with a page", async () => {
    const page = await context.newPage();
    await page.setContent(
      `<form method="post" action="${server.issuer}/device/decision">
        <input name="user_code" value="WXYZ-2345"><input name="decision" value="approve">
      </form>`,
    );
    await page.evaluate(`document.forms[0].submit()`);
    await page.getByRole("heading", { name: "This form has expired" }).waitFor();
    await screenshot(page, "12-csrf-refused");
    await page.close();
  });
});
