/** ClientService over Connect, gRPC and gRPC-Web: the admin credential, proto in, domain call, proto out. */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  ClientService,
  ClientSource,
  type Grant,
  GrantSchema,
  type ManagedClient,
  ManagedClientSchema,
  type PendingAuthorization,
  PendingAuthorizationSchema,
} from "../../gen/handoff/v1/client_service_pb.js";
import {
  ClientAdminError,
  type ClientAdministration,
  type ClientAdminRefusal,
  type ClientChanges,
  type ManagedClientView,
} from "../domain/client-administration.js";
import type { DeviceFlow } from "../domain/device-flow.js";
import { OAuthError } from "../domain/oauth-error.js";
import {
  OPERATOR_SUBJECT,
  type OperatorAuthorizations,
  type PendingView,
} from "../domain/operator-authorizations.js";
import type { ConnectedGrant } from "../domain/ports/token-store.js";
import type { TokenLifecycle } from "../tokens/token-lifecycle.js";
import { peerAddressKey } from "./rpc-translation.js";
import { requireServiceCredential } from "./service-credential.js";

export interface ClientServiceDeps {
  readonly admin: ClientAdministration;
  readonly flow: DeviceFlow;
  readonly tokens: TokenLifecycle;
  /** Listings of grants and pending requests, cancel and revoke by id. */
  readonly operators: OperatorAuthorizations;
  /** HANDOFF_ADMIN_TOKEN; undefined: every call is UNAUTHENTICATED. */
  readonly adminToken: string | undefined;
}

const SOURCE = {
  file: ClientSource.FILE,
  admin: ClientSource.ADMIN,
  registered: ClientSource.REGISTERED,
} as const;

const REFUSAL: Record<ClientAdminRefusal, Code> = {
  not_found: Code.NotFound,
  read_only: Code.FailedPrecondition,
  public_client: Code.FailedPrecondition,
  already_exists: Code.AlreadyExists,
};

function grantOf(g: ConnectedGrant): Grant {
  return create(GrantSchema, {
    familyId: g.familyId,
    clientId: g.clientId,
    subject: g.subject,
    scopes: [...g.scopes],
    resources: [...g.resources],
    createdAt: timestampFromMs(g.createdAt),
    refreshedAt: timestampFromMs(g.issuedAt),
    expiresAt: timestampFromMs(Math.min(g.idleExpiresAt, g.absoluteExpiresAt)),
  });
}

function pendingOf(p: PendingView): PendingAuthorization {
  const a = p.authorization;
  return create(PendingAuthorizationSchema, {
    pendingId: p.pendingId,
    clientId: a.clientId,
    scopes: [...a.scopes],
    resources: [...a.resources],
    createdAt: timestampFromMs(a.createdAt),
    expiresAt: timestampFromMs(a.expiresAt),
    requesterAddress: a.ipAddress,
    userAgent: a.userAgent,
  });
}

/** Exactly one of two request fields; the name of the one given. */
function oneOf(a: [string, string], b: [string, string]): "a" | "b" {
  if ((a[1] === "") === (b[1] === "")) {
    throw new OAuthError("invalid_request", `exactly one of ${a[0]} or ${b[0]} is required`);
  }
  return a[1] !== "" ? "a" : "b";
}

function managed(v: ManagedClientView): ManagedClient {
  const c = v.client;
  return create(ManagedClientSchema, {
    clientId: c.id,
    name: c.name,
    confidential: c.secretHash !== undefined,
    grantTypes: [...c.grantTypes],
    scopes: [...c.scopes],
    defaultScopes: [...c.defaultScopes],
    redirectUris: [...c.redirectUris],
    disabled: !c.active,
    source: SOURCE[v.source],
    ...(v.createdAt === undefined ? {} : { createdAt: timestampFromMs(v.createdAt) }),
  });
}

const UPDATABLE = new Set(["name", "grant_types", "scopes", "default_scopes", "redirect_uris"]);

/**
 * The admin refusals as gRPC codes; OAuthErrors and the rest go on to the
 * one error interceptor (src/rpc/error-interceptor.ts) like every service's.
 */
async function administered<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof ClientAdminError) throw new ConnectError(e.message, REFUSAL[e.refusal]);
    throw e;
  }
}

function requireId(clientId: string): string {
  if (clientId === "") throw new OAuthError("invalid_request", "client_id is required");
  return clientId;
}

