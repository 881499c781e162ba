/** The composition root: builds the store, the flow and the transports, and serves them on one port. */
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { type ConnectRouter, createConnectRouter, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type pino from "pino";
import { AttemptLimiter, DEFAULT_ATTEMPT_LIMITS } from "../auth/attempt-limits.js";
import { authorizationQuota } from "../auth/authorization-quota.js";
import { ClientAddresses } from "../auth/client-address.js";
import { clientAuthThrottle } from "../auth/client-auth-throttle.js";
import { metadataFetchBudget } from "../auth/metadata-fetch-budget.js";
import { AuthorizationCodeFlow } from "../domain/authorization-code-flow.js";
import type { Client } from "../domain/client.js";
import { ClientDirectory } from "../domain/client-directory.js";
import { ClientRegistration, type RegistrationMode } from "../domain/client-registration.js";
import { DeviceFlow } from "../domain/device-flow.js";
import { MetadataDocumentClients } from "../domain/metadata-document-clients.js";
import type { AuthorizationCodeStore } from "../domain/ports/authorization-code-store.js";
import type { ClientStore } from "../domain/ports/client-store.js";
import type { DecisionNotifier } from "../domain/ports/decision-notifier.js";
import type { DeviceStore } from "../domain/ports/device-store.js";
import type { FlowEvents } from "../domain/ports/flow-events.js";
import type { TokenStore } from "../domain/ports/token-store.js";
import { DEFAULT_RESOURCE_LIMITS, type ResourceLimits } from "../domain/resource.js";
import { TokenWaits } from "../domain/token-wait.js";
import { createHttpApp } from "../http/http-app.js";
import {
  type SafeFetchOptions,
  SafeMetadataDocumentFetcher,
} from "../outbound/metadata-document-fetch.js";
import { showAuthorizationRefusal } from "../pages/authorization-pages.js";
import { verificationPages } from "../pages/verification-pages.js";
import { accessLogInterceptor } from "../rpc/access-log.js";
import { deviceAuthService } from "../rpc/device-auth-service.js";
import { peerAddressKey } from "../rpc/rpc-translation.js";
import { tokenService } from "../rpc/token-service.js";
import { MemoryAttemptCounter } from "../store/memory-attempt-counter.js";
import { MemoryAuthorizationCodeStore } from "../store/memory-authorization-code-store.js";
import { MemoryClientStore } from "../store/memory-client-store.js";
import { MemoryDecisionNotifier } from "../store/memory-decision-notifier.js";
import { MemoryDeviceStore } from "../store/memory-device-store.js";
import { MemoryTokenStore } from "../store/memory-token-store.js";
import { RedisAttemptCounter } from "../store/redis-attempt-counter.js";
import { RedisAuthorizationCodeStore } from "../store/redis-authorization-code-store.js";
import { RedisClientStore } from "../store/redis-client-store.js";
import { connectRedis, connectSubscriber, type RedisTarget } from "../store/redis-connection.js";
import { RedisDecisionNotifier } from "../store/redis-decision-notifier.js";
import { RedisDeviceStore } from "../store/redis-device-store.js";
import { RedisTokenStore } from "../store/redis-token-store.js";
import { auditLog, fanOut } from "../telemetry/audit-log.js";
import { reportingRefusals, timedStore } from "../telemetry/instrumented-stores.js";
import { HandoffMetrics } from "../telemetry/metrics.js";
import { AccessTokenIssuer } from "../tokens/access-token.js";
import { SigningKeyFile } from "../tokens/signing-key-file.js";
import type { KeyRing } from "../tokens/signing-keys.js";
import { DEFAULT_KEEP_ROTATED, TokenLifecycle } from "../tokens/token-lifecycle.js";
import { createLogger } from "./logger.js";
import { createProtocolSniffer, type SniffTargets } from "./protocol-sniffer.js";
import { deadlinesWithinTimerRange } from "./rpc-deadlines.js";
import { requestFaultsAsInvalidArgument } from "./rpc-request-faults.js";
import { closeUnreadH1Requests } from "./unread-body.js";
import { type PagesConfig, verificationPagesSetup } from "./verification-setup.js";

/** Caps on the fields of a self-described client (registration, metadata documents). */
export interface ClientMetadataLimits {
  readonly maxRedirectUris: number;
  readonly maxUriLength: number;
  readonly maxNameLength: number;
}

/** RFC 7591 dynamic registration (README: HANDOFF_REGISTRATION*). */
export interface RegistrationConfig {
  readonly mode: RegistrationMode;
  /** Required in `token` mode. */
  readonly initialAccessToken?: string;
  /** Grant types a registrant may ask for. */
  readonly grants: readonly string[];
  /** Scopes a registered client may have; absent: every scope in scopes_supported. */
  readonly scopes?: readonly string[];
  /** Seconds an unused registration lives. */
  readonly idleTtl: number;
  /** Registered clients kept at most. */
  readonly maxClients: number;
  /** Largest registration body, bytes. */
  readonly bodyLimit: number;
  readonly limits: ClientMetadataLimits;
}

/** Client ID Metadata Documents (README: HANDOFF_CIMD_*); absent: off. */
export interface MetadataDocumentsConfig {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly cacheMinTtl: number;
  readonly cacheMaxTtl: number;
  readonly cacheMaxEntries: number;
  readonly maxConcurrentFetches: number;
  /** Grant types and scopes a document may claim (the registration settings). */
  readonly grants: readonly string[];
  readonly scopes?: readonly string[];
  readonly limits: ClientMetadataLimits;
  /** Development and tests only: loopback document hosts, and a CA (PEM) to trust for them. */
  readonly allowLoopback: boolean;
  readonly ca?: string;
  /** Tests only: how document hosts resolve. */
  readonly resolve?: SafeFetchOptions["resolve"];
}

/** Everything a running server needs, already validated (see src/config). */
export interface HandoffConfig extends PagesConfig {
  readonly host: string;
  readonly port: number;
  /** Defaults to http://localhost:<port>. */
  readonly issuer?: string;
  /** Defaults to <issuer>/device. */
  readonly verificationUri?: string;
  readonly deviceCodeTtl: number;
  readonly pollInterval: number;
  readonly pollJitterMs: number;
  /** WaitToken streams one instance holds at most; 0 turns WaitToken off. */
  readonly waitMaxStreams: number;
  /** How often a waiting stream re-checks the store, whatever pub/sub delivers (ms). */
  readonly waitRecheckMs: number;
  /** How often a waiting stream sends a heartbeat (ms). */
  readonly waitHeartbeatMs: number;
  readonly accessTokenTtl: number;
  /** Seconds an authorization code lives (RFC 6749 §4.1.2; at most 60). */
  readonly authorizationCodeTtl: number;
  /** Defaults to the issuer. */
  readonly defaultAudience?: string;
  /** RFC 8707 resources: count per request and per grant, length, http on loopback. */
  readonly resourceLimits?: ResourceLimits;
  readonly bodyLimit: number;
  /** A client must send its request headers within this (slowloris), and the whole request within requestTimeoutMs. */
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** An HTTP/2 session idle this long is destroyed. Default 60 s. */
  readonly http2IdleTimeoutMs?: number;
  readonly trustProxy?: string;
  readonly serviceToken?: string;
  /** Bearer credential for `GET /metrics`; unset: no metrics endpoint. */
  readonly metricsToken?: string;
  readonly redis?: RedisTarget;
  readonly redisKeyPrefix: string;
  readonly redisTimeoutMs: number;
  /** Without Redis: live device authorizations held at most (past it, temporarily_unavailable). */
  readonly memoryMaxPending: number;
  readonly clients: readonly Client[];
  /** RFC 7591 registration at /oauth/register; absent: off. */
  readonly registration?: RegistrationConfig;
  /** Client ID Metadata Documents (an https client_id); absent: off. */
  readonly metadataDocuments?: MetadataDocumentsConfig;
  readonly keys: KeyRing;
  /** The private JWK set file behind `keys`: reloaded on SIGHUP and when it changes. */
  readonly signingKeysFile?: string;
  /** How often to check signingKeysFile for changes, in ms; 0: on SIGHUP only. Default 30 s. */
  readonly signingKeysWatchMs?: number;
  /** Seconds a refresh token lives unused. Default 14 days. */
  readonly refreshTokenIdleTtl?: number;
  /** Seconds a refresh-token family lives at most, however often rotated. Default 30 days. */
  readonly refreshTokenTtl?: number;
  /** Rotated-out refresh tokens a family remembers for reuse detection. Default 1000. */
  readonly refreshReuseWindow?: number;
  readonly logLevel: string;
  readonly logDestination?: pino.DestinationStream;
}

export interface RunningHandoff {
  readonly port: number;
  /** The issuer, also the base URL of every endpoint. */
  readonly issuer: string;
  readonly flow: DeviceFlow;
  /** The authorization code grant (the same object the endpoints call). */
  readonly codeFlow: AuthorizationCodeFlow;
  readonly store: DeviceStore;
  /** Every client the domain can find: the clients file, the store, metadata documents. */
  readonly clients: ClientDirectory;
  /** Clients kept in the state store (RFC 7591 registrations), shared by every instance. */
  readonly clientStore: ClientStore;
  /** The cached Client ID Metadata Documents (another space of the store), when they are on. */
  readonly documentCache: ClientStore | undefined;
  /** The open WaitToken streams of this instance. */
  readonly waits: TokenWaits;
  /** Refresh, revocation and introspection (the same object the endpoints call). */
  readonly tokens: TokenLifecycle;
  /** The events port every part reports through (audit log and counters); streams set its gauge. */
  readonly events: FlowEvents;
  readonly metrics: HandoffMetrics;
  /** Re-reads signingKeysFile now (what SIGHUP does); false if it could not. */
  reloadSigningKeys(): Promise<boolean>;
  readonly logger: pino.Logger;
  close(graceMs?: number): Promise<void>;
}

const RPC_READ_MAX_BYTES = 64 * 1024;

/** The exact request paths the routes serve (/handoff.v1.Service/Method). */
function rpcPathsOf(routes: (router: ConnectRouter) => void): ReadonlySet<string> {
  const router = createConnectRouter();
  routes(router);
  return new Set(router.handlers.map((h) => h.requestPath));
}

/** The path of a request target, without its query (Connect GET puts the message there). */
function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

export async function startHandoff(c: HandoffConfig): Promise<RunningHandoff> {
  const logger = createLogger(c.logLevel, c.logDestination);
  const targets: SniffTargets = {};
  const sniffer = createProtocolSniffer(targets, {
    firstBytesTimeoutMs: c.headersTimeoutMs ?? 10_000,
  });
  await new Promise<void>((resolve, reject) => {
    sniffer.server.once("error", reject);
    sniffer.server.listen(c.port, c.host, () => resolve());
  });
  const port = (sniffer.server.address() as AddressInfo).port;
  const issuer = c.issuer ?? `http://localhost:${port}`;

  // One seam for audit events and counters (docs/operations.md).
  const metrics = new HandoffMetrics();
  const events = fanOut(auditLog(logger), metrics.events);
  const backend = c.redis ? ("url" in c.redis ? "redis" : "redis-cluster") : "memory";
  const timed = <T extends object>(s: T, name: string) => timedStore(s, metrics, backend, name);

  const redis = c.redis ? connectRedis(c.redis, c.redisTimeoutMs, logger) : undefined;
  const store: DeviceStore = timed(
    redis
      ? new RedisDeviceStore(redis, { keyPrefix: c.redisKeyPrefix })
      : new MemoryDeviceStore({ maxPending: c.memoryMaxPending }),
    "device",
  );
  const tokenStore: TokenStore = timed(
    redis ? new RedisTokenStore(redis, { keyPrefix: c.redisKeyPrefix }) : new MemoryTokenStore(),
    "token",
  );
  // Guess and authentication limits, shared by every instance through the store.
  const resources = c.resourceLimits ?? DEFAULT_RESOURCE_LIMITS;
  const limiter = new AttemptLimiter(
    reportingRefusals(
      timed(redis ? new RedisAttemptCounter(redis) : new MemoryAttemptCounter(), "attempt"),
      events,
    ),
    { ...DEFAULT_ATTEMPT_LIMITS, ...c.attemptLimits },
    c.redisKeyPrefix,
  );
  const clientStore: ClientStore = redis
    ? new RedisClientStore(redis, { keyPrefix: c.redisKeyPrefix, space: "registered" })
    : new MemoryClientStore();
  const scopesSupported = [...new Set(c.clients.flatMap((cl) => cl.scopes))].sort();
  const documentCache: ClientStore | undefined = !c.metadataDocuments
    ? undefined
    : redis
      ? new RedisClientStore(redis, { keyPrefix: c.redisKeyPrefix, space: "document" })
      : new MemoryClientStore();
  const md = c.metadataDocuments;
  const documents =
    md && documentCache
      ? new MetadataDocumentClients({
          cache: documentCache,
          fetcher: new SafeMetadataDocumentFetcher({
            timeoutMs: md.timeoutMs,
            maxBytes: md.maxBytes,
            allowLoopback: md.allowLoopback,
            ...(md.ca === undefined ? {} : { ca: md.ca }),
            ...(md.resolve === undefined ? {} : { resolve: md.resolve }),
          }),
          options: {
            policy: {
              allowedGrants: md.grants,
              allowedScopes: md.scopes ?? scopesSupported,
              ...md.limits,
            },
            cacheMinTtl: md.cacheMinTtl,
            cacheMaxTtl: md.cacheMaxTtl,
            cacheMaxEntries: md.cacheMaxEntries,
            maxConcurrentFetches: md.maxConcurrentFetches,
          },
          budget: metadataFetchBudget(limiter, logger),
        })
      : undefined;
  const clients = new ClientDirectory({
    configured: c.clients,
    stored: clientStore,
    ...(documents ? { documents } : {}),
    throttle: clientAuthThrottle(limiter, logger),
  });
  const tokens = new TokenLifecycle({
    clients,
    store: tokenStore,
    accessTokens: new AccessTokenIssuer(c.keys, {
      issuer,
      ttlSeconds: c.accessTokenTtl,
      defaultAudience: c.defaultAudience ?? issuer,
    }),
    options: {
      refreshIdleTtl: c.refreshTokenIdleTtl ?? 14 * 86_400,
      refreshAbsoluteTtl: c.refreshTokenTtl ?? 30 * 86_400,
      keepRotated: c.refreshReuseWindow ?? DEFAULT_KEEP_ROTATED,
      serviceToken: c.serviceToken,
      resources,
    },
    events,
  });
  // Key rotation without restart: SIGHUP, or a change to the file.
  const keyFile = c.signingKeysFile
    ? new SigningKeyFile(c.signingKeysFile, c.keys, logger)
    : undefined;
  keyFile?.watch(c.signingKeysWatchMs ?? 30_000);
  const onSighup = () => void keyFile?.reload();
  if (keyFile) process.on("SIGHUP", onSighup);
  // Decisions wake WaitToken streams on every instance: Redis pub/sub on its own connection.
  const notifier: DecisionNotifier =
    redis && c.redis
      ? new RedisDecisionNotifier(redis, connectSubscriber(c.redis, c.redisTimeoutMs, logger), {
          keyPrefix: c.redisKeyPrefix,
          logger,
        })
      : new MemoryDecisionNotifier();
  const flow = new DeviceFlow({
    clients,
    store,
    tokens,
    notifier,
    options: {
      verificationUri: c.verificationUri ?? `${issuer}/device`,
      expiresIn: c.deviceCodeTtl,
      interval: c.pollInterval,
      jitterToleranceMs: c.pollJitterMs,
      resources,
    },
    events,
    quota: authorizationQuota(limiter, logger),
  });

  const registration = c.registration && {
    registration: new ClientRegistration({
      store: clientStore,
      options: {
        mode: c.registration.mode,
        policy: {
          allowedGrants: c.registration.grants,
          allowedScopes: c.registration.scopes ?? scopesSupported,
          ...c.registration.limits,
        },
        idleTtlMs: c.registration.idleTtl * 1000,
        maxClients: c.registration.maxClients,
      },
    }),
    ...(c.registration.initialAccessToken === undefined
      ? {}
      : { initialAccessToken: c.registration.initialAccessToken }),
    limiter,
    bodyLimit: c.registration.bodyLimit,
  };

  const waits = new TokenWaits({
    flow,
    notifier,
    options: {
      maxOpen: c.waitMaxStreams,
      recheckMs: c.waitRecheckMs,
      interval: c.pollInterval,
    },
  });
  const deviceRoutes = deviceAuthService(flow, {
    serviceToken: c.serviceToken,
    waits,
    heartbeatMs: c.waitHeartbeatMs,
  });
  const codeStore: AuthorizationCodeStore = redis
    ? new RedisAuthorizationCodeStore(redis, { keyPrefix: c.redisKeyPrefix })
    : new MemoryAuthorizationCodeStore({ maxCodes: c.memoryMaxPending });
  const codeFlow = new AuthorizationCodeFlow({
    clients,
    store: codeStore,
    tokens,
    options: {
      issuer,
      codeTtl: c.authorizationCodeTtl,
      // A replayed code can revoke its tokens for as long as its access token lives.
      replayWindow: c.accessTokenTtl,
      resources,
    },
    events,
  });

  const tokenRoutes = tokenService(tokens);
  const routes = (router: ConnectRouter) => {
    deviceRoutes(router);
    tokenRoutes(router);
    requestFaultsAsInvalidArgument(router);
    deadlinesWithinTimerRange(router);
  };
  const interceptors = [
    accessLogInterceptor(logger, (procedure, outcome, seconds) =>
      metrics.observeRpc(procedure, outcome, seconds),
    ),
  ];
  // One rule for the client's address behind a proxy, HTTP and RPC alike.
  const addresses = new ClientAddresses(c.trustProxy);
  const contextValues = (req: http.IncomingMessage | http2.Http2ServerRequest) =>
    createContextValues().set(peerAddressKey, addresses.of(req));

  const app = await createHttpApp({
    flow,
    codeFlow,
    tokens,
    issuer,
    scopesSupported,
    waitToken: c.waitMaxStreams > 0,
    ...(registration ? { registration } : {}),
    metadataDocuments: documents !== undefined,
    ping: () => store.ping(),
    bodyLimit: c.bodyLimit,
    trustProxy: c.trustProxy === undefined ? undefined : addresses.trusts,
    logger,
    metrics,
    metricsToken: c.metricsToken,
    pages: async (scope, base) =>
      verificationPages(scope, {
        ...verificationPagesSetup(c, { issuer, flow, redis, keyPrefix: c.redisKeyPrefix, limiter }),
        codeFlow,
        base,
      }),
    showRefusal: showAuthorizationRefusal,
    serverFactory: (fastifyHandler) => {
      const rpc = closeUnreadH1Requests(
        connectNodeAdapter({
          routes,
          contextValues,
          interceptors,
          readMaxBytes: RPC_READ_MAX_BYTES,
        }),
      );
      const rpcPaths = rpcPathsOf(routes);
      return http.createServer(
        {
          headersTimeout: c.headersTimeoutMs ?? 10_000,
          requestTimeout: c.requestTimeoutMs ?? 30_000,
          keepAliveTimeout: 5_000,
          // How often those timeouts are checked (Node's default is every 30 s).
          connectionsCheckingInterval: Math.min(1000, c.headersTimeoutMs ?? 1000),
        },
        // Routing is decided here, once: an RPC's exact path (Connect, gRPC-Web,
        // Connect GET) goes to Connect, everything else, an unknown /handoff.* path
        // too, to fastify's router. Connect needs no fallback into fastify.
        (req, res) =>
          rpcPaths.has(pathOf(req.url ?? "")) ? rpc(req, res) : fastifyHandler(req, res),
      );
    },
  });
  const h2 = http2.createServer(
    { settings: { maxConcurrentStreams: 256 } },
    connectNodeAdapter({ routes, contextValues, interceptors, readMaxBytes: RPC_READ_MAX_BYTES }),
  );
  // A session idle this long is destroyed: Node does that only when no 'timeout'
  // listener exists (a no-op one kept idle sessions forever). It also bounds a
  // session Node has sent GOAWAY on but keeps open, even after the client's FIN
  // (found by test/fuzz/raw-connections.test.ts: a DATA frame on stream 0).
  h2.setTimeout(c.http2IdleTimeoutMs ?? 60_000);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  // Node's HTTP server starts tracking connections (which enforces headersTimeout
  // and requestTimeout against slow clients, and lets closeIdleConnections work)
  // on its own 'listening' event. The sniffer listens instead, so run that setup.
  for (const setup of app.server.listeners("listening")) (setup as () => void).call(app.server);
  targets.h1 = app.server;
  targets.h2 = h2;

  logger.info({ issuer, port, store: backend }, "listening");

  return {
    port,
    issuer,
    flow,
    codeFlow,
    store,
    clients,
    clientStore,
    documentCache,
    waits,
    tokens,
    events,
    metrics,
    reloadSigningKeys: async () => (keyFile ? keyFile.reload() : false),
    logger,
    /**
     * Stops accepting, lets requests in flight finish for up to `graceMs`,
     * then cuts what is left: idle keep-alive connections never hold it up.
     */
    async close(graceMs = 5000) {
      const stopped = new Promise<void>((resolve) => sniffer.server.close(() => resolve()));
      waits.close(); // open streams end now (UNAVAILABLE): their clients poll or reconnect elsewhere
      for (const session of sessions) session.close(); // GOAWAY: finish open streams, take no new ones
      const appClosed = app.close(); // answers 503 to new requests, waits for busy ones
      // The HTTP/1.1 server never listened itself (the sniffer did), so close its idle keep-alives here.
      app.server.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const socket of sniffer.sockets) socket.destroy();
      }, graceMs);
      await Promise.all([stopped, appClosed]);
      clearTimeout(timer);
      keyFile?.close();
      process.off("SIGHUP", onSighup);
      await notifier.close();
      await tokenStore.close();
      await clientStore.close();
      await codeStore.close();
      await documentCache?.close();
      await store.close();
    },
  };
}
