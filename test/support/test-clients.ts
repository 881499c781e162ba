/** Clients registered in test servers, with the secrets the tests present. */
import {
  AUTHORIZATION_CODE_GRANT,
  type Client,
  DEVICE_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
} from "../../src/domain/client.js";
import { hashScrypt, hashSecretFast } from "../../src/domain/secret-hash.js";

/** A secret with `:`, `+` and a space, to prove Basic credentials are form-url-decoded (RFC 6749 §2.3.1). */
export const CONFIDENTIAL_SECRET = "s3cr:et+with space/and=more";
export const FAST_SECRET = "Zq3vJ8x1mW0p7R2s9T4u6V5y8B1n3C5d7E9f0G2h4K6";

export const PUBLIC_CLIENT: Client = {
  id: "public-cli",
  name: "Public Test CLI",
  grantTypes: [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT],
  scopes: ["read", "write", "admin"],
  defaultScopes: ["read"],
  redirectUris: [],
  active: true,
};

export const CONFIDENTIAL_CLIENT: Client = {
  id: "confidential-agent",
  name: "Confidential Agent",
  secretHash: await hashScrypt(CONFIDENTIAL_SECRET),
  grantTypes: [DEVICE_CODE_GRANT],
  scopes: ["read", "write"],
  defaultScopes: ["read"],
  redirectUris: [],
  active: true,
};

export const FAST_HASH_CLIENT: Client = {
  id: "fast-hash-agent",
  name: "Fast Hash Agent",
  secretHash: hashSecretFast(FAST_SECRET),
  grantTypes: [DEVICE_CODE_GRANT],
  scopes: ["read"],
  defaultScopes: ["read"],
  redirectUris: [],
  active: true,
};

/** Registered, but without the device grant (RFC 8628 §3.2, RFC 6749 §5.2: unauthorized_client). */
export const NO_DEVICE_GRANT_CLIENT: Client = {
  id: "refresh-only",
  name: "Refresh Only",
  grantTypes: [REFRESH_TOKEN_GRANT],
  scopes: ["read"],
  defaultScopes: ["read"],
  redirectUris: [],
  active: true,
};

/** A public client of the authorization code grant (RFC 8252 native app, and a web redirect). */
export const CODE_CLIENT: Client = {
  id: "mcp-app",
  name: "MCP Test App",
  grantTypes: [AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT],
  scopes: ["read", "write"],
  defaultScopes: ["read"],
  redirectUris: [
    "http://127.0.0.1/callback",
    "https://app.example.com/callback",
    "com.example.app:/oauth2redirect",
  ],
  active: true,
};

/** A confidential client of the code grant, without refresh tokens. */
export const CONFIDENTIAL_CODE_CLIENT: Client = {
  id: "code-web",
  name: "Code Web App",
  secretHash: hashSecretFast(FAST_SECRET),
  grantTypes: [AUTHORIZATION_CODE_GRANT],
  scopes: ["read"],
  defaultScopes: ["read"],
  redirectUris: ["https://web.example.com/cb?tenant=1"],
  active: true,
};

export const INACTIVE_CLIENT: Client = { ...PUBLIC_CLIENT, id: "inactive-cli", active: false };

export const TEST_CLIENTS: readonly Client[] = [
  PUBLIC_CLIENT,
  CONFIDENTIAL_CLIENT,
  FAST_HASH_CLIENT,
  NO_DEVICE_GRANT_CLIENT,
  INACTIVE_CLIENT,
  CODE_CLIENT,
  CONFIDENTIAL_CODE_CLIENT,
];
