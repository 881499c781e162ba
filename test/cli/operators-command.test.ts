/**
 * `handoff grants` and `handoff pending` (README "Operator listings") against
 * two handoff instances sharing one real Redis: a few runs as a real process
 * (tsx, no build), the rest and the exit codes in-process through the same
 * functions main.ts calls. Listed on one instance, acted on through the
 * other; no output shows a code or a token.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision, DeviceAuthService } from "../../gen/handoff/v1/device_auth_pb.js";
import { CLIENTS_EXIT } from "../../src/cli/clients-command.js";
import { grantsCommand, pendingCommand } from "../../src/cli/operators-command.js";
import { parseDeviceCode } from "../../src/domain/device-code.js";
import { pendingIdKeyOf, sealPendingId } from "../../src/domain/pending-id.js";
import { freePort } from "../support/free-port.js";
import {
  authorizeDevice,
  pollToken,
  SERVICE_TOKEN,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { bearer, rpcTransports } from "../support/rpc-clients.js";
import { cleanEnv, runToEnd } from "./support/cli-process.js";

const ADMIN_TOKEN = "cli-admin-token-Hq2wE9rT4yU7iO1pA5sD8fG3hJ6kL0z";

let redis: RedisProcess;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  redis = await startRedis();
  const options = { adminToken: ADMIN_TOKEN, adminMaxPageSize: 2, redis: { url: redis.url } };
  [a, b] = await Promise.all([startTestServer(options), startTestServer(options)]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await redis?.stop();
});

type Command = typeof grantsCommand;

/** One in-process run, with its output. */
async function run(command: Command, argv: string[], env: Record<string, string | undefined> = {}) {
  let out = "";
  let err = "";
  const code = await command(argv, {
    env: { HANDOFF_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

const approver = () =>
  createClient(
    DeviceAuthService,
    rpcTransports(a.issuer, [bearer(SERVICE_TOKEN)])["Connect over HTTP/1.1"] as never,
  );

/** A grant of public-cli to `subject`, approved and redeemed on A. */
async function granted(subject: string) {
  const started = await authorizeDevice(a, { client_id: "public-cli" });
  await approver().approve({ userCode: started.user_code, subject, decision: Decision.APPROVE });
  const tokens = (await (await pollToken(a, started.device_code)).json()) as {
    access_token: string;
    refresh_token: string;
  };
  return { ...started, ...tokens, familyId: tokens.refresh_token.split(".")[0] as string };
}

const refresh = (refreshToken: string) =>
  a.post("/oauth/token", {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: "public-cli",
  });

/** The id the servers list for a device code: they seal with a key derived from the shared admin token. */
function pendingIdOf(deviceCode: string): string {
  const parsed = parseDeviceCode(deviceCode);
  if (parsed === null) throw new Error("not a device code");
  return sealPendingId(pendingIdKeyOf(ADMIN_TOKEN), parsed.handle);
}

describe("handoff grants and pending as a process", () => {
  it("pending list on B (token from the environment), cancel on A (--token-file): the device is refused; grants list and revoke", async () => {
    const env = cleanEnv();
    const flows = [
      await authorizeDevice(a, { client_id: "public-cli" }),
      await authorizeDevice(a, { client_id: "public-cli" }),
      await authorizeDevice(a, { client_id: "public-cli" }),
    ];
    const listed = await runToEnd(
      ["pending", "list", "--client", "public-cli", "--server", b.issuer, "--json"],
      { ...env, HANDOFF_ADMIN_TOKEN: ADMIN_TOKEN },
    );
    expect(listed.code).toBe(0);
    // Three, over two pages of at most two (HANDOFF_ADMIN_MAX_PAGE_SIZE).
    const pending = (JSON.parse(listed.stdout) as { pending: { pendingId: string }[] }).pending;
    expect(pending.length).toBeGreaterThanOrEqual(3);
    for (const f of flows) {
      expect(listed.stdout).not.toContain(f.device_code);
      expect(listed.stdout).not.toContain(f.user_code);
    }
    const target = flows[0] as { device_code: string };
    const id = pendingIdOf(target.device_code);
    expect(pending.map((p) => p.pendingId)).toContain(id);

    const tokenFile = join(env.HOME as string, "admin-token");
    writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    const cancelled = await runToEnd(
      ["pending", "cancel", id, "--server", a.issuer, "--token-file", tokenFile],
      env,
    );
    expect(cancelled.code).toBe(0);
    expect(cancelled.stderr).toContain(`Cancelled ${id} (client public-cli)`);
    expect(await (await pollToken(b, target.device_code)).json()).toMatchObject({
      error: "access_denied",
    });

    const g = await granted("proc-subject");
    // The listing in-process (below); the revocation as a process.
    const grants = await run(grantsCommand, [
      "list",
      "--subject",
      "proc-subject",
      "--server",
      b.issuer,
    ]);
    expect(grants.code).toBe(0);
    expect(grants.out).toMatch(new RegExp(`^${g.familyId}\tpublic-cli\tproc-subject\t`));
    for (const s of [g.access_token, g.refresh_token, g.device_code, g.user_code]) {
      expect(grants.out).not.toContain(s);
    }
    const revoked = await runToEnd(
      ["grants", "revoke", g.familyId, "--server", b.issuer, "--token-file", tokenFile],
      env,
    );
    expect(revoked.code).toBe(0);
    expect(await (await refresh(g.refresh_token)).json()).toMatchObject({
      error: "invalid_grant",
    });

    const refused = await runToEnd(
      ["grants", "list", "--client", "public-cli", "--server", a.issuer, "--json"],
      { ...env, HANDOFF_ADMIN_TOKEN: SERVICE_TOKEN },
    );
    expect(refused.code).toBe(CLIENTS_EXIT.unauthenticated);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: "unauthenticated", exit_code: 6 });
    // Four processes, each loading tsx: slow on a loaded machine.
  }, 60_000);
});

describe("handoff grants and pending subcommands and exit codes", () => {
  it("grants list by client and by subject pages through everything; revoke twice is 7", async () => {
    const made = [await granted("dana"), await granted("dana"), await granted("dana")];
    const bySubject = await run(grantsCommand, ["list", "--subject", "dana", "--server", b.issuer]);
    expect(bySubject.code).toBe(0);
    const lines = bySubject.out.trim().split("\n");
    expect(lines.map((l) => l.split("\t")[0]).sort()).toEqual(made.map((g) => g.familyId).sort());
    const byClient = await run(grantsCommand, [
      "list",
      "--client",
      "public-cli",
      "--server",
      a.issuer,
      "--json",
    ]);
    const families = (JSON.parse(byClient.out) as { grants: { familyId: string }[] }).grants.map(
      (g) => g.familyId,
    );
    for (const g of made) expect(families).toContain(g.familyId);

    const gone = made[0] as { familyId: string };
    const first = await run(grantsCommand, [
      "revoke",
      gone.familyId,
      "--server",
      a.issuer,
      "--json",
    ]);
    expect(first).toMatchObject({
      code: 0,
      out: `${JSON.stringify({ revoked: gone.familyId })}\n`,
    });
    expect((await run(grantsCommand, ["revoke", gone.familyId, "--server", b.issuer])).code).toBe(
      CLIENTS_EXIT.notFound,
    );
    const after = await run(grantsCommand, ["list", "--subject", "dana", "--server", b.issuer]);
    expect(after.out).not.toContain(gone.familyId);
    expect(after.out.trim().split("\n")).toHaveLength(2);
  });

  it("cancel twice is 8, an unknown id 7; usage is 2, a refused token 6, an unreachable server 5", async () => {
    const f = await authorizeDevice(a, { client_id: "public-cli" });
    const listed = await run(pendingCommand, [
      "list",
      "--client",
      "public-cli",
      "--server",
      a.issuer,
    ]);
    const id = pendingIdOf(f.device_code);
    expect(listed.out.split("\n").map((l) => l.split("\t")[0])).toContain(id);
    expect((await run(pendingCommand, ["cancel", id, "--server", b.issuer])).code).toBe(0);
    expect((await run(pendingCommand, ["cancel", id, "--server", a.issuer])).code).toBe(
      CLIENTS_EXIT.conflict,
    );
    expect(
      (await run(pendingCommand, ["cancel", "AAAAAAAAAAAAAAAAAAAAAA", "--server", a.issuer])).code,
    ).toBe(CLIENTS_EXIT.notFound);

    for (const [command, argv] of [
      [grantsCommand, ["list", "--server", a.issuer]],
      [grantsCommand, ["list", "--client", "c", "--subject", "s", "--server", a.issuer]],
      [grantsCommand, ["revoke", "--server", a.issuer]],
      [pendingCommand, ["list", "--server", a.issuer]],
      [pendingCommand, ["list", "--subject", "s", "--server", a.issuer]],
      [pendingCommand, ["cancel", "--server", a.issuer]],
      [pendingCommand, ["frobnicate", "--server", a.issuer]],
      [pendingCommand, ["list", "--client", "public-cli"]],
    ] as [Command, string[]][]) {
      expect((await run(command, argv)).code, argv.join(" ")).toBe(CLIENTS_EXIT.usage);
    }
    expect(
      (
        await run(pendingCommand, ["list", "--client", "public-cli", "--server", a.issuer], {
          HANDOFF_ADMIN_TOKEN: undefined,
        })
      ).code,
    ).toBe(CLIENTS_EXIT.usage);
    expect(
      (
        await run(grantsCommand, ["list", "--client", "public-cli", "--server", a.issuer], {
          HANDOFF_ADMIN_TOKEN: `${ADMIN_TOKEN}x`,
        })
      ).code,
    ).toBe(CLIENTS_EXIT.unauthenticated);
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect((await run(grantsCommand, ["list", "--client", "c", "--server", closed])).code).toBe(
      CLIENTS_EXIT.unavailable,
    );
  });
});
