/**
 * `handoff clients add|list|get|disable|enable|rotate-secret|remove --server URL`:
 * ClientService (README "Administering clients") from a terminal, over
 * Connect. The admin token comes from --token-file or HANDOFF_ADMIN_TOKEN,
 * never from the command line (it would show in `ps` and shell history).
 */
import { readFile } from "node:fs/promises";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  ClientService,
  ClientSource,
  type ManagedClient,
  ManagedClientSchema,
} from "../../gen/handoff/v1/client_service_pb.js";
import { EXIT, UsageError } from "./exit-codes.js";

/**
 * Exit codes of `handoff clients` (docs/client.md): 0, 1, 2 and 5 as for
 * `handoff login`; the rest one per refusal a script may act on.
 */
export const CLIENTS_EXIT = {
  ok: EXIT.ok,
  failure: EXIT.failure,
  usage: EXIT.usage,
  /** Unreachable, or the server failed (UNAVAILABLE, INTERNAL …). */
  unavailable: EXIT.unavailable,
  /** The admin token was refused (UNAUTHENTICATED). */
  unauthenticated: 6,
  /** No such client (NOT_FOUND). */
  notFound: 7,
  /** A clients-file client, a taken id, or a public client's secret (FAILED_PRECONDITION, ALREADY_EXISTS). */
  conflict: 8,
  /** The metadata was refused (INVALID_ARGUMENT). */
  invalid: 9,
} as const;

export const CLIENTS_USAGE = `usage: handoff clients <add|list|get|disable|enable|rotate-secret|remove> --server URL
         [--token-file FILE] [--json]
  add [--id ID] [--name NAME] [--confidential] [--grant G]... [--scope S]...
      [--default-scope S]... [--redirect-uri URI]...
  list | get ID | disable ID | enable ID | rotate-secret ID | remove ID
  The admin token is read from --token-file, else from HANDOFF_ADMIN_TOKEN.
`;

/** Where the command writes: the process's streams, or a test's buffers. */
export interface ClientsIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  out(text: string): void;
  err(text: string): void;
}

export const PROCESS_IO: ClientsIo = {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

const SOURCE: Record<ClientSource, string> = {
  [ClientSource.UNSPECIFIED]: "unknown",
  [ClientSource.FILE]: "file",
  [ClientSource.ADMIN]: "admin",
  [ClientSource.REGISTERED]: "registered",
};

/** The flags every admin command takes: where, with which token, and how to print. */
const ADMIN_OPTIONS = {
  server: { type: "string" },
  "token-file": { type: "string" },
  json: { type: "boolean" },
} as const;

/** parseArgs' refusals as usage errors (exit code 2). */
function orUsageError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** What `parseAdminArgs` reads: the flags' values, the verb and the id after it. */
export interface AdminArgs<O extends NonNullable<ParseArgsConfig["options"]>> {
  readonly values: ReturnType<
    typeof parseArgs<{
      args: string[];
      allowPositionals: true;
      options: typeof ADMIN_OPTIONS & O;
    }>
  >["values"];
  readonly verb: string;
  readonly id: string | undefined;
}

/**
 * Ids are base64url (family ids, pending ids) or chosen by people (client
 * ids), so one may begin with "-", which parseArgs takes for a short flag,
 * a usage error: `handoff grants revoke <id>` failed for one grant in 64.
 * No admin command has short flags, so an argument of one dash and more is
 * an id: the value of the string flag before it (`--client -x` as
 * `--client=-x`), else a positional (after `--`). `--` itself still ends
 * the flags.
 */
function dashedIdsAsValues(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig["options"]>,
): string[] {
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!/^-[^-]/.test(arg)) {
      flags.push(arg);
      continue;
    }
    const before = flags[flags.length - 1];
    const name = before?.startsWith("--") && !before.includes("=") ? before.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === "string")
      flags[flags.length - 1] = `${before}=${arg}`;
    else positionals.push(arg);
  }
  return positionals.length > 0 ? [...flags, "--", ...positionals] : flags;
}

