/**
 * Startup step 6: the transports over the flows: Connect, gRPC and gRPC-Web
 * (one set of RPC routes for HTTP/1.1 and h2c), and the fastify app (the RFC
 * endpoints, metadata, JWKS, health and the verification pages). Nothing
 * listens yet: src/server/listen.ts does that last.
 */

import http from "node:http";
import http2 from "node:http2";
import { type ConnectRouter, createConnectRouter, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { FastifyInstance } from "fastify";
import { ClientAddresses } from "../auth/client-address.js";
import { ConnectedDevices } from "../domain/connected-devices.js";
import { issuanceLeaseMs, unavailableRetryAfter } from "../domain/issuance.js";
import {
  DEFAULT_MAX_PAGE_SIZE,
  OperatorAuthorizations,
} from "../domain/operator-authorizations.js";
import { pendingIdKeyOf } from "../domain/pending-id.js";
import { createHttpApp } from "../http/http-app.js";
import { showAuthorizationRefusal } from "../pages/authorization-pages.js";
import { verificationPages } from "../pages/verification-pages.js";
import { accessLogInterceptor, rpcRecorder } from "../rpc/access-log.js";
import { clientService } from "../rpc/client-service.js";
import { deviceAuthService } from "../rpc/device-auth-service.js";
import { errorInterceptor } from "../rpc/error-interceptor.js";
import { createGrpcPollToken, POLL_TOKEN_PATH } from "../rpc/grpc-poll-token.js";
import { REQUEST_COMPRESSION } from "../rpc/request-compression.js";
import { peerAddressKey } from "../rpc/rpc-translation.js";
import { tokenService } from "../rpc/token-service.js";
import type { Clients } from "./build-clients.js";
import type { Flows } from "./build-flows.js";
import type { Stores } from "./build-stores.js";
import type { Telemetry } from "./build-telemetry.js";
import type { Tokens } from "./build-tokens.js";
import type { HandoffConfig } from "./handoff-config.js";
import { deadlinesWithinTimerRange } from "./rpc-deadlines.js";
import { requestFaultsAsInvalidArgument } from "./rpc-request-faults.js";
import { closeUnreadH1Requests } from "./unread-body.js";
import { verificationPagesSetup } from "./verification-setup.js";

const RPC_READ_MAX_BYTES = 64 * 1024;
/** An idle HTTP/2 session is destroyed after this (not a setting; a test shortens it). */
const HTTP2_IDLE_TIMEOUT_MS = 60_000;

export interface Transports {
  /** fastify, whose server (HTTP/1.1) also routes the RPC paths to Connect. */
  readonly app: FastifyInstance;
  /** Connect and gRPC over h2c. */
  readonly h2: http2.Http2Server;
  /** The open HTTP/2 sessions, for GOAWAY on close. */
  readonly sessions: ReadonlySet<http2.ServerHttp2Session>;
}

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

export async function buildTransports(
  c: HandoffConfig,
  deps: {
    readonly stores: Stores;
    readonly clients: Clients;
    readonly tokens: Tokens;
    readonly flows: Flows;
    readonly telemetry: Telemetry;
  },
): Promise<Transports> {
  const { stores, clients, tokens, flows, telemetry } = deps;
  const { logger, metrics } = telemetry;
  const deviceRoutes = deviceAuthService(flows.device, {
    serviceToken: c.serviceToken,
    waits: flows.waits,
    heartbeatMs: c.waitHeartbeatMs,
  });
  const tokenRoutes = tokenService(tokens.lifecycle);
  const clientRoutes = clientService({
    admin: clients.admin,
    flow: flows.device,
    tokens: tokens.lifecycle,
    operators: new OperatorAuthorizations({
      devices: stores.device,
      tokens: stores.token,
      notifier: stores.notifier,
      events: telemetry.events,
      maxPageSize: c.adminMaxPageSize ?? DEFAULT_MAX_PAGE_SIZE,
      pendingIdKey: pendingIdKeyOf(c.adminToken),
    }),
    adminToken: c.adminToken,
  });
  const routes = (router: ConnectRouter) => {
    deviceRoutes(router);
    tokenRoutes(router);
    clientRoutes(router);
    requestFaultsAsInvalidArgument(router);
    deadlinesWithinTimerRange(router);
  };
  const record = rpcRecorder(logger, (procedure, outcome, seconds) =>
    metrics.observeRpc(procedure, outcome, seconds),
  );
  const interceptors = [
    accessLogInterceptor(record),
    // Innermost: the one place domain errors become ConnectErrors (the log sees the result).
    errorInterceptor(),
  ];
  // One rule for the client's address behind a proxy, HTTP and RPC alike.
  const addresses = new ClientAddresses(c.trustProxy);
  const contextValues = (req: http.IncomingMessage | http2.Http2ServerRequest) =>
    createContextValues().set(peerAddressKey, addresses.of(req));
  const rpcOptions = {
    routes,
    contextValues,
    interceptors,
    acceptCompression: [...REQUEST_COMPRESSION],
    readMaxBytes: RPC_READ_MAX_BYTES,
  };

  // fastify's request handler, captured from its server factory for the HTTP/2 server.
  let httpHandler: http.RequestListener | undefined;
  const rpcPaths = rpcPathsOf(routes);
  const app = await createHttpApp({
    flow: flows.device,
    codeFlow: flows.code,
    tokens: tokens.lifecycle,
    issuer: c.issuer,
    scopesSupported: clients.scopesSupported,
    waitToken: c.waitMaxStreams > 0,
    ...(flows.registration ? { registration: flows.registration } : {}),
    metadataDocuments: clients.documents !== undefined,
    ping: () => stores.device.ping(),
    bodyLimit: c.bodyLimit,
    // Redis's deadline bounds an attempt's lease; the memory store has no deadline.
    ...(c.redis
      ? { unavailableRetryAfter: unavailableRetryAfter(issuanceLeaseMs(c.redisTimeoutMs)) }
      : {}),
    trustProxy: c.trustProxy === undefined ? undefined : addresses.trusts,
    addressOf: (req) => addresses.of(req),
    ...(c.formFastPath === undefined ? {} : { formFastPath: c.formFastPath }),
    logger,
    metrics,
    metricsToken: c.metricsToken,
    pages: async (scope, base) =>
      verificationPages(scope, {
        ...verificationPagesSetup(c, {
          issuer: c.issuer,
          flow: flows.device,
          redis: stores.redis,
          keyPrefix: c.redisKeyPrefix,
          limiter: stores.limiter,
        }),
        codeFlow: flows.code,
        connections: new ConnectedDevices({
          store: stores.token,
          clients: clients.directory,
          events: telemetry.events,
          limit: c.connectionsMaxPerSubject,
        }),
        base,
      }),
    showRefusal: showAuthorizationRefusal,
    serverFactory: (fastifyHandler) => {
      httpHandler = fastifyHandler;
      const rpc = closeUnreadH1Requests(connectNodeAdapter(rpcOptions));
      return http.createServer(
        {
          headersTimeout: c.headersTimeoutMs,
          requestTimeout: c.requestTimeoutMs,
          keepAliveTimeout: 5_000,
          // How often those timeouts are checked (Node's default is every 30 s).
          connectionsCheckingInterval: Math.min(1000, c.headersTimeoutMs),
        },
        // Routing is decided here, once: an RPC's exact path (Connect, gRPC-Web,
        // Connect GET) goes to Connect, everything else, an unknown /handoff.* path
        // too, to fastify's router. Connect needs no fallback into fastify.
        (req, res) =>
          rpcPaths.has(pathOf(req.url ?? "")) ? rpc(req, res) : fastifyHandler(req, res),
      );
    },
  });
  // HTTP/2 carries the RPCs, and everything else too: over TLS a browser picks
  // h2 by ALPN for the pages, so a non-RPC path goes to fastify (which answers
  // HTTP/2 requests through Node's compatibility API, per request) as on HTTP/1.1.
  const h2rpc = connectNodeAdapter(rpcOptions);
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: 256 } }, (req, res) =>
    rpcPaths.has(pathOf(req.url ?? "")) || !httpHandler
      ? h2rpc(req, res)
      : (httpHandler as unknown as (q: typeof req, s: typeof res) => void)(req, res),
  );
  // A session idle this long is destroyed: Node does that only when no 'timeout'
  // listener exists (a no-op one kept idle sessions forever). It also bounds a
  // session Node has sent GOAWAY on but keeps open, even after the client's FIN
  // (found by test/fuzz/raw-connections.test.ts: a DATA frame on stream 0).
  // gRPC PollToken's plain case, in front of the compatibility API and connect-es
  // (src/rpc/grpc-poll-token.ts): the `stream` listener Node installed for the
  // request listener above runs for every stream the fast path leaves.
  if (c.grpcPollFastPath !== false) {
    const router = createConnectRouter(rpcOptions);
    routes(router);
    const connect = router.handlers.find((h) => h.requestPath === POLL_TOKEN_PATH);
    if (connect === undefined) throw new Error(`no handler for ${POLL_TOKEN_PATH}`);
    const fast = createGrpcPollToken({
      flow: flows.device,
      readMaxBytes: RPC_READ_MAX_BYTES,
      compression: REQUEST_COMPRESSION,
      addressOf: (stream, headers) =>
        addresses.of({ socket: stream.session?.socket ?? null, headers }),
      connect,
      record,
    });
    const compat = h2.listeners("stream") as ((...args: unknown[]) => void)[];
    h2.removeAllListeners("stream");
    h2.on("stream", (stream, headers, ...rest) => {
      if (fast(stream, headers)) return;
      for (const listener of compat) listener.call(h2, stream, headers, ...rest);
    });
  }
  h2.setTimeout(c.http2IdleTimeoutMs ?? HTTP2_IDLE_TIMEOUT_MS);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return { app, h2, sessions };
}
