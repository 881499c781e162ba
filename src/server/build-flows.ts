/**
 * Startup step 5: the grants: the device flow (RFC 8628) with its WaitToken
 * streams, the authorization code grant (RFC 6749 §4.1) and, when on, RFC 7591
 * registration.
 */

import { authorizationQuota } from "../auth/authorization-quota.js";
import { AuthorizationCodeFlow } from "../domain/authorization-code-flow.js";
import { ClientRegistration } from "../domain/client-registration.js";
import { DeviceFlow } from "../domain/device-flow.js";
import { issuanceLeaseMs } from "../domain/issuance.js";
import type { ResourceLimits } from "../domain/resource.js";
import { TokenWaits } from "../domain/token-wait.js";
import type { RegistrationEndpointOptions } from "../http/registration-endpoint.js";
import type { Clients } from "./build-clients.js";
import type { Stores } from "./build-stores.js";
import type { Telemetry } from "./build-telemetry.js";
import type { Tokens } from "./build-tokens.js";
import type { HandoffConfig } from "./handoff-config.js";

export interface Flows {
  readonly device: DeviceFlow;
  readonly code: AuthorizationCodeFlow;
  /** The open WaitToken streams of this instance. */
  readonly waits: TokenWaits;
  /** Absent: registration is off. */
  readonly registration: RegistrationEndpointOptions | undefined;
}

export function buildFlows(
  c: HandoffConfig,
  deps: {
    readonly stores: Stores;
    readonly clients: Clients;
    readonly tokens: Tokens;
    readonly resources: ResourceLimits;
    readonly telemetry: Telemetry;
  },
): Flows {
  const { stores, clients, tokens, resources } = deps;
  const events = deps.telemetry.events;
  const device = new DeviceFlow({
    clients: clients.directory,
    store: stores.device,
    tokens: tokens.lifecycle,
    notifier: stores.notifier,
    options: {
      verificationUri: c.verificationUri,
      expiresIn: c.deviceCodeTtl,
      interval: c.pollInterval,
      jitterToleranceMs: c.pollJitterMs,
      resources,
      retryWindow: c.tokenRetryWindow,
      // An issuance attempt is two store calls after the consumption (the
      // family, the confirmation), each within the deadline, and a signature.
      ...(c.redis ? { retryLeaseMs: issuanceLeaseMs(c.redisTimeoutMs) } : {}),
    },
    events,
    quota: authorizationQuota(stores.limiter, deps.telemetry.logger, events),
  });
  const waits = new TokenWaits({
    flow: device,
    notifier: stores.notifier,
    options: {
      maxOpen: c.waitMaxStreams,
      recheckMs: c.waitRecheckMs,
      interval: c.pollInterval,
    },
    events,
  });
  const code = new AuthorizationCodeFlow({
    clients: clients.directory,
    store: stores.codes,
    tokens: tokens.lifecycle,
    options: {
      issuer: c.issuer,
      codeTtl: c.authorizationCodeTtl,
      // A replayed code can revoke its tokens for as long as its access token lives.
      replayWindow: c.accessTokenTtl,
      resources,
      // As the device flow: a retry after a failed issuance gets the same set.
      retryWindow: c.tokenRetryWindow,
      ...(c.redis ? { retryLeaseMs: issuanceLeaseMs(c.redisTimeoutMs) } : {}),
    },
    events,
  });
  const r = c.registration;
  const registration = r && {
    registration: new ClientRegistration({
      store: stores.clients,
      options: {
        mode: r.mode,
        policy: {
          allowedGrants: r.grants,
          allowedScopes: r.scopes ?? clients.scopesSupported,
          ...r.limits,
        },
        idleTtlMs: r.idleTtl * 1000,
        maxClients: r.maxClients,
      },
    }),
    ...(r.initialAccessToken === undefined ? {} : { initialAccessToken: r.initialAccessToken }),
    limiter: stores.limiter,
    bodyLimit: r.bodyLimit,
  };
  return { device, code, waits, registration };
}
