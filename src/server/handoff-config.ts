/** Everything a running server needs, already validated and defaulted (src/server/load-config.ts builds it from the settings). */
import type pino from "pino";
import type { Client } from "../domain/client.js";
import type { RegistrationMode } from "../domain/client-registration.js";
import type { ResourceLimits } from "../domain/resource.js";
import type { SafeFetchOptions } from "../outbound/metadata-document-fetch.js";
import type { RedisTarget } from "../store/redis-connection.js";
import type { KeyRing } from "../tokens/signing-keys.js";
import type { TlsFiles } from "./tls-front.js";
import type { PagesConfig } from "./verification-setup.js";

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
  /** 0: any free port (RunningHandoff.port says which); the issuer must then be given. */
  readonly port: number;
  /**
   * The issuer, also the base URL of every endpoint. Required: the server
   * listens last, after everything that names the issuer is built, so it
   * cannot be derived from a port chosen at listen time (src/server/load-config.ts
   * defaults it to http://localhost:<PORT>).
   */
  readonly issuer: string;
  /** Where people enter the user code (RFC 8628 §3.2); load-config defaults it to <issuer>/device. */
  readonly verificationUri: string;
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
  /** Seconds a retry after a failed issuance gets the same token set (docs/failure.md). */
  readonly tokenRetryWindow: number;
  /** The `aud` of a token whose grant names no resource; load-config defaults it to the issuer. */
  readonly defaultAudience: string;
  /** RFC 8707 resources: count per request and per grant, length, http on loopback. */
  readonly resourceLimits: ResourceLimits;
  readonly bodyLimit: number;
  /** A client must send its request headers within this (slowloris), and the whole request within requestTimeoutMs. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Open connections per instance (HTTP/1.1, and HTTP/2 sessions); past it new ones are closed. */
  readonly maxConnections: number;
  /** Tests only: an HTTP/2 session idle this long is destroyed (default 60 s, src/server/build-transports.ts). */
  readonly http2IdleTimeoutMs?: number;
  /** Tests only: false sends the poll and the device authorization through fastify too (src/http/form-fast-path.ts). */
  readonly formFastPath?: boolean;
  /** Tests only: false sends gRPC PollToken over HTTP/2 through connect-es too (src/rpc/grpc-poll-token.ts). */
  readonly grpcPollFastPath?: boolean;
  readonly trustProxy?: string;
  readonly serviceToken?: string;
  /** Bearer credential for `GET /metrics`; unset: no metrics endpoint. */
  readonly metricsToken?: string;
  /** Bearer credential of ClientService (README "Administering clients"); unset: it refuses every call. */
  readonly adminToken?: string;
  /** Most rows one page of the operators' listings returns (HANDOFF_ADMIN_MAX_PAGE_SIZE); default: that setting's default. */
  readonly adminMaxPageSize?: number;
  /** Caps on administered clients' fields (HANDOFF_CLIENT_MAX_*); default: those settings' defaults. */
  readonly clientMetadataLimits?: ClientMetadataLimits;
  readonly redis?: RedisTarget;
  readonly redisKeyPrefix: string;
  readonly redisTimeoutMs: number;
  /** Replicas a durable write must reach before it is answered (Redis WAIT); 0: off. */
  readonly redisWaitReplicas: number;
  /** WAIT's timeout, ms (below redisTimeoutMs). */
  readonly redisWaitTimeoutMs: number;
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
  /** How often to check signingKeysFile for changes, in ms; 0: on SIGHUP only. */
  readonly signingKeysWatchMs: number;
  /** Seconds a refresh token lives unused. */
  readonly refreshTokenIdleTtl: number;
  /** Seconds a refresh-token family lives at most, however often rotated. */
  readonly refreshTokenTtl: number;
  /** Rotated-out refresh tokens a family remembers for reuse detection. */
  readonly refreshReuseWindow: number;
  /**
   * Families one subject's index keeps, newest first: what the "Connected
   * devices" page lists. An older one leaves the index only, not service.
   */
  readonly connectionsMaxPerSubject: number;
  readonly logLevel: string;
  readonly logDestination?: pino.DestinationStream;
  /** TLS on the one port (HTTP/1.1 and HTTP/2 by ALPN), re-read on SIGHUP; absent: cleartext. */
  readonly tls?: TlsFiles;
}
