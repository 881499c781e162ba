/** The fastify app: RFC endpoints, metadata, JWKS and health, with one error translation. */
import type http from "node:http";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { AuthorizationCodeFlow } from "../domain/authorization-code-flow.js";
import type { DeviceFlow } from "../domain/device-flow.js";
import { isOAuthError, OAuthError } from "../domain/oauth-error.js";
import type { TokenLifecycle } from "../tokens/token-lifecycle.js";
import { authorizationEndpoint, type ShowRefusal } from "./authorization-endpoint.js";
import {
  DEVICE_AUTHORIZATION_PATH,
  deviceAuthorizationAnswers,
  deviceAuthorizationEndpoint,
} from "./device-authorization-endpoint.js";
import { createFormFastPath, type FastPathRecord, type FormHandler } from "./form-fast-path.js";
import { FormParams } from "./form-params.js";
import { healthEndpoints } from "./health-endpoints.js";
import { introspectionEndpoint } from "./introspection-endpoint.js";
import { metadataEndpoints } from "./metadata-endpoint.js";
import { type HttpMetrics, metricsEndpoint } from "./metrics-endpoint.js";
import {
  type Answer,
  answerClientError,
  errorAnswer,
  INTERNAL_ERROR,
  noStore,
  sendOAuthError,
  writeAnswer,
} from "./oauth-reply.js";
import { methodNotAllowed } from "./oauth-route.js";
import { type RegistrationEndpointOptions, registrationEndpoint } from "./registration-endpoint.js";
import { revocationEndpoint } from "./revocation-endpoint.js";
import { TOKEN_PATH, tokenAnswer, tokenEndpoint } from "./token-endpoint.js";

declare module "fastify" {
  interface FastifyRequest {
    oauthError: string | undefined;
  }
}

export interface HttpAppOptions {
  readonly flow: DeviceFlow;
  /** The authorization code grant; its consent step lives in the pages, at `<base>/authorize`. */
  readonly codeFlow: AuthorizationCodeFlow;
  /** Shows a person why an authorization request is refused; absent: a plain-text 400. */
  readonly showRefusal?: (base: string) => ShowRefusal;
  /** Refresh, revocation, introspection and the published JWKS. */
  readonly tokens: TokenLifecycle;
  readonly issuer: string;
  readonly scopesSupported: readonly string[];
  /** Advertise WaitToken in the metadata. */
  readonly waitToken: boolean;
  /** RFC 7591 registration at /oauth/register; absent: off (and not in the metadata). */
  readonly registration?: RegistrationEndpointOptions;
  /** Client ID Metadata Documents are on: say so in the metadata. */
  readonly metadataDocuments?: boolean;
  readonly ping: () => Promise<void>;
  readonly bodyLimit: number;
  /**
   * Retry-After (s) of a 503 the store caused: from its deadline
   * (`unavailableRetryAfter` in src/domain/issuance.ts); default 5.
   */
  readonly unavailableRetryAfter?: number;
  /** Is this peer a trusted proxy (HANDOFF_TRUST_PROXY; src/auth/client-address.ts)? */
  readonly trustProxy: ((address: string) => boolean) | undefined;
  /** The client's address by the same rule (what `request.ip` gives), for the fast path. */
  readonly addressOf: (req: http.IncomingMessage) => string;
  readonly logger: Logger;
  /** Request durations go here; `GET /metrics` serves it when `metricsToken` is set. */
  readonly metrics: HttpMetrics;
  readonly metricsToken: string | undefined;
  /**
   * Registers the verification pages (RFC 8628 §3.3) in a plugin scope whose
   * prefix is `base` (<issuer path>/device); absent: no pages. A function, so
   * this transport does not depend on src/pages (which builds on it).
   */
  readonly pages?: (scope: FastifyInstance, base: string) => Promise<void>;
  /**
   * The poll and the device authorization answered in front of fastify
   * (src/http/form-fast-path.ts); false: every request through fastify (the
   * differential test's reference). Default true.
   */
  readonly formFastPath?: boolean;
  /** Creates the HTTP/1.1 server around fastify's handler (Connect routes go first). */
  readonly serverFactory: (handler: http.RequestListener) => http.Server;
}