/** Registers ClientService on a Connect router. */
export function clientService(deps: ClientServiceDeps) {
  const { admin } = deps;
  const guard = (ctx: HandlerContext) =>
    requireServiceCredential(ctx.requestHeader.get("authorization"), deps.adminToken, "admin");
  /** Every method checks the credential first, before reading anything. */
  const authorised = <T>(ctx: HandlerContext, body: () => Promise<T>): Promise<T> =>
    administered(async () => {
      guard(ctx);
      return body();
    });

  return (router: ConnectRouter) =>
    router.service(ClientService, {
      createClient: (req, ctx) =>
        authorised(ctx, async () => {
          const { view, clientSecret } = await admin.create({
            clientId: req.clientId,
            name: req.name,
            confidential: req.confidential,
            grantTypes: req.grantTypes,
            scopes: req.scopes,
            defaultScopes: req.defaultScopes,
            redirectUris: req.redirectUris,
          });
          return { client: managed(view), clientSecret: clientSecret ?? "" };
        }),

      getClient: (req, ctx) =>
        authorised(ctx, async () => ({
          client: managed(await admin.get(requireId(req.clientId))),
        })),

      listClients: (req, ctx) =>
        authorised(ctx, async () => {
          if (req.pageSize < 0)
            throw new OAuthError("invalid_request", "page_size must not be negative");
          const page = await admin.list(
            req.pageToken === "" ? undefined : req.pageToken,
            req.pageSize === 0 ? 100 : req.pageSize,
          );
          return { clients: page.views.map(managed), nextPageToken: page.next ?? "" };
        }),

      updateClient: (req, ctx) =>
        authorised(ctx, async () => {
          const paths = req.updateMask?.paths ?? [];
          if (paths.length === 0)
            throw new OAuthError("invalid_request", "update_mask names no field");
          const unknown = paths.find((p) => !UPDATABLE.has(p));
          if (unknown !== undefined) {
            throw new OAuthError("invalid_request", `update_mask: ${unknown} cannot be updated`);
          }
          const has = (p: string) => paths.includes(p);
          const changes: ClientChanges = {
            ...(has("name") ? { name: req.name } : {}),
            ...(has("grant_types") ? { grantTypes: req.grantTypes } : {}),
            ...(has("scopes") ? { scopes: req.scopes } : {}),
            ...(has("default_scopes") ? { defaultScopes: req.defaultScopes } : {}),
            ...(has("redirect_uris") ? { redirectUris: req.redirectUris } : {}),
          };
          return { client: managed(await admin.update(requireId(req.clientId), changes)) };
        }),

      disableClient: (req, ctx) =>
        authorised(ctx, async () => ({
          client: managed(await admin.setDisabled(requireId(req.clientId), true)),
        })),

      enableClient: (req, ctx) =>
        authorised(ctx, async () => ({
          client: managed(await admin.setDisabled(requireId(req.clientId), false)),
        })),

      rotateClientSecret: (req, ctx) =>
        authorised(ctx, async () => {
          const { view, clientSecret } = await admin.rotateSecret(requireId(req.clientId));
          return { client: managed(view), clientSecret };
        }),

      deleteClient: (req, ctx) =>
        authorised(ctx, async () => {
          await admin.delete(requireId(req.clientId));
          return {};
        }),

      cancelDeviceAuthorization: (req, ctx) =>
        authorised(ctx, async () => {
          const by = oneOf(["user_code", req.userCode], ["pending_id", req.pendingId]);
          const approverAddress = ctx.values.get(peerAddressKey);
          if (by === "b") return deps.operators.cancelPending(req.pendingId, approverAddress);
          const r = await deps.flow.decide({
            userCode: req.userCode,
            subject: OPERATOR_SUBJECT,
            approve: false,
            approverAddress,
            refuseRepeat: true,
          });
          return { clientId: r.clientId };
        }),

      revokeGrant: (req, ctx) =>
        authorised(ctx, async () => {
          const by = oneOf(["token", req.token], ["family_id", req.familyId]);
          const revoked =
            by === "a"
              ? await deps.tokens.revokeForOperator(req.token)
              : await deps.operators.revokeGrant(req.familyId);
          if (!revoked) throw new ConnectError("no live grant has this token or id", Code.NotFound);
          return {};
        }),

      listGrants: (req, ctx) =>
        authorised(ctx, async () => {
          const by = oneOf(["client_id", req.clientId], ["subject", req.subject]);
          const page = await deps.operators.listGrants(
            by === "a" ? { clientId: req.clientId } : { subject: req.subject },
            req.pageSize,
            req.pageToken,
          );
          return { grants: page.items.map(grantOf), nextPageToken: page.next ?? "" };
        }),

      listPendingAuthorizations: (req, ctx) =>
        authorised(ctx, async () => {
          const page = await deps.operators.listPending(
            requireId(req.clientId),
            req.pageSize,
            req.pageToken,
          );
          return { authorizations: page.items.map(pendingOf), nextPageToken: page.next ?? "" };
        }),
    });
}
