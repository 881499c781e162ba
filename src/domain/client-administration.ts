/**
 * Client administration (README "Administering clients"): operators create,
 * change, disable and remove clients kept in the state store, so every
 * instance sees a change at its next lookup (the directory reads the store on
 * every authentication; nothing caches a client). The clients file stays a
 * read-only declarative source. Metadata is checked by the RFC 7591 rules
 * (client-metadata.ts); secrets come from the CSPRNG, are returned once and
 * kept only as a hash.
 */
import { randomBytes } from "node:crypto";
import {
  AUTHORIZATION_CODE_GRANT,
  type Client,
  DEVICE_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
} from "./client.js";
import { validateClientMetadata } from "./client-metadata.js";
import { OAuthError } from "./oauth-error.js";
import type { ClientStore, StoredClient } from "./ports/client-store.js";
import type { FlowEvents } from "./ports/flow-events.js";
import { SCOPE_TOKEN_PATTERN } from "./scope.js";
import { hashSecretFast } from "./secret-hash.js";

/** Why an administrative call was refused, beyond bad metadata (an OAuthError). */
export type ClientAdminRefusal = "not_found" | "read_only" | "already_exists" | "public_client";

export class ClientAdminError extends Error {
  override readonly name = "ClientAdminError";
  constructor(
    readonly refusal: ClientAdminRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** Where a client is kept, as operators see it. */
export type ClientSourceKind = "file" | "admin" | "registered";

export interface ManagedClientView {
  readonly client: Client;
  readonly source: ClientSourceKind;
  /** Epoch ms; undefined for clients-file clients. */
  readonly createdAt?: number;
}

/** What a new client may say; absent lists take the defaults below. */
export interface NewClient {
  readonly clientId?: string;
  readonly name?: string;
  readonly confidential: boolean;
  readonly grantTypes?: readonly string[];
  readonly scopes?: readonly string[];
  readonly defaultScopes?: readonly string[];
  readonly redirectUris?: readonly string[];
}

/** The fields UpdateClient may replace. */
export interface ClientChanges {
  readonly name?: string;
  readonly grantTypes?: readonly string[];
  readonly scopes?: readonly string[];
  readonly defaultScopes?: readonly string[];
  readonly redirectUris?: readonly string[];
}

export interface ClientAdministrationDeps {
  readonly store: ClientStore;
  /** The clients file, read-only here. */
  readonly configured: readonly Client[];
  readonly events: FlowEvents;
  /** The same caps as registration (HANDOFF_CLIENT_MAX_*). */
  readonly limits: {
    readonly maxRedirectUris: number;
    readonly maxUriLength: number;
    readonly maxNameLength: number;
  };
  readonly clock?: () => number;
}

/** Every grant this server implements: an operator may give a client any of them. */
const GRANTS = [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT, AUTHORIZATION_CODE_GRANT];
const DEFAULT_GRANTS = [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT];
/** A chosen id: URL-safe and short, never an https URL (that means a metadata document). */
const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;
/** Most clients one page lists. */
export const MAX_PAGE_SIZE = 500;

const mintClientId = () => randomBytes(16).toString("base64url");
/** 256 bits from the CSPRNG: high entropy, so the fast hash at rest is enough (secret-hash.ts). */
const mintSecret = () => randomBytes(32).toString("base64url");

export class ClientAdministration {
  private readonly configured: ReadonlyMap<string, Client>;

  constructor(private readonly deps: ClientAdministrationDeps) {
    this.configured = new Map(deps.configured.map((c) => [c.id, c]));
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /** Checks the metadata by the registration rules; returns what the client will hold. */
  private checked(c: {
    id: string;
    name: string | undefined;
    confidential: boolean;
    grantTypes: readonly string[];
    scopes: readonly string[];
    defaultScopes: readonly string[] | undefined;
    redirectUris: readonly string[];
  }) {
    for (const s of c.scopes) {
      if (!SCOPE_TOKEN_PATTERN.test(s))
        throw new OAuthError("invalid_client_metadata", "a scope token is malformed");
    }
    const m = validateClientMetadata(
      {
        grant_types: [...c.grantTypes],
        redirect_uris: [...c.redirectUris],
        scope: c.scopes.join(" "),
        token_endpoint_auth_method: c.confidential ? "client_secret_basic" : "none",
        ...(c.name === undefined || c.name === "" ? {} : { client_name: c.name }),
      },
      {
        ...this.deps.limits,
        allowedGrants: GRANTS,
        allowedScopes: c.scopes,
        confidentialAllowed: true,
      },
      "none",
    );
    const defaults =
      c.defaultScopes === undefined || c.defaultScopes.length === 0
        ? m.scopes
        : [...new Set(c.defaultScopes)];
    const extra = defaults.find((s) => !m.scopes.includes(s));
    if (extra !== undefined) {
      throw new OAuthError(
        "invalid_client_metadata",
        `the default scope ${extra} is not one of the client's scopes`,
      );
    }
    return {
      name: m.clientName ?? c.id,
      grantTypes: m.grantTypes,
      scopes: m.scopes,
      defaultScopes: defaults,
      redirectUris: m.redirectUris,
    };
  }

  /** The stored client, or why not: clients-file ids are read-only, unknown ids not found. */
  private async stored(clientId: string): Promise<StoredClient> {
    if (this.configured.has(clientId)) {
      throw new ClientAdminError(
        "read_only",
        "the client is declared in the clients file; change it there",
      );
    }
    const s = await this.deps.store.get(clientId, this.now());
    if (s === undefined) throw new ClientAdminError("not_found", "no such client");
    return s;
  }

  async create(input: NewClient): Promise<{ view: ManagedClientView; clientSecret?: string }> {
    const id =
      input.clientId === undefined || input.clientId === "" ? mintClientId() : input.clientId;
    if (!CLIENT_ID.test(id)) {
      throw new OAuthError(
        "invalid_client_metadata",
        "client_id must be 1 to 128 of A-Z a-z 0-9 . _ ~ -",
      );
    }
    if (this.configured.has(id)) {
      throw new ClientAdminError(
        "already_exists",
        "the clients file already declares this client id",
      );
    }
    const fields = this.checked({
      id,
      name: input.name,
      confidential: input.confidential,
      grantTypes: input.grantTypes?.length ? input.grantTypes : DEFAULT_GRANTS,
      scopes: input.scopes ?? [],
      defaultScopes: input.defaultScopes,
      redirectUris: input.redirectUris ?? [],
    });
    const secret = input.confidential ? mintSecret() : undefined;
    const now = this.now();
    const client: Client = {
      id,
      ...fields,
      ...(secret === undefined ? {} : { secretHash: hashSecretFast(secret) }),
      active: true,
    };
    // No expiry: an operator's client stays until removed, and never counts against the registration cap.
    const stored: StoredClient = {
      client,
      createdAt: now,
      idleTtlMs: 0,
      expiresAt: 0,
      metadata: {},
    };
    const outcome = await this.deps.store.put(stored, "create", 0);
    if (outcome === "exists")
      throw new ClientAdminError("already_exists", "a client with this id exists");
    if (outcome !== "stored")
      throw new OAuthError("temporarily_unavailable", "the client could not be stored");
    this.deps.events.record({ event: "client_changed", clientId: id, change: "created" });
    return { view: viewOf(stored), ...(secret === undefined ? {} : { clientSecret: secret }) };
  }

  async get(clientId: string): Promise<ManagedClientView> {
    const file = this.configured.get(clientId);
    if (file) return { client: file, source: "file" };
    const s = await this.deps.store.get(clientId, this.now());
    if (s === undefined) throw new ClientAdminError("not_found", "no such client");
    return viewOf(s);
  }

  /**
   * One page over the clients file and the store together, in id order: the
   * two never share an id (create refuses file ids, registration mints random ones).
   */
  async list(
    after: string | undefined,
    limit: number,
  ): Promise<{ views: ManagedClientView[]; next?: string }> {
    const size = Math.min(Math.max(1, limit), MAX_PAGE_SIZE);
    const page = await this.deps.store.list(after, size, this.now());
    const file = [...this.configured.values()]
      .filter((c) => after === undefined || c.id > after)
      .map((c): ManagedClientView => ({ client: c, source: "file" }));
    const merged = [...page.clients.map(viewOf), ...file].sort((a, b) =>
      a.client.id < b.client.id ? -1 : a.client.id > b.client.id ? 1 : 0,
    );
    // The store's page covers ids up to its last one (`next`) only: file ids past it wait.
    const bound = page.next;
    const within = merged.filter((v) => bound === undefined || v.client.id <= bound);
    const kept = within.slice(0, size);
    const last = kept.at(-1)?.client.id;
    const more = within.length > size || bound !== undefined;
    return more && last !== undefined ? { views: kept, next: last } : { views: kept };
  }

  async update(clientId: string, changes: ClientChanges): Promise<ManagedClientView> {
    const s = await this.stored(clientId);
    const c = s.client;
    const fields = this.checked({
      id: c.id,
      name: changes.name ?? c.name,
      confidential: c.secretHash !== undefined,
      grantTypes: changes.grantTypes ?? c.grantTypes,
      scopes: changes.scopes ?? c.scopes,
      defaultScopes: changes.defaultScopes ?? (changes.scopes ? undefined : c.defaultScopes),
      redirectUris: changes.redirectUris ?? c.redirectUris,
    });
    return this.replace(s, { ...c, ...fields }, "updated");
  }

  async setDisabled(clientId: string, disabled: boolean): Promise<ManagedClientView> {
    await this.stored(clientId);
    if (!(await this.deps.store.setDisabled(clientId, disabled))) {
      throw new ClientAdminError("not_found", "no such client");
    }
    this.deps.events.record({
      event: "client_changed",
      clientId,
      change: disabled ? "disabled" : "enabled",
    });
    return this.get(clientId);
  }

  async rotateSecret(clientId: string): Promise<{ view: ManagedClientView; clientSecret: string }> {
    const s = await this.stored(clientId);
    if (s.client.secretHash === undefined) {
      throw new ClientAdminError("public_client", "a public client has no secret to rotate");
    }
    const secret = mintSecret();
    const view = await this.replace(
      s,
      { ...s.client, secretHash: hashSecretFast(secret) },
      "secret_rotated",
    );
    return { view, clientSecret: secret };
  }

  async delete(clientId: string): Promise<void> {
    await this.stored(clientId);
    if (!(await this.deps.store.delete(clientId)))
      throw new ClientAdminError("not_found", "no such client");
    this.deps.events.record({ event: "client_changed", clientId, change: "deleted" });
  }

  /** Writes a changed client; "update" keeps the stored active flag, so a racing Disable is never undone. */
  private async replace(
    s: StoredClient,
    client: Client,
    change: "updated" | "secret_rotated",
  ): Promise<ManagedClientView> {
    const next: StoredClient = { ...s, client };
    const outcome = await this.deps.store.put(next, "update", 0);
    if (outcome === "missing") throw new ClientAdminError("not_found", "no such client");
    if (outcome !== "stored")
      throw new OAuthError("temporarily_unavailable", "the client could not be stored");
    this.deps.events.record({ event: "client_changed", clientId: client.id, change });
    return this.get(client.id);
  }
}

function viewOf(s: StoredClient): ManagedClientView {
  return {
    client: s.client,
    source: s.client.origin?.kind === "registered" ? "registered" : "admin",
    createdAt: s.createdAt,
  };
}
