/**
 * `handoff token` and `handoff logout` against a real handoff server, after a
 * real `handoff login --json`: the token printed is the cached one, or a
 * refreshed one when it is about to expire (the cache refreshes 60 s before
 * expiry; this server's access tokens live 30 s); logout revokes (RFC 7009:
 * introspection then says active:false) and forgets the entry.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/handoff/v1/device_auth_pb.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { bearer, type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";
import { cacheFiles, cleanEnv, readCache, runPiped, runToEnd } from "./support/cli-process.js";

let server: TestServer;
let shortTokens: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  shortTokens = await startTestServer({ accessTokenTtl: 30 });
});
afterAll(async () => {
  await server?.close();
  await shortTokens?.close();
});

/** `handoff login --json` approved through the Approve RPC; resolves with the cache file. */
async function loggedIn(s: TestServer, env: Record<string, string>): Promise<string> {
  const rpc = deviceAuthClients(s.issuer, [bearer(SERVICE_TOKEN)])[
    "Connect over HTTP/1.1"
  ] as DeviceAuthClient;
  const run = runPiped(["login", "--issuer", s.issuer, "--client-id", "public-cli", "--json"], env);
  const [, userCode] = await run.waitFor(/"user_code":"([^"]+)"/);
  await rpc.approve({ userCode: userCode as string, subject: "alice", decision: Decision.APPROVE });
  expect(await run.exited).toBe(0);
  const [file] = cacheFiles(env);
  return file as string;
}

async function introspect(s: TestServer, token: string): Promise<{ active: boolean }> {
  const res = await s.post(
    "/oauth/introspect",
    { token },
    { authorization: `Bearer ${SERVICE_TOKEN}` },
  );
  return (await res.json()) as { active: boolean };
}

const selectors = (s: TestServer) => ["--issuer", s.issuer, "--client-id", "public-cli"];

describe("handoff token", () => {
  it("prints the cached access token, and only it, on stdout", async () => {
    const env = cleanEnv();
    const file = await loggedIn(server, env);
    const r = await runToEnd(["token", ...selectors(server)], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${readCache(file).accessToken}\n`);
    expect(r.stderr).toBe("");
    const json = await runToEnd(["token", ...selectors(server), "--json"], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      access_token: readCache(file).accessToken,
      token_type: "Bearer",
    });
  }, 60_000);

  it("refreshes a token about to expire: a new live token, written back to the cache", async () => {
    const env = cleanEnv();
    const file = await loggedIn(shortTokens, env);
    const before = readCache(file);
    const r = await runToEnd(["token", ...selectors(shortTokens)], env);
    expect(r.code, r.stderr).toBe(0);
    const printed = r.stdout.trim();
    expect(printed).not.toBe(before.accessToken);
    const after = readCache(file);
    expect(after.accessToken).toBe(printed);
    // handoff rotates refresh tokens: the cache holds the new one.
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(await introspect(shortTokens, printed)).toMatchObject({ active: true });
  }, 60_000);

  it("a fresh token needs no network: it prints with the server gone; one that needs a refresh then exits 5", async () => {
    const env = cleanEnv();
    const gone = await startTestServer();
    const file = await loggedIn(gone, env);
    const shortEnv = cleanEnv();
    const shortGone = await startTestServer({ accessTokenTtl: 30 });
    await loggedIn(shortGone, shortEnv);
    await gone.close();
    await shortGone.close();
    const fresh = await runToEnd(["token", ...selectors(gone)], env);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toBe(`${readCache(file).accessToken}\n`);
    const stale = await runToEnd(["token", ...selectors(shortGone)], shortEnv);
    expect(stale.code).toBe(5);
    expect(stale.stdout).toBe("");
    expect(stale.stderr).toContain("cannot reach");
  }, 90_000);

  it("not signed in: nothing on stdout, a message on stderr, exit 6", async () => {
    const r = await runToEnd(["token", ...selectors(server)], cleanEnv());
    expect(r.code).toBe(6);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("not signed in");
  }, 30_000);
});

describe("handoff logout", () => {
  it("revokes at the revocation endpoint (introspection: active false) and removes the cache entry", async () => {
    const env = cleanEnv();
    const file = await loggedIn(server, env);
    const { accessToken, refreshToken } = readCache(file);
    expect(await introspect(server, refreshToken as string)).toMatchObject({ active: true });
    const r = await runToEnd(["logout", ...selectors(server)], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Signed out of ${server.issuer}`);
    expect(existsSync(file)).toBe(false);
    expect(await introspect(server, refreshToken as string)).toEqual({ active: false });
    expect(await introspect(server, accessToken)).toEqual({ active: false });
    expect((await runToEnd(["token", ...selectors(server)], env)).code).toBe(6);
    // Signed out already is not an error.
    const again = await runToEnd(["logout", ...selectors(server)], env);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("Not signed in");
  }, 60_000);
});
