/** Turns validated settings into a server configuration, for development or production. */
import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { proxyList } from "../auth/trusted-header-authenticator.js";
import { loadClientsFile } from "../config/clients-file.js";
import { DEMO_CLIENT, DEV_SERVICE_TOKEN } from "../config/dev-seed.js";
import type { Settings } from "../config/settings.js";
import type { Client } from "../domain/client.js";
import { parseScope } from "../domain/scope.js";
import {
  generateSigningKey,
  KeyRing,
  loadSigningKeys,
  type SigningAlgorithm,
} from "../tokens/signing-keys.js";
import type {
  HandoffConfig,
  MetadataDocumentsConfig,
  RegistrationConfig,
} from "./handoff-server.js";
import { pagesConfig } from "./pages-config.js";
import { readTlsMaterial } from "./tls-front.js";
import { sharedAdminTokenProblems, trustProxyProblem, weakTokenProblems } from "./weak-settings.js";

export type Mode = "development" | "production";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Problems that stop `handoff start`, each naming the setting. */
function productionProblems(s: Settings): string[] {
  const problems: string[] = [];
  if (!s.HANDOFF_ISSUER)
    problems.push("HANDOFF_ISSUER: required (the public https URL of this server)");
  else {
    const u = new URL(s.HANDOFF_ISSUER);
    if (u.protocol !== "https:" && !LOOPBACK.has(u.hostname)) {
      problems.push("HANDOFF_ISSUER: must be https (RFC 8414 §2) unless the host is loopback");
    }
  }
  if (!s.HANDOFF_CLIENTS_FILE)
    problems.push("HANDOFF_CLIENTS_FILE: required (the registered clients, see README)");
  if (!s.HANDOFF_SIGNING_KEYS_FILE) {
    problems.push(
      "HANDOFF_SIGNING_KEYS_FILE: required (a private JWK set; create one with `handoff keys generate`)",
    );
  }
  if (!s.HANDOFF_CSRF_SECRET) {
    problems.push(
      "HANDOFF_CSRF_SECRET: required (binds form tokens to sessions, the same on every instance; generate one with: openssl rand -base64 32)",
    );
  }
  return problems;
}

/**
 * RFC 7591 registration from HANDOFF_REGISTRATION*: off unless set, except
 * that start-dev opens it (public clients only) for trying MCP clients.
 */
function registrationConfig(s: Settings, mode: Mode): RegistrationConfig | undefined {
  const chosen = s.HANDOFF_REGISTRATION ?? (mode === "development" ? "open" : "off");
  if (chosen === "off") return undefined;
  if (chosen === "token" && !s.HANDOFF_REGISTRATION_TOKEN) {
    throw new Error(
      "HANDOFF_REGISTRATION_TOKEN: required with HANDOFF_REGISTRATION=token (the initial access token registrants present)",
    );
  }
  let scopes: string[] | undefined;
  if (s.HANDOFF_REGISTRATION_SCOPES) {
    try {
      scopes = parseScope(s.HANDOFF_REGISTRATION_SCOPES);
    } catch {
      throw new Error("HANDOFF_REGISTRATION_SCOPES: a scope token is malformed (RFC 6749 §3.3)");
    }
  }
  return {
    mode: chosen,
    ...(chosen === "token" && s.HANDOFF_REGISTRATION_TOKEN
      ? { initialAccessToken: s.HANDOFF_REGISTRATION_TOKEN }
      : {}),
    grants: s.HANDOFF_REGISTRATION_GRANTS,
    ...(scopes === undefined ? {} : { scopes }),
    idleTtl: s.HANDOFF_REGISTRATION_IDLE_TTL,
    maxClients: s.HANDOFF_REGISTRATION_MAX_CLIENTS,
    bodyLimit: s.HANDOFF_REGISTRATION_BODY_LIMIT,
    limits: metadataLimits(s),
  };
}

