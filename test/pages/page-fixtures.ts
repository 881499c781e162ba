/** Users, a cookie-keeping form client and a headless Chromium for the verification-page tests. */
import { mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import type { AuthenticatorConfig } from "../../src/auth/authenticator-config.js";
import { hashScrypt } from "../../src/domain/secret-hash.js";
import { requireBinary } from "../support/redis-server.js";

export const ALICE = { username: "alice", password: "correct horse battery" };
export const BOB = { username: "bob", password: "tr0ub4dor&3 staple" };

/** Local users with cheap hashes (N = 2^10): the tests check behaviour, not scrypt's cost. */
export async function testUsers(): Promise<AuthenticatorConfig> {
  return {
    kind: "local",
    users: await Promise.all(
      [ALICE, BOB].map(async (u) => ({
        username: u.username,
        passwordHash: await hashScrypt(u.password, 1024),
      })),
    ),
  };
}

/** A browser-less client: keeps cookies, reads the CSRF token out of the last page. */
export class FormClient {
  private readonly cookies = new Map<string, string>();
  lastPage = "";

  constructor(
    private readonly base: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** The hidden `_csrf` value of the last page. */
  csrf(): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(this.lastPage);
    if (!m?.[1]) throw new Error("no CSRF token on the last page");
    return m[1];
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  /** Plants a cookie, as someone who can set cookies for the host could. */
  plantCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  async get(path: string): Promise<Response> {
    return this.send(path, { method: "GET" });
  }

  async post(
    path: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return this.send(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** Signs in with the password form; throws unless it lands back on a page. */
  async signIn(user: { username: string; password: string }): Promise<Response> {
    await this.get("/device/sign-in");
    const res = await this.post("/device/sign-in", {
      _csrf: this.csrf(),
      username: user.username,
      password: user.password,
      return_to: "/device",
    });
    if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
    await this.get("/device");
    return res;
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await fetch(this.base + path, {
      ...init,
      redirect: "manual",
      headers: { ...this.headers, ...(init.headers as Record<string, string>), cookie },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === "" || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    this.lastPage = await res.clone().text();
    return res;
  }
}

export const SCREENSHOTS = "test-results/screenshots";

/** Debian's Chromium, headless, with a fresh profile (never `npx playwright install`). */
export async function launchChromium(): Promise<Browser> {
  // A missing browser fails the run with the install command; browser tests never skip.
  requireBinary("/usr/bin/chromium", "chromium");
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Saves a full-page screenshot under test-results/screenshots/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

/** Signs in through the browser on the sign-in page the app redirected to. */
export async function signInInBrowser(
  page: Page,
  user: { username: string; password: string },
): Promise<void> {
  await page.getByLabel("User name").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
