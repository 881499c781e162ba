/**
 * Dynamic client registration (RFC 7591 §3) as a domain operation: validate
 * the metadata, mint a client id (and, for a confidential client, a secret
 * shown once and kept only as a hash), store the client with an expiry for
 * disuse. The HTTP endpoint only translates.
 */
import { randomBytes } from "node:crypto";
import type { Client } from "./client.js";
import {
  type ClientMetadata,
  type ClientMetadataPolicy,
  validateClientMetadata,
} from "./client-metadata.js";
import { OAuthError } from "./oauth-error.js";
import type { ClientStore, StoredClient } from "./ports/client-store.js";
import { hashSecretFast } from "./secret-hash.js";

/** `open`: public clients only, no credential; `token`: an initial access token is required. */
export type RegistrationMode = "open" | "token";

export interface RegistrationOptions {
  readonly mode: RegistrationMode;
  /** Grants, scopes and field caps (the confidential flag comes from the mode). */
  readonly policy: Omit<ClientMetadataPolicy, "confidentialAllowed">;
  /** A registered client unused this long (ms) is forgotten. */
  readonly idleTtlMs: number;
  /** At most this many registered clients at once; past it registration answers 503. */
  readonly maxClients: number;
}

/** A registration that succeeded: the stored client and, once, its secret. */
export interface Registration {
  readonly stored: StoredClient;
  readonly metadata: ClientMetadata;
  /** Only for confidential clients; never stored, never shown again. */
  readonly clientSecret?: string;
}

/** Opaque ids: 128 bits from the CSPRNG (never an https URL, which means a metadata document). */
const mintClientId = () => randomBytes(16).toString("base64url");
/** 256 bits from the CSPRNG: high entropy, so a fast hash at rest is enough (see secret-hash.ts). */
const mintClientSecret = () => randomBytes(32).toString("base64url");

export class ClientRegistration {
  constructor(
    private readonly deps: {
      readonly store: ClientStore;
      readonly options: RegistrationOptions;
      readonly clock?: () => number;
    },
  ) {}

  get mode(): RegistrationMode {
    return this.deps.options.mode;
  }

  /**
   * Registers a client from RFC 7591 §3.1 metadata. The caller has already
   * checked the initial access token in `token` mode; the limits per address
   * are the transport's (they need the address).
   */
  async register(input: unknown): Promise<Registration> {
    const { options, store } = this.deps;
    const confidentialAllowed = options.mode === "token";
    const metadata = validateClientMetadata(
      input,
      { ...options.policy, confidentialAllowed },
      confidentialAllowed ? "client_secret_basic" : "none",
    );
    const clientSecret =
      metadata.tokenEndpointAuthMethod === "none" ? undefined : mintClientSecret();
    const now = (this.deps.clock ?? Date.now)();
    const id = mintClientId();
    const client: Client = {
      id,
      // Unnamed: the consent screen shows the id (and, always, that it is unverified).
      name: metadata.clientName ?? id,
      ...(clientSecret === undefined ? {} : { secretHash: hashSecretFast(clientSecret) }),
      grantTypes: metadata.grantTypes,
      scopes: metadata.scopes,
      defaultScopes: metadata.scopes,
      redirectUris: metadata.redirectUris,
      active: true,
      origin: { kind: "registered" },
    };
    const stored: StoredClient = {
      client,
      createdAt: now,
      idleTtlMs: options.idleTtlMs,
      expiresAt: now + options.idleTtlMs,
      metadata: metadataFields(metadata),
    };
    const outcome = await store.put(stored, "create", options.maxClients);
    if (outcome === "full") {
      throw new OAuthError(
        "temporarily_unavailable",
        "too many registered clients; unused ones expire, try again later",
      );
    }
    if (outcome !== "stored") {
      throw new OAuthError("temporarily_unavailable", "the registration could not be stored");
    }
    return { stored, metadata, ...(clientSecret === undefined ? {} : { clientSecret }) };
  }
}

/** What only the echo needs (the rest is in the client itself). */
function metadataFields(m: ClientMetadata): Record<string, string> {
  return {
    token_endpoint_auth_method: m.tokenEndpointAuthMethod,
    ...(m.softwareId === undefined ? {} : { software_id: m.softwareId }),
    ...(m.softwareVersion === undefined ? {} : { software_version: m.softwareVersion }),
  };
}

/**
 * The RFC 7591 §3.2.1 response body: the client id, when it was issued, the
 * secret (once) and every registered metadata value.
 */
export function registrationResponse(r: Registration): Record<string, unknown> {
  const { client, createdAt } = r.stored;
  const m = r.metadata;
  return {
    client_id: client.id,
    client_id_issued_at: Math.floor(createdAt / 1000),
    ...(r.clientSecret === undefined
      ? {}
      : { client_secret: r.clientSecret, client_secret_expires_at: 0 }),
    ...(m.clientName === undefined ? {} : { client_name: m.clientName }),
    redirect_uris: [...m.redirectUris],
    grant_types: [...m.grantTypes],
    response_types: [...m.responseTypes],
    token_endpoint_auth_method: m.tokenEndpointAuthMethod,
    scope: m.scopes.join(" "),
    ...(m.softwareId === undefined ? {} : { software_id: m.softwareId }),
    ...(m.softwareVersion === undefined ? {} : { software_version: m.softwareVersion }),
  };
}
