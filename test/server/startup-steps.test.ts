/**
 * Startup in steps (docs/architecture.md): stores, clients, tokens, flows and
 * transports are built first, and the port is bound last, so no connection is
 * accepted before the handlers exist; a failed listen undoes what was built.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK } from "jose";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { readSettings } from "../../src/config/settings.js";
import { startHandoff } from "../../src/server/handoff-server.js";
import { loadConfig } from "../../src/server/load-config.js";
import { generateSigningKey } from "../../src/tokens/signing-keys.js";
import { freePort } from "../support/free-port.js";

const silent = pino({ level: "silent" });

async function devConfig(env: Record<string, string>) {
  return loadConfig(
    readSettings({ HANDOFF_HOST: "127.0.0.1", HANDOFF_LOG_LEVEL: "silent", ...env }),
    "development",
    silent,
  );
}

/** What a TCP connect to the port gets: "connected", or the error code. */
function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe("startup in steps, listening last", () => {
  it("refuses connections while the handlers are being built, then serves", async () => {
    const port = await freePort();
    const starting = startHandoff(await devConfig({ PORT: String(port) }));
    // Issued before startHandoff's first step has finished: nothing may listen yet.
    const early = connectOutcome(port);
    const server = await starting;
    try {
      expect(await early).toBe("ECONNREFUSED");
      expect(server.issuer).toBe(`http://localhost:${port}`);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("a port already taken fails the start and leaves no key watcher or signal handler behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "handoff-start-"));
    const key = await generateSigningKey("ES256");
    writeFileSync(
      join(dir, "keys.json"),
      JSON.stringify({
        keys: [{ ...(await exportJWK(key.privateKey)), kid: key.kid, alg: "ES256" }],
      }),
    );
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const sighup = process.listenerCount("SIGHUP");
    try {
      const config = await devConfig({
        PORT: String(port),
        HANDOFF_SIGNING_KEYS_FILE: join(dir, "keys.json"),
      });
      await expect(startHandoff(config)).rejects.toMatchObject({ code: "EADDRINUSE" });
      expect(process.listenerCount("SIGHUP")).toBe(sighup);
    } finally {
      taken.close();
    }
  });

  it("PORT=0 needs HANDOFF_ISSUER: the default issuer names the port, known only once listening", async () => {
    await expect(devConfig({ PORT: "0" })).rejects.toThrow(/PORT=0 needs HANDOFF_ISSUER/);
    const config = await devConfig({ PORT: "0", HANDOFF_ISSUER: "http://127.0.0.1:1/tenant" });
    const server = await startHandoff(config);
    try {
      expect(server.port).toBeGreaterThan(0);
      expect(server.issuer).toBe("http://127.0.0.1:1/tenant");
    } finally {
      await server.close();
    }
  });
});
