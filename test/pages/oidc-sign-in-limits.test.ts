/**
 * The limits of sign-in through an identity provider (docs/hostile-input.md):
 * failed callbacks are charged to the sign-in counters per address (429 with
 * Retry-After past them, and a good callback is not let through either while
 * the delay runs), and without Redis at most HANDOFF_MEMORY_MAX_PENDING
 * sign-ins are in progress at once (503 past it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OidcConfig } from "../../src/auth/authenticator-config.js";
import { freePort } from "../support/free-port.js";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import {
  IDP_CLIENT_ID,
  IDP_CLIENT_SECRET,
  startUpstreamIdp,
  type UpstreamIdp,
} from "../support/upstream-idp.js";
import { FormClient } from "./page-fixtures.js";

const oidc = (issuer: string): OidcConfig => ({
  kind: "oidc",
  issuer,
  clientId: IDP_CLIENT_ID,
  clientSecret: IDP_CLIENT_SECRET,
  clientAuth: "client_secret_basic",
  scopes: "openid",
  subjectClaim: "sub",
  allowedDomains: [],
  timeoutSeconds: 5,
  loginTtlSeconds: 600,
});

let server: TestServer;
let idp: UpstreamIdp;

beforeAll(async () => {
  const port = await freePort();
  server = await startTestServer({
    authenticator: oidc(`http://127.0.0.1:${port}`),
    memoryMaxPending: 3,
    // One free failure; a delay far longer than the test, so the refusal cannot expire under it.
    attemptLimits: { signInPerAddress: 1, firstDelayMs: 600_000 },
  });
  idp = await startUpstreamIdp(port, `${server.issuer}/device/sign-in/callback`);
});

afterAll(async () => {
  await server?.close();
  await idp?.close();
});

describe("oidc sign-in limits", () => {
  it("HANDOFF_SIGNIN_LIMIT_PER_ADDRESS: failed callbacks from one address are delayed (429, Retry-After)", async () => {
    const browser = new FormClient(server.issuer);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await browser.get("/device/sign-in/callback?code=x&state=y");
      statuses.push(res.status);
    }
    // One free failure, one more that starts the delay, then refused while it runs.
    expect(statuses).toEqual([400, 400, 429]);
    const last = await browser.get("/device/sign-in/callback?code=x&state=y");
    expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(browser.lastPage).toContain("Too many attempts");
    expect(server.logs()).toContain('"limit":"sign-in"');
  });

  it("HANDOFF_MEMORY_MAX_PENDING: past the cap of sign-ins in progress, a new one gets a 503 page", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await new FormClient(server.issuer).get("/device/sign-in")).status);
    }
    expect(statuses).toEqual([303, 303, 303, 503]);
  });
});
