/**
 * Start-dev stays on loopback unless told otherwise
 * (and warns when told), and `handoff start` refuses weak settings, each
 * message naming the setting.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { exportJWK } from "jose";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { devBanner } from "../../src/cli/banner.js";
import { DEV_SERVICE_TOKEN } from "../../src/config/dev-seed.js";
import { readSettings } from "../../src/config/settings.js";
import { hashScrypt } from "../../src/domain/secret-hash.js";
import { startHandoff } from "../../src/server/handoff-server.js";
import { loadConfig } from "../../src/server/load-config.js";
import { estimatedBits } from "../../src/server/weak-settings.js";
import { generateSigningKey } from "../../src/tokens/signing-keys.js";

function capture() {
  let text = "";
  const logger = pino(
    { level: "warn" },
    new Writable({
      write(c, _e, cb) {
        text += c.toString();
        cb();
      },
    }),
  );
  return { logger, text: () => text };
}

const STRONG = "Zq3vJ8x1mW0p7R2s9T4u6V5y8B1n3C5d7E9f0G2h4K6";
const CSRF_SECRET = "pL4mN8qR2tV6xZ0bD3fH7jK1sW5yA9cE2gI6kM0oQ4u";

async function productionEnv(extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "handoff-weak-"));
  const key = await generateSigningKey("ES256");
  writeFileSync(
    join(dir, "keys.json"),
    JSON.stringify({
      keys: [{ ...(await exportJWK(key.privateKey)), kid: key.kid, alg: "ES256" }],
    }),
  );
  writeFileSync(
    join(dir, "clients.json"),
    JSON.stringify({
      clients: [
        { client_id: "cli", grant_types: ["urn:ietf:params:oauth:grant-type:device_code"] },
      ],
    }),
  );
  return {
    dir,
    env: {
      HANDOFF_ISSUER: "https://auth.example.com",
      HANDOFF_CLIENTS_FILE: join(dir, "clients.json"),
      HANDOFF_SIGNING_KEYS_FILE: join(dir, "keys.json"),
      HANDOFF_LOG_LEVEL: "silent",
      HANDOFF_CSRF_SECRET: CSRF_SECRET,
      ...extra,
    },
  };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "",
    (e: Error) => e.message,
  );

describe("start-dev binds loopback", () => {
  it("listens on 127.0.0.1 by default: another interface of this machine is refused", async () => {
    const { logger, text } = capture();
    const config = await loadConfig(readSettings({ PORT: "18201" }), "development", logger);
    expect(config.host).toBe("127.0.0.1");
    expect(text()).not.toContain("beyond this machine");
    const server = await startHandoff({ ...config, logLevel: "silent" });
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
      const external = Object.values(networkInterfaces())
        .flat()
        .find((a) => a?.family === "IPv4" && !a.internal)?.address;
      if (external) {
        const e = await fetch(`http://${external}:${server.port}/healthz`).catch(
          (err: Error & { cause?: { code?: string } }) => err.cause?.code,
        );
        expect(e).toBe("ECONNREFUSED");
      }
    } finally {
      await server.close();
    }
  });

  it("warns in the log and at the top of the banner when HANDOFF_HOST is not loopback", async () => {
    const { logger, text } = capture();
    const config = await loadConfig(
      readSettings({ HANDOFF_HOST: "0.0.0.0" }),
      "development",
      logger,
    );
    expect(config.host).toBe("0.0.0.0");
    expect(text()).toContain("beyond this machine");
    const banner = devBanner("http://localhost:8080", "memory", DEV_SERVICE_TOKEN, "0.0.0.0");
    expect(banner.trimStart()).toMatch(/^WARNING: listening on 0\.0\.0\.0/);
    expect(devBanner("http://localhost:8080", "memory", DEV_SERVICE_TOKEN)).not.toContain(
      "WARNING",
    );
  });

  it("handoff start keeps 0.0.0.0 as its default (it needs explicit configuration anyway)", async () => {
    const { env } = await productionEnv({ HANDOFF_SERVICE_TOKEN: STRONG });
    const config = await loadConfig(readSettings(env), "production", capture().logger);
    expect(config.host).toBe("0.0.0.0");
  });
});

describe("handoff start refuses weak settings", () => {
  it("estimates token entropy from character frequency", () => {
    expect(estimatedBits("a".repeat(32))).toBe(0);
    expect(estimatedBits("ab".repeat(16))).toBe(32);
    expect(estimatedBits(STRONG)).toBeGreaterThan(128);
  });

  it("refuses the published dev token and 32 × a, naming HANDOFF_SERVICE_TOKEN", async () => {
    for (const token of [DEV_SERVICE_TOKEN, "a".repeat(32)]) {
      const { env } = await productionEnv({ HANDOFF_SERVICE_TOKEN: token });
      expect(await refusal(loadConfig(readSettings(env), "production", capture().logger))).toMatch(
        /HANDOFF_SERVICE_TOKEN: (is the published development token|too predictable)/,
      );
    }
  });

  it("refuses a weak HANDOFF_ADMIN_TOKEN, and one shared with the service token", async () => {
    for (const [admin, problem] of [
      ["b".repeat(32), "HANDOFF_ADMIN_TOKEN: too predictable"],
      [STRONG, "HANDOFF_ADMIN_TOKEN: is the same as HANDOFF_SERVICE_TOKEN"],
    ] as const) {
      const { env } = await productionEnv({
        HANDOFF_SERVICE_TOKEN: STRONG,
        HANDOFF_ADMIN_TOKEN: admin,
      });
      expect(
        await refusal(loadConfig(readSettings(env), "production", capture().logger)),
      ).toContain(problem);
    }
    const { env } = await productionEnv({
      HANDOFF_SERVICE_TOKEN: STRONG,
      HANDOFF_ADMIN_TOKEN: CSRF_SECRET.split("").reverse().join(""),
    });
    const config = await loadConfig(readSettings(env), "production", capture().logger);
    expect(config.adminToken).toBe([...CSRF_SECRET].reverse().join(""));
  });

  it("refuses a users file with demo/demo or a hash cheaper than `users add` writes", async () => {
    const { dir, env } = await productionEnv({ HANDOFF_SERVICE_TOKEN: STRONG });
    const file = join(dir, "users.json");
    for (const [user, hash] of [
      ["demo", await hashScrypt("demo")],
      ["erin", await hashScrypt("a long passphrase", 1024)],
    ] as const) {
      writeFileSync(file, JSON.stringify({ users: [{ username: user, password_hash: hash }] }));
      const message = await refusal(
        loadConfig(
          readSettings({ ...env, HANDOFF_USERS_FILE: file }),
          "production",
          capture().logger,
        ),
      );
      expect(message).toContain(`HANDOFF_USERS_FILE: ${user}`);
    }
  });

  it("requires HANDOFF_CSRF_SECRET (one key for every instance) and refuses 32 × a", async () => {
    const { env } = await productionEnv({ HANDOFF_SERVICE_TOKEN: STRONG });
    const { HANDOFF_CSRF_SECRET: _, ...without } = env;
    expect(
      await refusal(loadConfig(readSettings(without), "production", capture().logger)),
    ).toContain("HANDOFF_CSRF_SECRET: required");
    expect(
      await refusal(
        loadConfig(
          readSettings({ ...env, HANDOFF_CSRF_SECRET: "a".repeat(32) }),
          "production",
          capture().logger,
        ),
      ),
    ).toContain("HANDOFF_CSRF_SECRET: too predictable");
    const config = await loadConfig(readSettings(env), "production", capture().logger);
    expect(config.csrfSecret).toBe(CSRF_SECRET);
  });

  it("HANDOFF_TRUST_PROXY=true fails naming the setting and saying why", async () => {
    const message = await refusal(
      loadConfig(readSettings({ HANDOFF_TRUST_PROXY: "true" }), "development", capture().logger),
    );
    expect(message).toMatch(/HANDOFF_TRUST_PROXY: .*X-Forwarded-For/);
  });

  it("warns on the memory store", async () => {
    const { env } = await productionEnv({ HANDOFF_SERVICE_TOKEN: STRONG });
    const { logger, text } = capture();
    await loadConfig(readSettings(env), "production", logger);
    expect(text()).toContain("memory store");
  });
});
