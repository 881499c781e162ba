/** The clients file: JSON, validated with zod, errors naming the client and field. */
import { readFile } from "node:fs/promises";
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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const result = ClientsFile.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join(".") ?? "";
    throw new Error(`${source}: ${where ? `${where}: ` : ""}${issue?.message ?? "invalid"}`);
  }
  const seen = new Set<string>();
  return result.data.clients.map((c) => {
    if (seen.has(c.client_id)) throw new Error(`${source}: duplicate client_id ${c.client_id}`);
    seen.add(c.client_id);
    return {
      id: c.client_id,
      name: c.client_name ?? c.client_id,
      ...(c.client_secret_hash === undefined ? {} : { secretHash: c.client_secret_hash }),
      grantTypes: c.grant_types,
      scopes: c.scopes,
      defaultScopes: c.default_scopes,
      redirectUris: c.redirect_uris,
      active: c.active,
    };
  });
}

/** Reads and parses a clients file. */
export async function loadClientsFile(path: string): Promise<Client[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(
      `HANDOFF_CLIENTS_FILE: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
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