/** The caps shared by registration and metadata documents. */
const metadataLimits = (s: Settings) => ({
  maxRedirectUris: s.HANDOFF_CLIENT_MAX_REDIRECT_URIS,
  maxUriLength: s.HANDOFF_CLIENT_MAX_URI_LENGTH,
  maxNameLength: s.HANDOFF_CLIENT_MAX_NAME_LENGTH,
});

/**
 * Client ID Metadata Documents from HANDOFF_CLIENT_METADATA_DOCUMENTS and
 * HANDOFF_CIMD_*: off unless set, except in start-dev. Loopback hosts and a
 * private CA are for development only.
 */
async function metadataDocumentsConfig(
  s: Settings,
  mode: Mode,
): Promise<MetadataDocumentsConfig | undefined> {
  const allowLoopback = s.HANDOFF_CIMD_ALLOW_LOOPBACK === "true";
  if (mode === "production" && (allowLoopback || s.HANDOFF_CIMD_CA_FILE)) {
    throw new Error(
      "HANDOFF_CIMD_ALLOW_LOOPBACK, HANDOFF_CIMD_CA_FILE: development only (handoff start-dev)",
    );
  }
  const chosen = s.HANDOFF_CLIENT_METADATA_DOCUMENTS ?? (mode === "development" ? "on" : "off");
  if (chosen === "off") return undefined;
  if (s.HANDOFF_CIMD_CACHE_MIN_TTL > s.HANDOFF_CIMD_CACHE_MAX_TTL) {
    throw new Error("HANDOFF_CIMD_CACHE_MIN_TTL: must not exceed HANDOFF_CIMD_CACHE_MAX_TTL");
  }
  let ca: string | undefined;
  if (s.HANDOFF_CIMD_CA_FILE) {
    try {
      ca = await readFile(s.HANDOFF_CIMD_CA_FILE, "utf8");
    } catch (e) {
      throw new Error(
        `HANDOFF_CIMD_CA_FILE: cannot read ${s.HANDOFF_CIMD_CA_FILE} (${(e as NodeJS.ErrnoException).code})`,
      );
    }
  }
  const scopes = s.HANDOFF_REGISTRATION_SCOPES
    ? parseScope(s.HANDOFF_REGISTRATION_SCOPES)
    : undefined;
  return {
    timeoutMs: s.HANDOFF_CIMD_TIMEOUT_MS,
    maxBytes: s.HANDOFF_CIMD_MAX_BYTES,
    cacheMinTtl: s.HANDOFF_CIMD_CACHE_MIN_TTL,
    cacheMaxTtl: s.HANDOFF_CIMD_CACHE_MAX_TTL,
    cacheMaxEntries: s.HANDOFF_CIMD_CACHE_MAX_ENTRIES,
    maxConcurrentFetches: s.HANDOFF_CIMD_MAX_FETCHES,
    grants: s.HANDOFF_REGISTRATION_GRANTS,
    ...(scopes === undefined ? {} : { scopes }),
    limits: metadataLimits(s),
    allowLoopback,
    ...(ca === undefined ? {} : { ca }),
  };
}