/** A path for the access log: the route pattern, or the path without its query (never the query). */
function logPath(url: string, route: string | undefined): string {
  if (route !== undefined) return route;
  // Unrouted (probes, typos): never raw. 64 characters at most, anything but
  // letters, digits and / . _ - ~ replaced, so no code, escape or control
  // sequence an attacker put in a path reaches the log as typed.
  return (url.split("?", 1)[0] ?? "").slice(0, 64).replace(/[^A-Za-z0-9/._~-]/g, "_");
}

/** The one access-log line and the HTTP metrics of a request, fastify's or the fast path's. */
function recordRequest(o: HttpAppOptions, r: FastPathRecord, path: string, seconds: number): void {
  // Route templates only (bounded labels); anything unrouted is one label.
  o.metrics.observeHttp(r.route, r.method, r.error ?? String(r.status), seconds);
  o.logger.info(
    {
      reqId: r.reqId,
      method: r.method,
      path,
      status: r.status,
      // One shape for every line (pino leaves out a field that is undefined).
      error: r.error,
      ms: r.ms,
      ip: r.ip,
    },
    "request",
  );
}

/** A handler's OAuthError as its answer (logged if the store failed); undefined for anything else. */
function oauthFailure(
  closing: boolean,
  log: Pick<Logger, "warn">,
  error: unknown,
  reqId: string,
  basicAuthUsed: boolean,
  unavailableRetryAfter: number | undefined,
): Answer | undefined {
  if (!isOAuthError(error)) return undefined;
  if (error.code === "temporarily_unavailable" && !closing)
    log.warn({ reqId, err: error.cause }, "state store unavailable");
  return errorAnswer(error, {
    basicAuthUsed,
    ...(unavailableRetryAfter === undefined ? {} : { unavailableRetryAfter }),
  });
}

/** fastify's request ids (`req-1`, `req-2`, … base 36, as its default), shared with the fast path. */
function requestIds(): () => string {
  let next = 0;
  return () => {
    next = (next + 1) & 0x7fffffff;
    return `req-${next.toString(36)}`;
  };
}

