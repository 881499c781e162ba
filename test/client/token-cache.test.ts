/**
 * The token cache shared by processes: a 0600 file written atomically, and
 * refreshes serialised by a lock file: two processes refreshing at once send
 * one refresh to the server, and the refresh-token family survives (a second
 * presentation of the same refresh token would revoke it).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/handoff/v1/device_auth_pb.js";
import { DeviceSession, TokenCache } from "../../src/client/index.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { bearer, type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";

const run = promisify(execFile);
let server: TestServer;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), "handoff-cache-"));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("TokenCache and DeviceSession", () => {
  it("two processes refreshing one expired entry at once: one refresh, same token, the family survives", async () => {
    const cache = new TokenCache(dir);
    const session = await DeviceSession.open({
      issuer: server.issuer,
      clientId: "public-cli",
      cache,
    });
    const approver = deviceAuthClients(server.issuer, [bearer(SERVICE_TOKEN)])[
      "gRPC over h2c"
    ] as DeviceAuthClient;
    const first = await session.login({
      prompt: (p) => {
        setTimeout(
          () =>
            void approver.approve({
              userCode: p.userCode,
              subject: "alice",
              decision: Decision.APPROVE,
            }),
          200,
        );
      },
    });
    const key = { issuer: server.issuer, clientId: "public-cli", resource: [] };
    expect(statSync(cache.file(key)).mode & 0o777).toBe(0o600);
    // Expire the cached access token: both processes must refresh.
    await cache.write(key, { ...first, expiresAt: Date.now() - 1000 });
    const child = join(import.meta.dirname, "support", "cached-token-child.ts");
    const outs = await Promise.all(
      [0, 1].map(() =>
        run(process.execPath, ["--import", "tsx", child, server.issuer, dir], { timeout: 30_000 }),
      ),
    );
    const [a, b] = outs.map((o) => o.stdout.trim());
    expect(a).not.toBe(first.accessToken);
    expect(a).toBe(b); // the second process found the first one's refresh under the lock
    // The family survives: the rotated refresh token still works.
    const cached = await cache.read(key);
    await cache.write(key, { ...(cached as NonNullable<typeof cached>), expiresAt: 0 });
    const again = await session.cachedToken();
    expect(again.accessToken).not.toBe(a);
    // Logout revokes (RFC 7009) and forgets: no cached sign-in is left.
    await session.logout();
    await expect(session.cachedToken()).rejects.toMatchObject({ code: "login_required" });
  });
});
