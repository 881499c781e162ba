#!/usr/bin/env node
/**
 * The `handoff` command. Each subcommand is imported only when it runs, so
 * `handoff login` and `handoff token` never load the server (fastify,
 * ioredis, the RPC stack) and `--help` loads nothing at all.
 */

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

  login  --issuer URL | --mcp URL  [--client-id ID] [--scope S]... [--resource URI]...
         [--json] [--no-browser]
                         sign in with the device flow (RFC 8628); the tokens are cached (0600)
                         under $XDG_CONFIG_HOME/handoff; --client-id defaults to demo-cli
  token  <the same selectors> [--json]
                         print a valid access token from the cache, refreshed if needed:
                         curl -H "Authorization: Bearer $(handoff token --issuer URL)" ...
  logout <the same selectors>
                         revoke the cached tokens (RFC 7009) and forget them

  exit codes of login/token/logout: 0 ok, 2 usage, 3 denied, 4 expired,
  5 server unreachable or refused, 6 not signed in, 130 cancelled (Ctrl-C)

  clients add|list|get|disable|enable|rotate-secret|remove --server URL [--token-file F] [--json]
                         administer clients through ClientService (handoff clients --help);
                         the admin token from --token-file or HANDOFF_ADMIN_TOKEN
  exit codes of clients: 0 ok, 2 usage, 5 unreachable, 6 admin token refused, 7 no such client,
  8 read-only or taken, 9 metadata refused

  grants list --client ID | --subject S, grants revoke FAMILY_ID --server URL [--token-file F] [--json]
  pending list --client ID, pending cancel PENDING_ID --server URL [--token-file F] [--json]
                         list, revoke and cancel authorizations through ClientService
                         (handoff grants --help, handoff pending --help); the same admin token;
                         exit codes as for clients (7: no such grant or pending request,
                         8: already decided, 9: a bad page token)
`;

/** Exit code of a command line that makes no sense (docs/client.md lists them all). */
const USAGE_ERROR = 2;

/** Exits once stdout and stderr have taken everything written (an open stream may keep the loop alive). */
async function exitWith(code: number): Promise<never> {
  await new Promise((r) => process.stdout.write("", r));
  await new Promise((r) => process.stderr.write("", r));
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, arg] = argv;
  switch (command) {
    case "login": {
      const { loginCommand } = await import("./login-command.js");
      return exitWith(await loginCommand(argv.slice(1)));
    }
    case "token": {
      const { tokenCommand } = await import("./token-command.js");
      return exitWith(await tokenCommand(argv.slice(1)));
    }
    case "logout": {
      const { logoutCommand } = await import("./logout-command.js");
      return exitWith(await logoutCommand(argv.slice(1)));
    }
    case "clients": {
      const { clientsCommand, CLIENTS_USAGE } = await import("./clients-command.js");
      if (sub === "--help" || sub === "-h" || sub === "help") {
        process.stdout.write(CLIENTS_USAGE);
        return;
      }
      return exitWith(await clientsCommand(argv.slice(1)));
    }
    case "grants":
    case "pending": {
      const { grantsCommand, pendingCommand, GRANTS_USAGE, PENDING_USAGE } = await import(
        "./operators-command.js"
      );
      if (sub === "--help" || sub === "-h" || sub === "help") {
        process.stdout.write(command === "grants" ? GRANTS_USAGE : PENDING_USAGE);
        return;
      }
      const run = command === "grants" ? grantsCommand : pendingCommand;
      return exitWith(await run(argv.slice(1)));
    }
    case "start-dev":
    case "start": {
      const { startCommand } = await import("./start-command.js");
      return startCommand(command === "start" ? "production" : "development");
    }
    case "keys":
      if (sub === "generate") {
        const { keysGenerate } = await import("./secrets-command.js");
        process.stdout.write(await keysGenerate(arg));
        return;
      }
      break;
    case "secrets":
      if (sub === "generate" || sub === "hash") {
        const { secretsGenerate, secretsHash } = await import("./secrets-command.js");
        process.stdout.write(sub === "generate" ? secretsGenerate() : await secretsHash());
        return;
      }
      break;
    case "users":
      if (sub === "add") {
        const { usersAdd } = await import("../auth/users-command.js");
        process.stdout.write(await usersAdd(argv.slice(2), process.env));
        return;
      }
      break;
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return;
  }
  process.stderr.write(USAGE);
  process.exitCode = USAGE_ERROR;
}

main(process.argv.slice(2)).catch((e: Error) => {
  process.stderr.write(`handoff: ${e.message}\n`);
  process.exit(1);
});
