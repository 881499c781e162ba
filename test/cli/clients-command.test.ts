/**
 * `handoff clients` against two handoff instances sharing one real Redis: a
 * few runs as a real process (tsx, no build), the rest of the subcommands and
 * every exit code in-process through the same function main.ts calls.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENTS_EXIT, clientsCommand } from "../../src/cli/clients-command.js";
import { freePort } from "../support/free-port.js";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { cleanEnv, runToEnd } from "./support/cli-process.js";

const ADMIN_TOKEN = "cli-admin-token-Hq2wE9rT4yU7iO1pA5sD8fG3hJ6kL0z";

let redis: RedisProcess;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  redis = await startRedis();
  [a, b] = await Promise.all([
    startTestServer({ adminToken: ADMIN_TOKEN, redis: { url: redis.url } }),
    startTestServer({ adminToken: ADMIN_TOKEN, redis: { url: redis.url } }),
  ]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await redis?.stop();
});

/** One in-process run, with its output. */
async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  let out = "";
  let err = "";
  const code = await clientsCommand(argv, {
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

const authorize = (s: TestServer, clientId: string, secret: string) =>
  s.post("/oauth/device/authorize", { client_id: clientId, client_secret: secret });

describe("handoff clients as a process", () => {
  it("add on A (token from the environment), works on B; disable on B (--token-file), refused on A; a wrong token is exit 6", async () => {
    const env = cleanEnv();
    const added = await runToEnd(
      ["clients", "add", "--server", a.issuer, "--id", "proc-made", "--confidential", "--scope", "read", "--json"],
      { ...env, HANDOFF_ADMIN_TOKEN: ADMIN_TOKEN },
    ); // biome-ignore format: one command line
    expect(added.code).toBe(0);
    const body = JSON.parse(added.stdout) as {
      client: { clientId: string };
      client_secret: string;
    };
    expect(body.client.clientId).toBe("proc-made");
    expect((await authorize(b, "proc-made", body.client_secret)).status).toBe(200);

    const tokenFile = join(env.HOME as string, "admin-token");
    writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    const disabled = await runToEnd(
      ["clients", "disable", "proc-made", "--server", b.issuer, "--token-file", tokenFile],
      env,
    );
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain("proc-made\tadmin\tdisabled");
    expect((await authorize(a, "proc-made", body.client_secret)).status).toBe(401);

    const refused = await runToEnd(["clients", "list", "--server", a.issuer, "--json"], {
      ...env,
      HANDOFF_ADMIN_TOKEN: `${ADMIN_TOKEN}-wrong`,
    });
    expect(refused.code).toBe(CLIENTS_EXIT.unauthenticated);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: "unauthenticated", exit_code: 6 });
  });
});

describe("handoff clients subcommands and exit codes", () => {
  it("list shows the clients file and the store; rotate-secret refuses the old secret; remove forgets", async () => {
    expect(
      (await run(["add", "--server", a.issuer, "--id", "inproc", "--confidential"])).code,
    ).toBe(0);
    const listed = await run(["list", "--server", b.issuer, "--json"]);
    expect(listed.code).toBe(0);
    const ids = (JSON.parse(listed.out) as { clients: { clientId: string; source: string }[] })
      .clients;
    expect(ids).toContainEqual(
      expect.objectContaining({ clientId: "public-cli", source: "CLIENT_SOURCE_FILE" }),
    );
    expect(ids).toContainEqual(
      expect.objectContaining({ clientId: "inproc", source: "CLIENT_SOURCE_ADMIN" }),
    );

    const first = await run(["rotate-secret", "inproc", "--server", a.issuer]);
    const second = await run(["rotate-secret", "inproc", "--server", b.issuer]);
    const secretOf = (out: string) => /client_secret: (\S+)/.exec(out)?.[1] as string;
    expect((await authorize(a, "inproc", secretOf(first.out))).status).toBe(401);
    expect((await authorize(a, "inproc", secretOf(second.out))).status).toBe(200);

    expect((await run(["remove", "inproc", "--server", b.issuer])).code).toBe(0);
    expect((await run(["get", "inproc", "--server", a.issuer])).code).toBe(CLIENTS_EXIT.notFound);
  });

  it("8 for a clients-file client, 9 for refused metadata, 2 for usage, 5 for an unreachable server", async () => {
    expect((await run(["disable", "public-cli", "--server", a.issuer])).code).toBe(
      CLIENTS_EXIT.conflict,
    );
    expect((await run(["add", "--server", a.issuer, "--id", "public-cli"])).code).toBe(
      CLIENTS_EXIT.conflict,
    );
    expect((await run(["add", "--server", a.issuer, "--grant", "password"])).code).toBe(
      CLIENTS_EXIT.invalid,
    );
    expect((await run(["list"])).code).toBe(CLIENTS_EXIT.usage);
    expect(
      (await run(["list", "--server", a.issuer], { HANDOFF_ADMIN_TOKEN: undefined })).code,
    ).toBe(CLIENTS_EXIT.usage);
    expect((await run(["frobnicate", "--server", a.issuer])).code).toBe(CLIENTS_EXIT.usage);
    expect((await run(["disable", "--server", a.issuer])).code).toBe(CLIENTS_EXIT.usage);
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect((await run(["list", "--server", closed])).code).toBe(CLIENTS_EXIT.unavailable);
  });
});
