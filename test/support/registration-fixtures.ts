/** Registration settings and a VS Code-like client for tests that register clients. */
import { DEFAULT_ATTEMPT_LIMITS } from "../../src/auth/attempt-limits.js";
import type {
  MetadataDocumentsConfig,
  RegistrationConfig,
} from "../../src/server/handoff-server.js";
import { DEVICE_GRANT, type TestServer } from "./handoff-server.js";

export const INITIAL_TOKEN = "initial-access-token-0123456789abcdefghij";

/** Open registration with small caps, so the cap tests stay short. */
export function registrationConfig(over: Partial<RegistrationConfig> = {}): RegistrationConfig {
  return {
    mode: "open",
    grants: ["authorization_code", "refresh_token", DEVICE_GRANT],
    idleTtl: 3600,
    maxClients: 1000,
    bodyLimit: 4096,
    limits: { maxRedirectUris: 3, maxUriLength: 200, maxNameLength: 40 },
    ...over,
  };
}

/** Limits wide enough that a suite registering many clients from one address is never refused. */
export const WIDE_REGISTRATION_LIMITS = {
  ...DEFAULT_ATTEMPT_LIMITS,
  registrationPerAddress: 10_000,
  registrationGlobal: 100_000,
};

/** What VS Code registers (RFC 7591 §3.1): the three grants, a loopback and a web redirect. */
export const VS_CODE = {
  client_name: "Visual Studio Code",
  grant_types: ["authorization_code", "refresh_token", DEVICE_GRANT],
  response_types: ["code"],
  redirect_uris: ["http://127.0.0.1:33418/", "https://vscode.dev/redirect"],
  token_endpoint_auth_method: "none",
  software_id: "vscode",
};

/** POSTs JSON (or a raw string) to the registration endpoint. */
export function register(
  server: TestServer,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${server.issuer}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Client ID Metadata Documents on, for MCP clients' code grant; `ca` trusts a test CA on loopback. */
export function codeGrantDocuments(ca?: string): MetadataDocumentsConfig {
  return {
    timeoutMs: 2000,
    maxBytes: 5120,
    cacheMinTtl: 1,
    cacheMaxTtl: 3600,
    cacheMaxEntries: 100,
    maxConcurrentFetches: 16,
    grants: ["authorization_code", "refresh_token"],
    limits: { maxRedirectUris: 10, maxUriLength: 1024, maxNameLength: 128 },
    // Loopback document hosts are a development/test-only setting.
    allowLoopback: ca !== undefined,
    ...(ca === undefined ? {} : { ca }),
  };
}