export async function createHttpApp(o: HttpAppOptions): Promise<FastifyInstance> {
  const nextId = requestIds();
  let closing = false;
  const prefix = new URL(o.issuer).pathname.replace(/\/$/, "");
  const tokenDeps = { flow: o.flow, lifecycle: o.tokens, codeFlow: o.codeFlow };
  const deviceAnswers = deviceAuthorizationAnswers(o.flow);
  const fast =
    o.formFastPath === false
      ? undefined
      : createFormFastPath({
          routes: new Map<string, FormHandler>([
            [prefix + TOKEN_PATH, (r) => tokenAnswer(tokenDeps, r)],
            [prefix + DEVICE_AUTHORIZATION_PATH, deviceAnswers],
          ]),
          bodyLimit: o.bodyLimit,
          addressOf: o.addressOf,
          nextId,
          failure: (error, reqId, basicAuthUsed) => {
            const answer = oauthFailure(
              closing,
              o.logger,
              error,
              reqId,
              basicAuthUsed,
              o.unavailableRetryAfter,
            );
            if (answer !== undefined) return answer;
            o.logger.error({ reqId, err: error }, "unhandled error");
            return INTERNAL_ERROR;
          },
          record: (r) => recordRequest(o, r, r.route, r.ms / 1000),
          closing: () => closing,
        });
  const app = Fastify({
    loggerInstance: o.logger as FastifyBaseLogger,
    // One access-log line per request (onResponse below) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (fastify's default binds reqId in one for
    // every request): the lines that need the id carry it themselves.
    childLoggerFactory: (logger) => logger,
    bodyLimit: o.bodyLimit,
    ...(o.trustProxy === undefined ? {} : { trustProxy: o.trustProxy }),
    genReqId: nextId,
    serverFactory: (handler) => {
      const h = handler as http.RequestListener;
      return o.serverFactory(fast ? (req, res) => fast(req, res) || h(req, res) : h);
    },
    // Requests that reach it while it closes are answered below, as the
    // contract answers an outage (fastify's own 503 has no Retry-After).
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
  });

  // Only form bodies exist here; JSON and anything else is refused (415 → invalid_request).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    // Bytes, not a string: fastify's string decoding would hide invalid UTF-8 (see FormParams).
    { parseAs: "buffer", bodyLimit: o.bodyLimit },
    (_request, body, done) => {
      try {
        done(null, FormParams.parse(body as Buffer));
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );

  // The OAuth error code of a failed request, for the access log (a code, never a secret).
  app.decorateRequest("oauthError", undefined);

  // Closing (SIGTERM): the requests in flight finish; one that still
  // arrives (behind another on its connection, or accepted just before the
  // listener closed) is temporarily_unavailable, 503 with Retry-After
  // through the error handlers (JSON or the page), and its connection is
  // closed so the client tries again elsewhere (docs/failure.md). The fast
  // path leaves such a request to fastify.
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  app.addHook("onRequest", (_request, reply, done) => {
    if (!closing) return done();
    reply.header("connection", "close");
    done(new OAuthError("temporarily_unavailable", "the server is shutting down"));
  });

  app.setErrorHandler((error, request, reply) => {
    const basicAuthUsed = /^basic /i.test(request.headers.authorization ?? "");
    const answer = oauthFailure(
      closing,
      request.log,
      error,
      request.id,
      basicAuthUsed,
      o.unavailableRetryAfter,
    );
    if (answer !== undefined) return writeAnswer(reply, answer);
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 413) {
      return sendOAuthError(
        reply,
        new OAuthError("invalid_request", `the body exceeds ${o.bodyLimit} bytes`),
        {
          status: 413,
        },
      );
    }
    if (status === 415) {
      return sendOAuthError(
        reply,
        new OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded"),
      );
    }
    if (status >= 400 && status < 500) {
      return sendOAuthError(reply, new OAuthError("invalid_request", "the request is malformed"));
    }
    request.log.error({ reqId: request.id, err: error }, "unhandled error");
    return writeAnswer(reply, INTERNAL_ERROR);
  });

  app.setNotFoundHandler((request, reply) => {
    // RFC 8628 §3.1, RFC 6749 §3.2: other methods are 405 at a POST endpoint, also those fastify does not
    // route at all (PROPFIND, PURGE), which land here; likewise at the GET-only
    // metadata and JWKS (RFC 9110 §15.5.6); and no error answer is cacheable.
    const url = request.url.split("?", 1)[0] ?? "";
    if (request.method !== "POST" && app.hasRoute({ method: "POST", url })) {
      return methodNotAllowed(reply);
    }
    if (request.method !== "GET" && app.hasRoute({ method: "GET", url })) {
      return methodNotAllowed(reply, "GET, HEAD");
    }
    return noStore(reply)
      .code(404)
      .send({ error: "not_found", error_description: "no such endpoint" });
  });

  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url;
    recordRequest(
      o,
      {
        reqId: request.id,
        method: request.method,
        route: route ?? "unmatched",
        status: reply.statusCode,
        error: request.oauthError,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
      },
      logPath(request.url, route),
      reply.elapsedTime / 1000,
    );
    done();
  });

  deviceAuthorizationEndpoint(app, deviceAnswers, prefix);
  tokenEndpoint(app, tokenDeps, prefix);
  revocationEndpoint(app, o.tokens, prefix);
  introspectionEndpoint(app, o.tokens, prefix);
  if (o.registration) await registrationEndpoint(app, o.registration, prefix);
  metadataEndpoints(
    app,
    {
      issuer: o.issuer,
      scopesSupported: o.scopesSupported,
      waitToken: o.waitToken,
      registration: o.registration !== undefined,
      metadataDocuments: o.metadataDocuments === true,
    },
    () => o.tokens.jwks(),
  );
  healthEndpoints(app, o.ping);
  if (o.metricsToken !== undefined) metricsEndpoint(app, o.metrics, o.metricsToken, prefix);
  const pagesBase = `${prefix}/device`;
  authorizationEndpoint(
    app,
    o.codeFlow,
    prefix,
    `${pagesBase}/authorize`,
    o.showRefusal?.(pagesBase) ??
      ((reply, description) => reply.code(400).type("text/plain").send(description)),
  );
  if (o.pages) {
    const base = pagesBase;
    const pages = o.pages;
    await app.register(async (scope) => pages(scope, base), { prefix: base });
  }
  await app.ready();
  return app;
}
