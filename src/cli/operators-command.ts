/**
 * `handoff grants list|revoke` and `handoff pending list|cancel --server URL`:
 * the operator listings of ClientService (README "Operator listings") from a
 * terminal, over Connect, with the admin token `handoff clients` takes
 * (--token-file or HANDOFF_ADMIN_TOKEN, never the command line). The exit
 * codes are those of `handoff clients` (CLIENTS_EXIT). No listing holds a
 * code or a token: a grant is its family id, a pending request its
 * `pending_id`.
 */
import { toJson } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type Grant,
  GrantSchema,
  type PendingAuthorization,
  PendingAuthorizationSchema,
} from "../../gen/handoff/v1/client_service_pb.js";
import {
  adminClient,
  CLIENTS_EXIT,
  type ClientsIo,
  PROCESS_IO,
  parseAdminArgs,
  reportAdminFailure,
} from "./clients-command.js";
import { UsageError } from "./exit-codes.js";
import { printable } from "./login-output.js";

export const GRANTS_USAGE = `usage: handoff grants <list|revoke> --server URL [--token-file FILE] [--json]
  list --client ID | --subject SUBJECT   the live grants, newest first
  revoke FAMILY_ID                       revokes the grant and its live access tokens
  The admin token is read from --token-file, else from HANDOFF_ADMIN_TOKEN.
`;

export const PENDING_USAGE = `usage: handoff pending <list|cancel> --server URL [--token-file FILE] [--json]
  list --client ID                       the pending requests, newest first
  cancel PENDING_ID                      denies it: the device's next poll is access_denied
  The admin token is read from --token-file, else from HANDOFF_ADMIN_TOKEN.
`;

/** At most this many pages for `list`: a bound, not a real deployment's size. */
const MAX_PAGES = 1000;

/** `handoff grants` and `handoff pending`'s own flags: whose. */
const OWNER_OPTIONS = {
  client: { type: "string" },
  subject: { type: "string" },
} as const;

const when = (t: Timestamp | undefined) =>
  t === undefined
    ? "-"
    : timestampDate(t)
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z");

function describeGrant(g: Grant): string {
  return `${g.familyId}\t${g.clientId}\t${g.subject}\tscopes: ${g.scopes.join(" ") || "-"}\tcreated ${when(g.createdAt)}\trefreshed ${when(g.refreshedAt)}\texpires ${when(g.expiresAt)}\n`;
}

/** The User-Agent is the device's to choose: no control character of it reaches the terminal. */
const oneLine = (s: string) => printable(s) || "-";

function describePending(p: PendingAuthorization): string {
  return `${p.pendingId}\t${p.clientId}\tscopes: ${p.scopes.join(" ") || "-"}\tcreated ${when(p.createdAt)}\texpires ${when(p.expiresAt)}\tfrom ${p.requesterAddress || "-"}\t${oneLine(p.userAgent)}\n`;
}

/** Every page, in order, until the server gives no next page token. */
async function everyPage<T>(
  page: (pageToken: string) => Promise<{ items: T[]; next: string }>,
): Promise<T[]> {
  const all: T[] = [];
  let pageToken = "";
  for (let n = 0; n < MAX_PAGES; n++) {
    const r = await page(pageToken);
    all.push(...r.items);
    pageToken = r.next;
    if (pageToken === "") break;
  }
  return all;
}

/** Runs `handoff grants …`; resolves with the exit code. */
export async function grantsCommand(
  argv: readonly string[],
  io: ClientsIo = PROCESS_IO,
): Promise<number> {
  let json = false;
  try {
    const { values, verb, id } = parseAdminArgs(argv, OWNER_OPTIONS);
    json = values.json ?? false;
    switch (verb) {
      case "list": {
        if (id !== undefined) throw new UsageError("list takes --client ID or --subject SUBJECT");
        const { client, subject } = values;
        if ((client === undefined) === (subject === undefined)) {
          throw new UsageError("list needs exactly one of --client ID or --subject SUBJECT");
        }
        const owner = client === undefined ? { subject: subject ?? "" } : { clientId: client };
        const rpc = await adminClient(values.server, values["token-file"], io);
        const all = await everyPage(async (pageToken) => {
          const r = await rpc.listGrants({ ...owner, pageToken });
          return { items: r.grants, next: r.nextPageToken };
        });
        if (json) io.out(`${JSON.stringify({ grants: all.map((g) => toJson(GrantSchema, g)) })}\n`);
        else for (const g of all) io.out(describeGrant(g));
        return CLIENTS_EXIT.ok;
      }
      case "revoke": {
        if (id === undefined || id === "") throw new UsageError("revoke needs a family id");
        if (values.client !== undefined || values.subject !== undefined) {
          throw new UsageError("revoke takes a family id only");
        }
        const rpc = await adminClient(values.server, values["token-file"], io);
        await rpc.revokeGrant({ familyId: id });
        if (json) io.out(`${JSON.stringify({ revoked: id })}\n`);
        else io.err(`Revoked grant ${id}.\n`);
        return CLIENTS_EXIT.ok;
      }
      default:
        throw new UsageError(`unknown subcommand ${verb}`);
    }
  } catch (e) {
    return reportAdminFailure(e, "grants", GRANTS_USAGE, json, io);
  }
}

/** Runs `handoff pending …`; resolves with the exit code. */
export async function pendingCommand(
  argv: readonly string[],
  io: ClientsIo = PROCESS_IO,
): Promise<number> {
  let json = false;
  try {
    const { values, verb, id } = parseAdminArgs(argv, OWNER_OPTIONS);
    json = values.json ?? false;
    if (values.subject !== undefined) {
      throw new UsageError("a pending request has no subject until it is approved");
    }
    switch (verb) {
      case "list": {
        if (id !== undefined || values.client === undefined || values.client === "") {
          throw new UsageError("list needs --client ID");
        }
        const clientId = values.client;
        const rpc = await adminClient(values.server, values["token-file"], io);
        const all = await everyPage(async (pageToken) => {
          const r = await rpc.listPendingAuthorizations({ clientId, pageToken });
          return { items: r.authorizations, next: r.nextPageToken };
        });
        if (json) {
          io.out(
            `${JSON.stringify({ pending: all.map((p) => toJson(PendingAuthorizationSchema, p)) })}\n`,
          );
        } else for (const p of all) io.out(describePending(p));
        return CLIENTS_EXIT.ok;
      }
      case "cancel": {
        if (id === undefined || id === "") throw new UsageError("cancel needs a pending id");
        if (values.client !== undefined) throw new UsageError("cancel takes a pending id only");
        const rpc = await adminClient(values.server, values["token-file"], io);
        const r = await rpc.cancelDeviceAuthorization({ pendingId: id });
        if (json) io.out(`${JSON.stringify({ cancelled: id, client_id: r.clientId })}\n`);
        else io.err(`Cancelled ${id} (client ${r.clientId}): its device is told access_denied.\n`);
        return CLIENTS_EXIT.ok;
      }
      default:
        throw new UsageError(`unknown subcommand ${verb}`);
    }
  } catch (e) {
    return reportAdminFailure(e, "pending", PENDING_USAGE, json, io);
  }
}