/**
 * An admin command's argv (`handoff clients`, `grants`, `pending`): the admin
 * flags and `options`, then `<verb> [id]`. Anything else is a UsageError.
 */
export function parseAdminArgs<const O extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: O,
): AdminArgs<O> {
  const all: NonNullable<ParseArgsConfig["options"]> = { ...ADMIN_OPTIONS, ...options };
  const parsed = orUsageError(() =>
    parseArgs({
      args: dashedIdsAsValues(argv, all),
      allowPositionals: true,
      options: { ...ADMIN_OPTIONS, ...options },
    }),
  );
  const [verb, id, ...extra] = parsed.positionals;
  if (verb === undefined) throw new UsageError("name a subcommand");
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(" ")}`);
  return { values: parsed.values, verb, id };
}

/** `handoff clients`' own flags. */
const CLIENT_OPTIONS = {
  id: { type: "string" },
  name: { type: "string" },
  confidential: { type: "boolean" },
  grant: { type: "string", multiple: true },
  scope: { type: "string", multiple: true },
  "default-scope": { type: "string", multiple: true },
  "redirect-uri": { type: "string", multiple: true },
} as const;

/** The admin token from --token-file, else HANDOFF_ADMIN_TOKEN (never from the command line). */
export async function adminToken(file: string | undefined, io: ClientsIo): Promise<string> {
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      throw new UsageError(`--token-file ${file}: ${(e as NodeJS.ErrnoException).code}`);
    }
    const token = text.trim();
    if (token === "") throw new UsageError(`--token-file ${file} is empty`);
    return token;
  }
  const env = io.env.HANDOFF_ADMIN_TOKEN?.trim();
  if (!env) throw new UsageError("no admin token: set HANDOFF_ADMIN_TOKEN or pass --token-file");
  return env;
}

export function serverUrl(value: string | undefined): string {
  if (value === undefined) throw new UsageError("--server URL is required");
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`--server ${value} is not a URL`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:")
    throw new UsageError("--server must be an http(s) URL");
  return value;
}

/** "--scope 'a b' --scope c" and "--scope a --scope b --scope c" mean the same. */
const words = (v: readonly string[] | undefined) =>
  (v ?? []).flatMap((s) => s.split(/\s+/)).filter((s) => s !== "");

function describe(c: ManagedClient): string {
  const state = c.disabled ? "disabled" : "active";
  const kind = c.confidential ? "confidential" : "public";
  return `${c.clientId}\t${SOURCE[c.source]}\t${state}\t${kind}\t${c.name}\tscopes: ${c.scopes.join(" ") || "-"}\n`;
}

export function exitCodeOfClients(e: unknown): number {
  if (e instanceof UsageError) return CLIENTS_EXIT.usage;
  if (!(e instanceof ConnectError)) return CLIENTS_EXIT.failure;
  switch (e.code) {
    case Code.Unauthenticated:
      return CLIENTS_EXIT.unauthenticated;
    case Code.NotFound:
      return CLIENTS_EXIT.notFound;
    case Code.FailedPrecondition:
    case Code.AlreadyExists:
      return CLIENTS_EXIT.conflict;
    case Code.InvalidArgument:
      return CLIENTS_EXIT.invalid;
    default:
      return CLIENTS_EXIT.unavailable;
  }
}

/** ClientService at --server over Connect, every call with the admin token. */
export async function adminClient(
  server: string | undefined,
  tokenFile: string | undefined,
  io: ClientsIo,
) {
  const baseUrl = serverUrl(server);
  const token = await adminToken(tokenFile, io);
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  return createClient(
    ClientService,
    createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [auth] }),
  );
}

/**
 * Reports a failure of an admin command (`handoff clients`, `grants`,
 * `pending`) on stderr, and with --json as one object on stdout; returns the
 * exit code.
 */
export function reportAdminFailure(
  e: unknown,
  command: string,
  usage: string,
  json: boolean,
  io: ClientsIo,
): number {
  const code = exitCodeOfClients(e);
  const message = e instanceof ConnectError ? e.rawMessage : (e as Error).message;
  if (json) {
    const error =
      e instanceof ConnectError
        ? Code[e.code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase()
        : code === CLIENTS_EXIT.usage
          ? "usage"
          : "failure";
    io.out(`${JSON.stringify({ error, message, exit_code: code })}\n`);
  }
  io.err(`handoff ${command}: ${message}\n`);
  if (code === CLIENTS_EXIT.usage) io.err(usage);
  return code;
}

/** At most this many pages for `list` (100 clients each): a bound, not a real deployment's size. */
const MAX_PAGES = 1000;

/** Runs `handoff clients …`; resolves with the exit code. */
export async function clientsCommand(
  argv: readonly string[],
  io: ClientsIo = PROCESS_IO,
): Promise<number> {
  let json = false;
  try {
    const { values, verb, id } = parseAdminArgs(argv, CLIENT_OPTIONS);
    json = values.json ?? false;
    const rpc = await adminClient(values.server, values["token-file"], io);
    const needId = () => {
      if (id === undefined || id === "") throw new UsageError(`${verb} needs a client id`);
      return id;
    };
    const show = (c: ManagedClient | undefined, secret?: string) => {
      if (c === undefined) return;
      if (json) {
        io.out(
          `${JSON.stringify({ client: toJson(ManagedClientSchema, c), ...(secret ? { client_secret: secret } : {}) })}\n`,
        );
      } else {
        io.out(describe(c));
        // The one time the secret is shown: on stdout, alone on its line, for a script to take.
        if (secret) io.out(`client_secret: ${secret}\n`);
      }
    };
    switch (verb) {
      case "add": {
        if (id !== undefined) throw new UsageError("add takes --id ID, not a positional id");
        const r = await rpc.createClient({
          clientId: values.id ?? "",
          name: values.name ?? "",
          confidential: values.confidential ?? false,
          grantTypes: values.grant ?? [],
          scopes: words(values.scope),
          defaultScopes: words(values["default-scope"]),
          redirectUris: values["redirect-uri"] ?? [],
        });
        show(r.client, r.clientSecret);
        if (!json && r.clientSecret) io.err("Store the secret now: it is not shown again.\n");
        return CLIENTS_EXIT.ok;
      }
      case "list": {
        const all: ManagedClient[] = [];
        let pageToken = "";
        for (let page = 0; page < MAX_PAGES; page++) {
          const r = await rpc.listClients({ pageSize: 100, pageToken });
          all.push(...r.clients);
          pageToken = r.nextPageToken;
          if (pageToken === "") break;
        }
        if (json)
          io.out(
            `${JSON.stringify({ clients: all.map((c) => toJson(ManagedClientSchema, c)) })}\n`,
          );
        else for (const c of all) io.out(describe(c));
        return CLIENTS_EXIT.ok;
      }
      case "get":
        show((await rpc.getClient({ clientId: needId() })).client);
        return CLIENTS_EXIT.ok;
      case "disable":
        show((await rpc.disableClient({ clientId: needId() })).client);
        return CLIENTS_EXIT.ok;
      case "enable":
        show((await rpc.enableClient({ clientId: needId() })).client);
        return CLIENTS_EXIT.ok;
      case "rotate-secret": {
        const r = await rpc.rotateClientSecret({ clientId: needId() });
        show(r.client, r.clientSecret);
        return CLIENTS_EXIT.ok;
      }
      case "remove": {
        const clientId = needId();
        await rpc.deleteClient({ clientId });
        if (json) io.out(`${JSON.stringify({ removed: clientId })}\n`);
        else io.err(`Removed ${clientId}.\n`);
        return CLIENTS_EXIT.ok;
      }
      default:
        throw new UsageError(`unknown subcommand ${verb}`);
    }
  } catch (e) {
    return reportAdminFailure(e, "clients", CLIENTS_USAGE, json, io);
  }
}
