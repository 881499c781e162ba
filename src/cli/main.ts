#!/usr/bin/env node
import { randomBytes } from "node:crypto";
import { exportJWK } from "jose";
import { usersAdd } from "../auth/users-command.js";
import { readSettings } from "../config/settings.js";
import { hashScrypt, hashSecretFast } from "../domain/secret-hash.js";
import { startHandoff } from "../server/handoff-server.js";
import { isLoopbackHost, loadConfig, type Mode } from "../server/load-config.js";
import { asyncStdout, createLogger, flushLogs } from "../server/logger.js";
/** The `handoff` command. */
import { generateSigningKey } from "../tokens/signing-keys.js";
import { devBanner } from "./banner.js";

const USAGE = `usage: handoff <command>

  start-dev              run with development defaults: memory store unless REDIS_URL is set,
                         a demo client (demo-cli), a generated signing key
  start                  run in production: needs HANDOFF_ISSUER, HANDOFF_CLIENTS_FILE,
                         HANDOFF_SIGNING_KEYS_FILE; seeds nothing
  keys generate [ES256|RS256]
                         print a new private JWK set for HANDOFF_SIGNING_KEYS_FILE
  secrets generate       print a new random client secret and its hash for the clients file
  secrets hash           read a secret on stdin, print its scrypt hash for the clients file
  users add <name> [--file <path>]
                         add or update a verification-page user in HANDOFF_USERS_FILE (or --file);
                         the password is read from stdin (not echoed on a terminal)
`;

async function run(mode: Mode): Promise<void> {
  const settings = readSettings(process.env);
  // One asynchronous stdout for every line of the process, flushed before it exits.
  const logDestination = asyncStdout();
  const logger = createLogger(settings.HANDOFF_LOG_LEVEL, logDestination);
  const config = await loadConfig(settings, mode, logger);
  const server = await startHandoff({ ...config, logDestination });
  if (mode === "development") {
    const store = config.redis ? ("url" in config.redis ? "redis" : "redis cluster") : "memory";
    const exposed = isLoopbackHost(config.host) ? undefined : config.host;
    process.stdout.write(devBanner(server.issuer, store, config.serviceToken, exposed));
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, "shutting down");
    server.close().then(
      () => flushLogs(server.logger).then(() => process.exit(0)),
      () => flushLogs(server.logger).then(() => process.exit(1)),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, arg] = argv;
  switch (command) {
    case "start-dev":
      return run("development");
    case "start":
      return run("production");
    case "keys":
      if (sub === "generate") {
        const alg = arg === "RS256" ? "RS256" : "ES256";
        const key = await generateSigningKey(alg);
        const jwk = { ...(await exportJWK(key.privateKey)), kid: key.kid, alg, use: "sig" };
        process.stdout.write(`${JSON.stringify({ keys: [jwk] }, null, 2)}\n`);
        return;
      }
      break;
    case "secrets":
      if (sub === "generate") {
        const secret = randomBytes(32).toString("base64url");
        process.stdout.write(
          `client_secret:      ${secret}\nclient_secret_hash: ${hashSecretFast(secret)}\n`,
        );
        return;
      }
      if (sub === "hash") {
        process.stdout.write(`${await hashScrypt(await readStdin())}\n`);
        return;
      }
      break;
    case "users":
      if (sub === "add") {
        process.stdout.write(await usersAdd(argv.slice(2), process.env));
        return;
      }
      break;
  }
  process.stderr.write(USAGE);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((e: Error) => {
  process.stderr.write(`handoff: ${e.message}\n`);
  process.exit(1);
});
