/** What `handoff start-dev` seeds. Never used by `handoff start`. */
import { type Client, DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT } from "../domain/client.js";

/** The public demo client (other tools rely on its name and grants: keep them stable). */
export const DEMO_CLIENT: Client = {
  id: "demo-cli",
  name: "Demo CLI",
  grantTypes: [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT],
  scopes: ["read", "write", "profile"],
  defaultScopes: ["read"],
  redirectUris: [],
  active: true,
};

/**
 * A well-known, non-secret service token for trying `Approve` locally. It is
 * printed in the dev banner on purpose; `handoff start` has no default.
 */
export const DEV_SERVICE_TOKEN = "dev-service-token-not-for-production-use";

/** The demo user of the verification page (other tools rely on it: keep it stable). */
export const DEMO_USER = { username: "demo", password: "demo" } as const;
