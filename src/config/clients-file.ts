/** The clients file: JSON, validated with zod (src/config/json-config-file.ts), errors naming the client and field. */
import { z } from "zod";
import {
  AUTHORIZATION_CODE_GRANT,
  type Client,
  type ClientAuthThrottle,
  type ClientRegistry,
  DEVICE_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
} from "../domain/client.js";
import { checkRedirectUri, isRedirectUriProblem } from "../domain/redirect-uri.js";
import { checkScopeTokens } from "../domain/scope.js";
import { parseJsonConfig, readConfigFile, requireUnique } from "./json-config-file.js";

const GRANTS = [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT, AUTHORIZATION_CODE_GRANT] as const;

const ClientEntry = z
  .object({
    client_id: z.string().regex(/^[\x21-\x7E]{1,128}$/, "printable ASCII, 1 to 128 characters"),
    client_name: z.string().min(1).max(128).optional(),
    client_secret_hash: z
      .string()
      .regex(
        /^(sha256:[A-Za-z0-9_-]{43}|scrypt:\d+:\d+:\d+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+)$/,
        "sha256:… or scrypt:… (see README)",
      )
      .optional(),
    grant_types: z.array(z.enum(GRANTS)).min(1),
    scopes: z.array(z.string()).default([]),
    default_scopes: z.array(z.string()).default([]),
    redirect_uris: z.array(z.string()).default([]),
    active: z.boolean().default(true),
  })
  .strict()
  .superRefine((c, ctx) => {
    const extra = c.default_scopes.find((s) => !c.scopes.includes(s));
    if (extra !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["default_scopes"],
        message: `${extra} is not in scopes`,
      });
    try {
      checkScopeTokens([...c.scopes]);
    } catch {
      ctx.addIssue({
        code: "custom",
        path: ["scopes"],
        message: "a scope token is malformed (RFC 6749 §3.3)",
      });
    }
    c.redirect_uris.forEach((uri, i) => {
      const checked = checkRedirectUri(uri);
      if (isRedirectUriProblem(checked))
        ctx.addIssue({ code: "custom", path: ["redirect_uris", i], message: checked.problem });
    });
    if (c.grant_types.includes(AUTHORIZATION_CODE_GRANT) && c.redirect_uris.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["redirect_uris"],
        message: "the authorization_code grant needs at least one redirect URI",
      });
  });

const ClientsFile = z.object({ clients: z.array(ClientEntry) }).strict();

/** Parses the clients file's text into clients; throws an Error naming the bad entry. */
export function parseClients(text: string, source: string): Client[] {
  const { clients } = parseJsonConfig(ClientsFile, text, source);
  requireUnique(clients, (c) => c.client_id, "client_id", source);
  return clients.map((c) => ({
    id: c.client_id,
    name: c.client_name ?? c.client_id,
    ...(c.client_secret_hash === undefined ? {} : { secretHash: c.client_secret_hash }),
    grantTypes: c.grant_types,
    scopes: c.scopes,
    defaultScopes: c.default_scopes,
    redirectUris: c.redirect_uris,
    active: c.active,
  }));
}

/** Reads and parses a clients file. */
export async function loadClientsFile(path: string): Promise<Client[]> {
  const text = await readConfigFile("HANDOFF_CLIENTS_FILE", path);
  return parseClients(text, `HANDOFF_CLIENTS_FILE (${path})`);
}

/** A registry over a fixed list of clients. */
export class StaticClientRegistry implements ClientRegistry {
  private readonly byId: Map<string, Client>;
  constructor(
    readonly clients: readonly Client[],
    readonly throttle?: ClientAuthThrottle,
  ) {
    this.byId = new Map(clients.map((c) => [c.id, c]));
  }
  async find(clientId: string): Promise<Client | undefined> {
    return this.byId.get(clientId);
  }
}
