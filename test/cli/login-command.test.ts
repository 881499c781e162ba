/**
 * `handoff login` against a real handoff server: in a real pseudo-terminal
 * (tmux) the screen shows the code, a QR code and a live countdown; without
 * a terminal plain lines with no escape codes; with --json one event per
 * line. Approval through the RPC (Approve, as an internal service calls it)
 * ends it with exit 0 and the tokens in a 0600 cache file; denial, expiry,
 * Ctrl-C, usage and an unreachable server have their own exit codes
 * (docs/client.md).
 */
import { statSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/handoff/v1/device_auth_pb.js";
import { freePort } from "../support/free-port.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { bearer, type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";
import {
  cacheFiles,
  cleanEnv,
  readCache,
  runPiped,
  runToEnd,
  TmuxPane,
} from "./support/cli-process.js";

let server: TestServer;
let shortCodes: TestServer;
let rpc: DeviceAuthClient;

beforeAll(async () => {
  server = await startTestServer();
  // Codes that expire 3 s after they are issued, for the expiry exit code.
  shortCodes = await startTestServer({ deviceCodeTtl: 3 });
  rpc = deviceAuthClients(server.issuer, [bearer(SERVICE_TOKEN)])[
    "Connect over HTTP/1.1"
  ] as DeviceAuthClient;
});
afterAll(async () => {
  await server?.close();
  await shortCodes?.close();
});

const decide = (userCode: string, decision: Decision) =>
  rpc.approve({ userCode, subject: "alice", decision });

async function introspect(token: string): Promise<{ active: boolean; sub?: string }> {
  const res = await server.post(
    "/oauth/introspect",
    { token },
    { authorization: `Bearer ${SERVICE_TOKEN}` },
  );
  return (await res.json()) as { active: boolean; sub?: string };
}

/** The code as the screen shows it: letter-spaced inside the box. */
function codeOnScreen(screen: string): string | undefined {
  const m = /│ +((?:[A-Z0-9-] )+[A-Z0-9-]) +│/.exec(screen);
  return m?.[1]?.replace(/ /g, "");
}

const countdownOn = (screen: string) => /code expires in (\d+):(\d\d)/.exec(screen);
const secondsLeft = (screen: string) => {
  const m = countdownOn(screen);
  return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
};

describe("handoff login in a terminal (tmux)", () => {
  let pane: TmuxPane | undefined;
  afterEach(async () => {
    await pane?.close();
    pane = undefined;
  });

  it("shows the code, the verification URI, a QR code and a live countdown; approval exits 0 with the tokens cached (0600)", async () => {
    const env = cleanEnv();
    pane = await TmuxPane.start(
      ["login", "--issuer", server.issuer, "--client-id", "public-cli"],
      env,
    );
    const first = await pane.waitFor(
      (s) => countdownOn(s) !== null && codeOnScreen(s) !== undefined,
    );
    const code = codeOnScreen(first) as string;
    expect(code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(first).toContain(`${server.issuer}/device`);
    // The QR code: half-block characters, with a finder pattern's ring and core.
    expect(first).toMatch(/▄{7}/);
    expect(first).toMatch(/█ ███ █/);
    expect(first).toContain("Waiting for approval");
    // The countdown goes down while the screen waits (the codes live 60 s on the test server).
    const later = await pane.waitFor((s) => secondsLeft(s) < secondsLeft(first));
    expect(secondsLeft(later)).toBeGreaterThan(0);
    expect(secondsLeft(first)).toBeLessThanOrEqual(60);
    expect(await pane.cursorVisible()).toBe(false);

    await decide(code, Decision.APPROVE);
    expect(await pane.exitCode()).toBe(0);
    const done = await pane.capture();
    expect(done).toContain("Signed in.");
    expect(await pane.cursorVisible()).toBe(true);
    const [file, ...more] = cacheFiles(env);
    expect(more).toEqual([]);
    expect(done.replace(/\s+/g, "")).toContain((file as string).replace(/\s+/g, ""));
    expect(statSync(file as string).mode & 0o777).toBe(0o600);
    const cached = readCache(file as string);
    // The login prints no token; the cache holds a live one for alice.
    expect(done).not.toContain(cached.accessToken.slice(0, 40));
    expect(await introspect(cached.accessToken)).toMatchObject({ active: true, sub: "alice" });
    expect(cached.refreshToken).toBeDefined();
  }, 60_000);

  it("a denial exits 3 and caches nothing", async () => {
    const env = cleanEnv();
    pane = await TmuxPane.start(
      ["login", "--issuer", server.issuer, "--client-id", "public-cli"],
      env,
    );
    const code = codeOnScreen(await pane.waitFor((s) => codeOnScreen(s) !== undefined)) as string;
    await decide(code, Decision.DENY);
    expect(await pane.exitCode()).toBe(3);
    expect(await pane.capture()).toContain("denied");
    expect(await pane.cursorVisible()).toBe(true);
    expect(cacheFiles(env)).toEqual([]);
  }, 60_000);

  it("an expired code exits 4", async () => {
    const env = cleanEnv();
    pane = await TmuxPane.start(
      ["login", "--issuer", shortCodes.issuer, "--client-id", "public-cli"],
      env,
    );
    expect(await pane.exitCode()).toBe(4);
    expect(await pane.capture()).toContain("expired");
    expect(cacheFiles(env)).toEqual([]);
  }, 60_000);

  it("Ctrl-C cancels at once: exit 130, the cursor restored, nothing cached", async () => {
    const env = cleanEnv();
    pane = await TmuxPane.start(
      ["login", "--issuer", server.issuer, "--client-id", "public-cli"],
      env,
    );
    await pane.waitFor((s) => countdownOn(s) !== null);
    await pane.sendKeys("C-c");
    expect(await pane.exitCode(10_000)).toBe(130);
    expect(await pane.capture()).toContain("Cancelled.");
    expect(await pane.cursorVisible()).toBe(true);
    expect(cacheFiles(env)).toEqual([]);
  }, 60_000);
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what must not appear.
const ESCAPE = /\u001b/;

describe("handoff login without a terminal", () => {
  it("plain lines, no escape codes; approval exits 0", async () => {
    const env = cleanEnv();
    const run = runPiped(["login", "--issuer", server.issuer, "--client-id", "public-cli"], env);
    const [, code] = await run.waitFor(/enter the code (\S+)/);
    await run.waitFor(/Waiting for approval/);
    await decide(code as string, Decision.APPROVE);
    expect(await run.exited).toBe(0);
    const all = run.stdout() + run.stderr();
    expect(all).not.toMatch(ESCAPE);
    expect(run.stderr()).toContain(`open ${server.issuer}/device`);
    expect(run.stderr()).toContain("Signed in.");
    expect(cacheFiles(env)).toHaveLength(1);
  }, 60_000);

  it("--json: one event per line (prompt, waiting, success), no token in them", async () => {
    const env = cleanEnv();
    const run = runPiped(
      [
        "login",
        "--issuer",
        server.issuer,
        "--client-id",
        "public-cli",
        "--scope",
        "read write",
        "--json",
      ],
      env,
    );
    const [, userCode] = await run.waitFor(/"user_code":"([^"]+)"/);
    await run.waitFor(/"event":"waiting"/);
    await decide(userCode as string, Decision.APPROVE);
    expect(await run.exited).toBe(0);
    expect(run.stdout() + run.stderr()).not.toMatch(ESCAPE);
    const events = run
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(["prompt", "waiting", "success"]);
    const [prompt, waiting, success] = events as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    expect(prompt).toMatchObject({
      user_code: userCode,
      verification_uri: `${server.issuer}/device`,
      verification_uri_complete: expect.stringContaining(encodeURIComponent(userCode as string)),
      browser_opened: false,
    });
    expect(Date.parse(prompt.expires_at as string)).toBeGreaterThan(Date.now());
    expect(waiting).toEqual({ event: "waiting", via: "stream" });
    expect(success).toMatchObject({ token_type: "Bearer", scope: "read write", refreshable: true });
    expect(Date.parse(success.expires_at as string)).toBeGreaterThan(Date.now());
    const [file] = cacheFiles(env);
    expect(success.cache_file).toBe(file);
    const cached = readCache(file as string);
    expect(run.stdout()).not.toContain(cached.accessToken);
    expect(run.stdout()).not.toContain(cached.refreshToken);
  }, 60_000);

  it("--json: a denial is an error event with exit code 3", async () => {
    const run = runPiped(
      ["login", "--issuer", server.issuer, "--client-id", "public-cli", "--json"],
      cleanEnv(),
    );
    const [, userCode] = await run.waitFor(/"user_code":"([^"]+)"/);
    await decide(userCode as string, Decision.DENY);
    expect(await run.exited).toBe(3);
    const last = JSON.parse(run.stdout().trim().split("\n").at(-1) as string);
    expect(last).toEqual({
      event: "error",
      error: "access_denied",
      message: expect.any(String),
      exit_code: 3,
    });
  }, 60_000);

  it("usage errors exit 2; an unreachable server exits 5; an unknown client is the server's refusal, 5", async () => {
    const env = cleanEnv();
    // Each usage rule is checked in test/cli/login-parts.test.ts; here two, as the process exits.
    for (const args of [["login"], ["login", "--issuer", server.issuer, "--frobnicate"]]) {
      const r = await runToEnd(args, env);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("handoff login:");
    }
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await runToEnd(["login", "--issuer", closed, "--json"], env);
    expect(down.code).toBe(5);
    expect(JSON.parse(down.stdout.trim())).toMatchObject({
      event: "error",
      error: "network_error",
      exit_code: 5,
    });
    const unknown = await runToEnd(
      ["login", "--issuer", server.issuer, "--client-id", "nobody", "--json"],
      env,
    );
    expect(unknown.code).toBe(5);
    expect(JSON.parse(unknown.stdout.trim())).toMatchObject({
      event: "error",
      error: "invalid_client",
    });
  }, 60_000);
});
