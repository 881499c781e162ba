/**
 * Startup step 4: the tokens: RFC 9068 access tokens signed with the key
 * ring, refresh, revocation and introspection, and key rotation without a
 * restart (SIGHUP, or a change to the signing-keys file).
 */
import type { ResourceLimits } from "../domain/resource.js";
import { AccessTokenIssuer } from "../tokens/access-token.js";
import { SigningKeyFile } from "../tokens/signing-key-file.js";
import { TokenLifecycle } from "../tokens/token-lifecycle.js";
import type { Clients } from "./build-clients.js";
import type { Stores } from "./build-stores.js";
import type { Telemetry } from "./build-telemetry.js";
import type { HandoffConfig } from "./handoff-config.js";

export interface Tokens {
  readonly lifecycle: TokenLifecycle;
  /** Re-reads the signing-keys file now (what SIGHUP does); false if it could not. */
  reloadSigningKeys(): Promise<boolean>;
  close(): void;
}

export function buildTokens(
  c: HandoffConfig,
  deps: {
    readonly stores: Stores;
    readonly clients: Clients;
    readonly resources: ResourceLimits;
    readonly telemetry: Telemetry;
  },
): Tokens {
  const lifecycle = new TokenLifecycle({
    clients: deps.clients.directory,
    store: deps.stores.token,
    accessTokens: new AccessTokenIssuer(c.keys, {
      issuer: c.issuer,
      ttlSeconds: c.accessTokenTtl,
      defaultAudience: c.defaultAudience,
    }),
    options: {
      refreshIdleTtl: c.refreshTokenIdleTtl,
      refreshAbsoluteTtl: c.refreshTokenTtl,
      keepRotated: c.refreshReuseWindow,
      serviceToken: c.serviceToken,
      resources: deps.resources,
    },
    events: deps.telemetry.events,
  });
  const keyFile = c.signingKeysFile
    ? new SigningKeyFile(c.signingKeysFile, c.keys, deps.telemetry.logger)
    : undefined;
  keyFile?.watch(c.signingKeysWatchMs);
  const onSighup = () => void keyFile?.reload();
  if (keyFile) process.on("SIGHUP", onSighup);
  return {
    lifecycle,
    reloadSigningKeys: async () => (keyFile ? keyFile.reload() : false),
    close() {
      keyFile?.close();
      process.off("SIGHUP", onSighup);
    },
  };
}