/** True for an address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function loadConfig(s: Settings, mode: Mode, logger: Logger): Promise<HandoffConfig> {
  const trustProxy = trustProxyProblem(s.HANDOFF_TRUST_PROXY, proxyList);
  if (trustProxy) throw new Error(`invalid configuration:\n  ${trustProxy}`);
  if (mode === "production") {
    const problems = [
      ...productionProblems(s),
      ...weakTokenProblems({
        HANDOFF_SERVICE_TOKEN: s.HANDOFF_SERVICE_TOKEN,
        HANDOFF_METRICS_TOKEN: s.HANDOFF_METRICS_TOKEN,
        HANDOFF_CSRF_SECRET: s.HANDOFF_CSRF_SECRET,
        HANDOFF_ADMIN_TOKEN: s.HANDOFF_ADMIN_TOKEN,
      }),
      ...sharedAdminTokenProblems(s.HANDOFF_ADMIN_TOKEN, {
        HANDOFF_SERVICE_TOKEN: s.HANDOFF_SERVICE_TOKEN,
        HANDOFF_METRICS_TOKEN: s.HANDOFF_METRICS_TOKEN,
      }),
    ];
    if (problems.length > 0) {
      throw new Error(
        `handoff start needs explicit configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`,
      );
    }
  }

  // The server listens last (src/server/listen.ts), so a port chosen at listen
  // time cannot name the issuer that tokens and metadata were built with.
  if (s.PORT === 0 && !s.HANDOFF_ISSUER) {
    throw new Error(
      "invalid configuration:\n  PORT=0 needs HANDOFF_ISSUER (the default issuer, http://localhost:$PORT, names the port)",
    );
  }

  let clients: Client[] = s.HANDOFF_CLIENTS_FILE
    ? await loadClientsFile(s.HANDOFF_CLIENTS_FILE)
    : [];
  if (mode === "development" && !clients.some((c) => c.id === DEMO_CLIENT.id))
    clients = [DEMO_CLIENT, ...clients];

  let keys: KeyRing;
  if (s.HANDOFF_SIGNING_KEYS_FILE) {
    let text: string;
    try {
      text = await readFile(s.HANDOFF_SIGNING_KEYS_FILE, "utf8");
    } catch (e) {
      throw new Error(
        `HANDOFF_SIGNING_KEYS_FILE: cannot read ${s.HANDOFF_SIGNING_KEYS_FILE} (${(e as NodeJS.ErrnoException).code})`,
      );
    }
    keys = await loadSigningKeys(text).catch((e: Error) => {
      throw new Error(`HANDOFF_SIGNING_KEYS_FILE: ${e.message}`);
    });
  } else {
    keys = new KeyRing([await generateSigningKey(s.HANDOFF_SIGNING_ALG as SigningAlgorithm)]);
    logger.warn(
      { kid: keys.current.kid, alg: keys.current.alg },
      "generated a signing key for this process only: tokens stop verifying after a restart (set HANDOFF_SIGNING_KEYS_FILE)",
    );
  }

  const serviceToken =
    s.HANDOFF_SERVICE_TOKEN ?? (mode === "development" ? DEV_SERVICE_TOKEN : undefined);
  const redis = s.REDIS_URL
    ? { url: s.REDIS_URL }
    : s.REDIS_CLUSTER_NODES
      ? { clusterNodes: s.REDIS_CLUSTER_NODES.split(",").map((n) => n.trim()) }
      : undefined;

  const host = s.HANDOFF_HOST ?? (mode === "development" ? "127.0.0.1" : "0.0.0.0");
  if (mode === "development" && !isLoopbackHost(host)) {
    logger.warn(
      { host },
      "start-dev is listening beyond this machine: anyone who can reach it can use the published dev service token and sign in as demo/demo",
    );
  }
  if (mode === "production" && !redis) {
    logger.warn(
      "memory store: pending authorizations, refresh tokens and limits are lost at restart and not shared between instances (set REDIS_URL or REDIS_CLUSTER_NODES)",
    );
  }
  if (Boolean(s.HANDOFF_TLS_CERT_FILE) !== Boolean(s.HANDOFF_TLS_KEY_FILE)) {
    const [missing, given] = s.HANDOFF_TLS_CERT_FILE
      ? ["HANDOFF_TLS_KEY_FILE", "HANDOFF_TLS_CERT_FILE"]
      : ["HANDOFF_TLS_CERT_FILE", "HANDOFF_TLS_KEY_FILE"];
    throw new Error(`${missing}: required with ${given}`);
  }
  const tls =
    s.HANDOFF_TLS_CERT_FILE && s.HANDOFF_TLS_KEY_FILE
      ? { certFile: s.HANDOFF_TLS_CERT_FILE, keyFile: s.HANDOFF_TLS_KEY_FILE }
      : undefined;
  // Fails here, naming the setting, rather than at the first connection.
  if (tls) await readTlsMaterial(tls);
  const registration = registrationConfig(s, mode);
  const metadataDocuments = await metadataDocumentsConfig(s, mode);
  const pages = await pagesConfig(s, mode, logger);
  const issuer = s.HANDOFF_ISSUER ?? `${tls ? "https" : "http"}://localhost:${s.PORT}`;
  return {
    host,
    port: s.PORT,
    issuer,
    ...(tls ? { tls } : {}),
    verificationUri: s.HANDOFF_VERIFICATION_URI ?? `${issuer}/device`,
    deviceCodeTtl: s.HANDOFF_DEVICE_CODE_TTL,
    pollInterval: s.HANDOFF_POLL_INTERVAL,
    pollJitterMs: s.HANDOFF_POLL_JITTER_MS,
    waitMaxStreams: s.HANDOFF_WAIT_MAX_STREAMS,
    waitRecheckMs: s.HANDOFF_WAIT_RECHECK_MS,
    waitHeartbeatMs: s.HANDOFF_WAIT_HEARTBEAT_MS,
    accessTokenTtl: s.HANDOFF_ACCESS_TOKEN_TTL,
    authorizationCodeTtl: s.HANDOFF_AUTHORIZATION_CODE_TTL,
    tokenRetryWindow: s.HANDOFF_TOKEN_RETRY_WINDOW,
    refreshTokenIdleTtl: s.HANDOFF_REFRESH_TOKEN_IDLE_TTL,
    refreshTokenTtl: s.HANDOFF_REFRESH_TOKEN_TTL,
    refreshReuseWindow: s.HANDOFF_REFRESH_REUSE_WINDOW,
    connectionsMaxPerSubject: s.HANDOFF_CONNECTIONS_MAX_PER_SUBJECT,
    ...(s.HANDOFF_SIGNING_KEYS_FILE ? { signingKeysFile: s.HANDOFF_SIGNING_KEYS_FILE } : {}),
    signingKeysWatchMs: s.HANDOFF_SIGNING_KEYS_WATCH_MS,
    resourceLimits: {
      perRequest: s.HANDOFF_RESOURCES_PER_REQUEST,
      perGrant: s.HANDOFF_RESOURCES_PER_GRANT,
      maxLength: s.HANDOFF_RESOURCE_MAX_LENGTH,
      httpOnLoopback: s.HANDOFF_HTTP_LOOPBACK_RESOURCES ?? mode === "development",
    },
    defaultAudience: s.HANDOFF_DEFAULT_AUDIENCE ?? issuer,
    bodyLimit: s.HANDOFF_BODY_LIMIT,
    headersTimeoutMs: s.HANDOFF_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: s.HANDOFF_REQUEST_TIMEOUT_MS,
    maxConnections: s.HANDOFF_MAX_CONNECTIONS,
    ...(s.HANDOFF_TRUST_PROXY ? { trustProxy: s.HANDOFF_TRUST_PROXY } : {}),
    ...(serviceToken ? { serviceToken } : {}),
    ...(s.HANDOFF_METRICS_TOKEN ? { metricsToken: s.HANDOFF_METRICS_TOKEN } : {}),
    ...(s.HANDOFF_ADMIN_TOKEN ? { adminToken: s.HANDOFF_ADMIN_TOKEN } : {}),
    adminMaxPageSize: s.HANDOFF_ADMIN_MAX_PAGE_SIZE,
    clientMetadataLimits: metadataLimits(s),
    ...(redis ? { redis } : {}),
    redisKeyPrefix: s.HANDOFF_REDIS_KEY_PREFIX,
    redisTimeoutMs: s.HANDOFF_REDIS_TIMEOUT_MS,
    redisWaitReplicas: s.HANDOFF_REDIS_WAIT_REPLICAS,
    redisWaitTimeoutMs: s.HANDOFF_REDIS_WAIT_TIMEOUT_MS,
    clients,
    ...(registration ? { registration } : {}),
    ...(metadataDocuments ? { metadataDocuments } : {}),
    keys,
    logLevel: s.HANDOFF_LOG_LEVEL,
    ...pages,
  };
}
