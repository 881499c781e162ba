/**
 * Every setting, declared once: its name, type, bounds, default and one-line
 * description. The environment is validated against this (zod): a wrong value
 * stops the start with a message that names the variable. The README's
 * settings table is generated from it (`npm run docs:settings`), and
 * test/config/settings-table.test.ts fails when the two differ.
 *
 * To add a setting: add one entry to SETTINGS below, in the README group it
 * belongs to, with one of the declaration helpers (int, oneOf, text, url,
 * word); map it into the server configuration in src/server/load-config.ts;
 * run `npm run docs:settings`. The names PORT, HANDOFF_ISSUER, REDIS_URL,
 * REDIS_CLUSTER_NODES and HANDOFF_SERVICE_TOKEN are fixed: other tools rely
 * on them.
 */
import { z } from "zod";
import {
  AUTHORIZATION_CODE_GRANT,
  DEVICE_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
} from "../domain/client.js";
import { DEFAULT_MAX_PAGE_SIZE } from "../domain/operator-authorizations.js";
import { DEFAULT_MAX_PER_SUBJECT } from "../domain/ports/token-store.js";
import { DEFAULT_RESOURCE_LIMITS } from "../domain/resource.js";
import { SIGNING_ALGORITHMS } from "../tokens/signing-keys.js";

/** The README table's sections, in order. */
export const SETTING_GROUPS = [
  "Server",
  "State",
  "Device flow",
  "Tokens",
  "Verification page",
  "Identity provider",
  "Limits",
  "Client registration",
] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

/** A few words after a group's name in the README table. */
export const SETTING_GROUP_NOTES: Partial<Record<SettingGroup, string>> = {
  "Identity provider": "with `HANDOFF_AUTHENTICATOR=oidc`",
  Limits: "failures allowed per window before growing delays start",
};

/** One declared setting: its schema (type, bounds, default) and its README row. */
export interface SettingDeclaration<S extends z.ZodType = z.ZodType> {
  readonly group: SettingGroup;
  readonly schema: S;
  /** The README's Default column (markdown). */
  readonly shownDefault: string;
  /** The README's Allowed column (markdown): bounds or values. */
  readonly allowed: string;
  /** What it does, in one line (the README's Meaning column). */
  readonly doc: string;
}

interface Common {
  readonly group: SettingGroup;
  readonly doc: string;
}

/** A whole number from `min` to `max` (inclusive), `default` when unset. */
function int(o: Common & { min: number; max: number; default: number; note?: string }) {
  const message = `must be a whole number from ${o.min} to ${o.max}`;
  return {
    group: o.group,
    doc: o.doc,
    schema: z.coerce
      .number({ error: message })
      .int(message)
      .min(o.min, message)
      .max(o.max, message)
      .default(o.default),
    shownDefault: `\`${o.default}\`${o.note ? ` (${o.note})` : ""}`,
    allowed: `${o.min}–${o.max}`,
  };
}

/** One of a fixed list of words. */
function oneOf<const V extends readonly [string, ...string[]]>(
  o: Common & { values: V; default: V[number] },
) {
  const words = o.values.join(", ").replace(/, ([^,]*)$/, " or $1");
  return {
    group: o.group,
    doc: o.doc,
    schema: z.enum(o.values, `must be ${words}`).default(o.default),
    shownDefault: `\`${o.default}\``,
    allowed: o.values.map((v) => `\`${v}\``).join(", "),
  };
}

/** A string with a default; `pattern` or `maxLength` restrict it. */
function word(
  o: Common & {
    default: string;
    shownDefault?: string;
    pattern?: RegExp;
    patternMessage?: string;
    maxLength?: number;
    allowed: string;
  },
) {
  let schema = o.default === "" ? z.string() : z.string().min(1);
  if (o.maxLength !== undefined) schema = schema.max(o.maxLength);
  if (o.pattern) schema = schema.regex(o.pattern, o.patternMessage);
  return {
    group: o.group,
    doc: o.doc,
    schema: schema.default(o.default),
    shownDefault: o.shownDefault ?? `\`${o.default}\``,
    allowed: o.allowed,
  };
}

/** An optional string (blank counts as unset), trimmed; `check` refuses a wrong one. */
function text(
  o: Common & {
    unset: string;
    allowed: string;
    check?: readonly [(v: string) => boolean, string];
  },
) {
  const trimmed = z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
  const check = o.check;
  return {
    group: o.group,
    doc: o.doc,
    schema: check ? trimmed.refine((v) => v === undefined || check[0](v), check[1]) : trimmed,
    shownDefault: o.unset,
    allowed: o.allowed,
  };
}

/** An optional `true` or `false`; unset is undefined (the composition root decides by mode). */
function flag(o: Common & { unset: string }) {
  return {
    group: o.group,
    doc: o.doc,
    schema: z
      .enum(["true", "false"], "must be true or false")
      .optional()
      .transform((v) => (v === undefined ? undefined : v === "true")),
    shownDefault: o.unset,
    allowed: "`true`, `false`",
  };
}

/** An optional http(s) URL without query or fragment; a trailing slash is dropped. */
function url(o: Common & { unset: string }) {
  return {
    group: o.group,
    doc: o.doc,
    schema: z
      .string()
      .refine((v) => {
        try {
          const u = new URL(v);
          return (
            (u.protocol === "http:" || u.protocol === "https:") && u.search === "" && u.hash === ""
          );
        } catch {
          return false;
        }
      }, "must be an http(s) URL without query or fragment")
      .transform((v) => v.replace(/\/+$/, ""))
      .optional(),
    shownDefault: o.unset,
    allowed: "an http(s) URL",
  };
}

const HOST_PORT = /^[^\s:,]+:\d{1,5}$/;

/** Grant types a client may register (RFC 7591 §2 `grant_types`). */
const REGISTRATION_GRANTS: readonly string[] = [
  AUTHORIZATION_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
  DEVICE_CODE_GRANT,
];

/** The settings, in README order. */
export const SETTINGS = {
  // Server
  PORT: int({
    group: "Server",
    min: 0,
    max: 65535,
    default: 8080,
    doc: "the one port for every protocol",
  }),
  // Unset: 127.0.0.1 for start-dev (its dev token and demo/demo stay local), 0.0.0.0 for start.
  HANDOFF_HOST: text({
    group: "Server",
    unset: "`start-dev`: `127.0.0.1`; `start`: `0.0.0.0`",
    allowed: "an address",
    doc: "the address to listen on; `start-dev` warns (log and banner) when it is not loopback, since its dev token and `demo`/`demo` are published",
  }),
  HANDOFF_ISSUER: url({
    group: "Server",
    unset: "`http://localhost:$PORT`",
    doc: "the issuer URL, also the base of every advertised endpoint; must be https in production unless loopback",
  }),
  HANDOFF_TLS_CERT_FILE: text({
    group: "Server",
    unset: "unset (cleartext)",
    allowed: "a path",
    doc: "PEM certificate chain: the port then speaks TLS, HTTP/1.1 and HTTP/2 by ALPN; re-read on `SIGHUP` (set with `HANDOFF_TLS_KEY_FILE`)",
  }),
  HANDOFF_TLS_KEY_FILE: text({
    group: "Server",
    unset: "unset",
    allowed: "a path",
    doc: "PEM private key of `HANDOFF_TLS_CERT_FILE`; re-read on `SIGHUP`",
  }),
  HANDOFF_LOG_LEVEL: oneOf({
    group: "Server",
    values: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
    default: "info",
    doc: "how much to log",
  }),
  HANDOFF_TRUST_PROXY: text({
    group: "Server",
    unset: "unset",
    allowed: "addresses, CIDRs",
    doc: "comma-separated proxy addresses/CIDRs whose `X-Forwarded-For` gives the client IP (HTTP and RPC alike); `true` is refused: it would believe any client's `X-Forwarded-For`",
  }),
  HANDOFF_BODY_LIMIT: int({
    group: "Server",
    min: 1024,
    max: 1_048_576,
    default: 16_384,
    doc: "largest accepted form body, bytes (413 above); RPC messages are capped at 64 KiB",
  }),
  HANDOFF_HEADERS_TIMEOUT_MS: int({
    group: "Server",
    min: 500,
    max: 120_000,
    default: 10_000,
    doc: "a client must send its first bytes and its request headers within this",
  }),
  HANDOFF_REQUEST_TIMEOUT_MS: int({
    group: "Server",
    min: 1000,
    max: 300_000,
    default: 30_000,
    doc: "a client must send its whole request within this",
  }),
  HANDOFF_MAX_CONNECTIONS: int({
    group: "Server",
    min: 1,
    max: 1_000_000,
    default: 10_000,
    doc: "open connections per instance (an HTTP/2 session is one); past it a new connection is closed at once (logged at warn, at most once a minute)",
  }),
  // State
  REDIS_URL: text({
    group: "State",
    unset: "unset: memory store",
    allowed: "`redis://…`, `rediss://…`",
    check: [(v) => /^rediss?:\/\//.test(v), "must start with redis:// or rediss://"],
    doc: "URL of a standalone Redis",
  }),
  REDIS_CLUSTER_NODES: text({
    group: "State",
    unset: "unset",
    allowed: "`host:port,…`",
    check: [
      (v) => v.split(",").every((n) => HOST_PORT.test(n.trim())),
      "must be comma-separated host:port seeds",
    ],
    doc: "comma-separated seeds of a Redis Cluster (not with `REDIS_URL`)",
  }),
  HANDOFF_REDIS_KEY_PREFIX: word({
    group: "State",
    default: "",
    shownDefault: "empty",
    maxLength: 64,
    allowed: "up to 64 characters",
    doc: "prefix for every key, to share one Redis",
  }),
  HANDOFF_REDIS_TIMEOUT_MS: int({
    group: "State",
    min: 100,
    max: 60_000,
    default: 2000,
    doc: "deadline of every store call: one that Redis has not answered within it fails as `temporarily_unavailable` (503 / `UNAVAILABLE`), queued or not; the 503's `Retry-After` is 2 × this + 1 s, at least 5 s ([docs/failure.md](docs/failure.md))",
  }),
  HANDOFF_REDIS_WAIT_REPLICAS: int({
    group: "State",
    min: 0,
    max: 16,
    default: 0,
    note: "off",
    doc: "replicas that must hold an authorization, a decision, a consumption, a refresh rotation or a revocation before it is answered (Redis `WAIT`, so a failover cannot undo it); fewer within the timeout is refused with 503 `temporarily_unavailable` (`UNAVAILABLE`) and counted: the client's retry finds the write done ([docs/failure.md](docs/failure.md#replication))",
  }),
  HANDOFF_REDIS_WAIT_TIMEOUT_MS: int({
    group: "State",
    min: 1,
    max: 30_000,
    default: 100,
    doc: "how long one `WAIT` may hold a write's answer; below `HANDOFF_REDIS_TIMEOUT_MS`",
  }),
  HANDOFF_MEMORY_MAX_PENDING: int({
    group: "State",
    min: 1,
    max: 10_000_000,
    default: 100_000,
    doc: "without Redis: live device authorizations held at most; past it a new one gets 503 `temporarily_unavailable` (`UNAVAILABLE`); also the cap on sign-ins in progress at an identity provider",
  }),
  // Device flow
  HANDOFF_CLIENTS_FILE: text({
    group: "Device flow",
    unset: "unset (dev: `demo-cli` only)",
    allowed: "a path",
    doc: "the registered clients (below)",
  }),
  HANDOFF_DEVICE_CODE_TTL: int({
    group: "Device flow",
    min: 1,
    max: 3600,
    default: 900,
    doc: "life of device and user codes, seconds",
  }),
  HANDOFF_POLL_INTERVAL: int({
    group: "Device flow",
    min: 1,
    max: 60,
    default: 5,
    doc: "base polling interval, seconds",
  }),
  HANDOFF_POLL_JITTER_MS: int({
    group: "Device flow",
    min: 0,
    max: 30_000,
    default: 1000,
    doc: "how early a poll may be and still be on time (at most half the interval)",
  }),
  // WaitToken streams (docs/wait-token.md).
  HANDOFF_WAIT_MAX_STREAMS: int({
    group: "Device flow",
    min: 0,
    max: 1_000_000,
    default: 1000,
    doc: "open `WaitToken` streams per instance; past it `RESOURCE_EXHAUSTED` (the client polls); `0` turns `WaitToken` off",
  }),
  HANDOFF_WAIT_RECHECK_MS: int({
    group: "Device flow",
    min: 100,
    max: 600_000,
    default: 5000,
    doc: "how often a waiting stream re-checks the store, whatever pub/sub delivers",
  }),
  HANDOFF_WAIT_HEARTBEAT_MS: int({
    group: "Device flow",
    min: 1000,
    max: 300_000,
    default: 15_000,
    doc: "how often a waiting stream sends a heartbeat",
  }),
  HANDOFF_VERIFICATION_URI: url({
    group: "Device flow",
    unset: "`$HANDOFF_ISSUER/device`",
    doc: "`verification_uri`, if the page is reached through another address",
  }),
  HANDOFF_SERVICE_TOKEN: text({
    group: "Device flow",
    unset: "unset (dev: a well-known token)",
    allowed: "32+ characters",
    check: [
      (v) => v.length >= 32,
      "must be at least 32 characters (generate one with: openssl rand -base64 32)",
    ],
    doc: "bearer credential of internal callers (`Approve`, `GetDeviceAuthorization`, revocation, introspection)",
  }),
  HANDOFF_METRICS_TOKEN: text({
    group: "Device flow",
    unset: "unset: no `/metrics`",
    allowed: "32+ characters",
    check: [
      (v) => v.length >= 32,
      "must be at least 32 characters (generate one with: openssl rand -base64 32)",
    ],
    doc: "bearer credential for `GET /metrics` (Prometheus, docs/operations.md); not the service token",
  }),
  HANDOFF_ADMIN_TOKEN: text({
    group: "Device flow",
    unset: "unset: `ClientService` refuses every call",
    allowed: "32+ characters",
    check: [
      (v) => v.length >= 32,
      "must be at least 32 characters (generate one with: openssl rand -base64 32)",
    ],
    doc: 'bearer credential of `ClientService` and `handoff clients` (README "Administering clients"); not the service token',
  }),
  HANDOFF_ADMIN_MAX_PAGE_SIZE: int({
    group: "Device flow",
    min: 1,
    max: 10_000,
    default: DEFAULT_MAX_PAGE_SIZE,
    doc: 'most rows one page of `ListGrants` / `ListPendingAuthorizations` returns; a larger `page_size` is capped (README "Operator listings")',
  }),
  // RFC 8707 resources (src/domain/resource.ts): count, length, and http on loopback.
  HANDOFF_RESOURCES_PER_REQUEST: int({
    group: "Device flow",
    min: 1,
    max: 100,
    default: DEFAULT_RESOURCE_LIMITS.perRequest,
    doc: "`resource` values one request may send, duplicates included (RFC 8707); more is `invalid_target`",
  }),
  HANDOFF_RESOURCES_PER_GRANT: int({
    group: "Device flow",
    min: 1,
    max: 100,
    default: DEFAULT_RESOURCE_LIMITS.perGrant,
    doc: "distinct resources one grant may bind (they become the token's `aud`)",
  }),
  HANDOFF_RESOURCE_MAX_LENGTH: int({
    group: "Device flow",
    min: 16,
    max: 4096,
    default: DEFAULT_RESOURCE_LIMITS.maxLength,
    doc: "characters of one `resource`, as sent and normalised",
  }),
  HANDOFF_HTTP_LOOPBACK_RESOURCES: flag({
    group: "Device flow",
    unset: "unset (dev: `true`, production: `false`)",
    doc: "accept `http:` resources on loopback hosts; otherwise https only",
  }),
  // Tokens
  HANDOFF_SIGNING_KEYS_FILE: text({
    group: "Tokens",
    unset: "unset (dev: a key generated at start)",
    allowed: "a path",
    doc: "a private JWK set; the first key without `handoff_retired_at` signs; reloaded on `SIGHUP` and on change",
  }),
  HANDOFF_SIGNING_KEYS_WATCH_MS: int({
    group: "Tokens",
    min: 0,
    max: 3_600_000,
    default: 30_000,
    doc: "how often to check the key file for changes; `0`: `SIGHUP` only",
  }),
  HANDOFF_SIGNING_ALG: oneOf({
    group: "Tokens",
    values: SIGNING_ALGORITHMS,
    default: "ES256",
    doc: "algorithm of the dev key generated at start",
  }),
  HANDOFF_ACCESS_TOKEN_TTL: int({
    group: "Tokens",
    min: 60,
    max: 86_400,
    default: 3600,
    doc: "access token life, seconds; also how long a redeemed authorization code is remembered, so that a replay revokes its tokens",
  }),
  // Authorization codes (RFC 6749 §4.1.2) are short-lived: 60 s at most.
  HANDOFF_AUTHORIZATION_CODE_TTL: int({
    group: "Tokens",
    min: 1,
    max: 60,
    default: 60,
    doc: "authorization code life, seconds",
  }),
  HANDOFF_TOKEN_RETRY_WINDOW: int({
    group: "Tokens",
    min: 0,
    max: 600,
    default: 60,
    doc: "seconds after a device code is consumed (or an authorization code redeemed) in which a retry that follows a failed issuance (store fault, crash) gets the same token set, never a second; `0`: at most once ([docs/failure.md](docs/failure.md#exactly-once-across-faults))",
  }),
  HANDOFF_DEFAULT_AUDIENCE: text({
    group: "Tokens",
    unset: "the issuer",
    allowed: "a URI",
    doc: "`aud` when no `resource` was named",
  }),
  HANDOFF_REFRESH_TOKEN_IDLE_TTL: int({
    group: "Tokens",
    min: 60,
    max: 31_536_000,
    default: 1_209_600,
    note: "14 days",
    doc: "seconds a refresh token lives unused",
  }),
  HANDOFF_REFRESH_TOKEN_TTL: int({
    group: "Tokens",
    min: 60,
    max: 31_536_000,
    default: 2_592_000,
    note: "30 days",
    doc: "absolute life of a refresh-token family, however often refreshed",
  }),
  HANDOFF_REFRESH_REUSE_WINDOW: int({
    group: "Tokens",
    min: 1,
    max: 100_000,
    default: 1000,
    doc: "rotated-out refresh tokens remembered per family for reuse detection",
  }),
  HANDOFF_CONNECTIONS_MAX_PER_SUBJECT: int({
    group: "Tokens",
    min: 1,
    max: 1000,
    default: DEFAULT_MAX_PER_SUBJECT,
    doc: 'grants one person\'s index keeps, and the "Connected devices" page lists; past it the oldest leaves the index (its tokens keep working and can still be revoked)',
  }),
  // Verification page (docs/verification-page.md)
  HANDOFF_AUTHENTICATOR: oneOf({
    group: "Verification page",
    values: ["local", "trusted-header", "oidc"],
    default: "local",
    doc: "how people sign in: `local` (users file), `trusted-header` or `oidc` (your identity provider, below)",
  }),
  HANDOFF_USERS_FILE: text({
    group: "Verification page",
    unset: "unset (dev: `demo`/`demo`)",
    allowed: "a path",
    doc: "local users (JSON, scrypt hashes), written by `handoff users add`",
  }),
  HANDOFF_TRUSTED_HEADER: word({
    group: "Verification page",
    default: "x-forwarded-user",
    pattern: /^[A-Za-z0-9-]{1,64}$/,
    patternMessage: "must be a header name",
    allowed: "a header name",
    doc: "the header carrying the user name in `trusted-header` mode",
  }),
  HANDOFF_TRUSTED_HEADER_PROXIES: text({
    group: "Verification page",
    unset: "unset (required for `trusted-header`)",
    allowed: "addresses, CIDRs",
    doc: "proxy addresses or CIDR ranges whose header is believed",
  }),
  HANDOFF_SESSION_TTL: int({
    group: "Verification page",
    min: 60,
    max: 86_400,
    default: 3600,
    doc: "seconds a page sign-in lasts",
  }),
  HANDOFF_CSRF_SECRET: text({
    group: "Verification page",
    unset: "unset (`start` requires it; `start-dev`: random per process)",
    allowed: "32+ characters",
    check: [
      (v) => v.length >= 32,
      "must be at least 32 characters (generate one with: openssl rand -base64 32)",
    ],
    doc: "the key that binds each form's CSRF token to its session; the same on every instance",
  }),
  // Sign in with your identity provider (HANDOFF_AUTHENTICATOR=oidc; README section of that name).
  HANDOFF_OIDC_ISSUER: url({
    group: "Identity provider",
    unset: "unset (required for `oidc`)",
    doc: "the provider's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`); https, except a loopback host under `start-dev`",
  }),
  HANDOFF_OIDC_CLIENT_ID: text({
    group: "Identity provider",
    unset: "unset (required for `oidc`)",
    allowed: "a client id",
    doc: "handoff's client id at the provider",
  }),
  HANDOFF_OIDC_CLIENT_SECRET: text({
    group: "Identity provider",
    unset: "unset",
    allowed: "a secret",
    doc: "handoff's client secret at the provider (or `HANDOFF_OIDC_CLIENT_SECRET_FILE`); required unless `HANDOFF_OIDC_CLIENT_AUTH=none`",
  }),
  HANDOFF_OIDC_CLIENT_SECRET_FILE: text({
    group: "Identity provider",
    unset: "unset",
    allowed: "a path",
    doc: "a file holding the client secret (trailing newline ignored), instead of `HANDOFF_OIDC_CLIENT_SECRET`",
  }),
  HANDOFF_OIDC_CLIENT_AUTH: oneOf({
    group: "Identity provider",
    values: ["client_secret_basic", "client_secret_post", "none"],
    default: "client_secret_basic",
    doc: "how handoff authenticates at the provider's token endpoint; `none`: a public client (PKCE only)",
  }),
  HANDOFF_OIDC_SCOPES: word({
    group: "Identity provider",
    default: "openid email profile",
    pattern: /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/,
    patternMessage: "must be space-separated scope tokens (RFC 6749 §3.3)",
    maxLength: 512,
    allowed: "scope tokens, with `openid`",
    doc: "scopes asked of the provider",
  }),
  HANDOFF_OIDC_SUBJECT_CLAIM: oneOf({
    group: "Identity provider",
    values: ["sub", "email", "preferred_username"],
    default: "sub",
    doc: "the claim that becomes the handoff subject (tokens' `sub`); `email` only when `email_verified` is true",
  }),
  HANDOFF_OIDC_ALLOWED_DOMAINS: text({
    group: "Identity provider",
    unset: "unset: any",
    allowed: "domains, comma-separated",
    doc: "only people whose verified `email` is at one of these domains may sign in",
  }),
  HANDOFF_OIDC_GROUP_CLAIM: word({
    group: "Identity provider",
    default: "groups",
    pattern: /^[A-Za-z0-9_:./-]{1,128}$/,
    patternMessage: "must be a claim name",
    allowed: "a claim name",
    doc: "the claim listing the person's groups (an array of strings, or one string)",
  }),
  HANDOFF_OIDC_REQUIRED_GROUP: text({
    group: "Identity provider",
    unset: "unset: no group needed",
    allowed: "a group",
    doc: "only people whose `HANDOFF_OIDC_GROUP_CLAIM` holds this value may sign in",
  }),
  HANDOFF_OIDC_TIMEOUT: int({
    group: "Identity provider",
    min: 1,
    max: 60,
    default: 10,
    doc: "seconds each request to the provider (discovery, JWKS, token, UserInfo) may take; then the page says sign-in is unavailable (503)",
  }),
  HANDOFF_OIDC_LOGIN_TTL: int({
    group: "Identity provider",
    min: 60,
    max: 3600,
    default: 600,
    doc: "seconds a person has to finish signing in at the provider; a later callback is refused",
  }),
  // Limits: failures allowed per window before growing delays start (RFC 8628 §5.1).
  HANDOFF_CODE_LIMIT_PER_ADDRESS: int({
    group: "Limits",
    min: 1,
    max: 100_000,
    default: 10,
    doc: "wrong user codes per source address (IPv6 per /64)",
  }),
  HANDOFF_CODE_LIMIT_PER_SESSION: int({
    group: "Limits",
    min: 1,
    max: 100_000,
    default: 5,
    doc: "wrong user codes per signed-in person, all their sessions together (the name is historical)",
  }),
  HANDOFF_CODE_LIMIT_GLOBAL: int({
    group: "Limits",
    min: 1,
    max: 10_000_000,
    default: 1000,
    doc: "wrong user codes from everyone together; its delay holds only addresses and people that have guessed wrong",
  }),
  HANDOFF_SIGNIN_LIMIT_PER_ADDRESS: int({
    group: "Limits",
    min: 1,
    max: 100_000,
    default: 10,
    doc: "failed sign-ins per source address",
  }),
  HANDOFF_SIGNIN_LIMIT_PER_ACCOUNT: int({
    group: "Limits",
    min: 1,
    max: 100_000,
    default: 5,
    doc: "failed sign-ins per user name; its delay holds only addresses that have failed, never the right password from a clean one",
  }),
  HANDOFF_SIGNIN_LIMIT_GLOBAL: int({
    group: "Limits",
    min: 1,
    max: 10_000_000,
    default: 1000,
    doc: "failed sign-ins from everyone together; its delay holds only addresses that have failed",
  }),
  HANDOFF_PAGE_CHECK_LEASE_MS: int({
    group: "Limits",
    min: 1000,
    max: 300_000,
    default: 10_000,
    doc: "ms a user-code entry or sign-in holds its places in flight at most: when its end is lost (a Redis fault, a crash), the place frees itself after this; longer than a check takes (a few store calls within `HANDOFF_REDIS_TIMEOUT_MS`)",
  }),
  // Failed authentications of a confidential client (RFC 6749 §10.10: guessing credentials).
  HANDOFF_CLIENT_AUTH_LIMIT_PER_ADDRESS: int({
    group: "Limits",
    min: 1,
    max: 100_000,
    default: 10,
    doc: "failed authentications of one confidential client from one address",
  }),
  HANDOFF_CLIENT_AUTH_CHECK_LEASE_MS: int({
    group: "Limits",
    min: 1000,
    max: 60_000,
    default: 5000,
    doc: "ms a confidential client's authentication holds one of its address's places in flight when its end is lost (a Redis fault); the places are the failures left before the next delay",
  }),
  // Creating device authorizations (RFC 8628 §3.1): every request counts, not only failures.
  HANDOFF_AUTHORIZE_LIMIT_PER_ADDRESS: int({
    group: "Limits",
    min: 1,
    max: 10_000_000,
    default: 60,
    doc: "device authorizations created per source address (IPv6 per /64) per window, counting every one; past it growing delays (429 `temporarily_unavailable`)",
  }),
  HANDOFF_AUTHORIZE_LIMIT_PER_CLIENT: int({
    group: "Limits",
    min: 1,
    max: 100_000_000,
    default: 10_000,
    doc: "device authorizations created for one client per window, from everyone: a ceiling on what one client's requests hold in the store (at most about twice this pending)",
  }),
  HANDOFF_LIMIT_WINDOW: int({
    group: "Limits",
    min: 60,
    max: 86_400,
    default: 900,
    doc: "seconds after its first failure that a counter is forgotten",
  }),
  // RFC 7591 dynamic client registration (docs/client-registration.md).
  HANDOFF_REGISTRATION: {
    group: "Client registration",
    doc: "RFC 7591 `POST /oauth/register`: `off`, `open` (public clients only, `token_endpoint_auth_method` `none`) or `token` (an initial access token is required; confidential clients may register and get a secret)",
    schema: z.enum(["off", "open", "token"], "must be off, open or token").optional(),
    shownDefault: "`off` (dev: `open`)",
    allowed: "`off`, `open`, `token`",
  },
  HANDOFF_REGISTRATION_TOKEN: text({
    group: "Client registration",
    unset: "unset (required for `token`)",
    allowed: "32+ characters",
    check: [
      (v) => v.length >= 32,
      "must be at least 32 characters (generate one with: openssl rand -base64 32)",
    ],
    doc: "the initial access token registrants present as `Authorization: Bearer`",
  }),
  HANDOFF_REGISTRATION_GRANTS: {
    group: "Client registration",
    doc: "grant types a registered or metadata-document client may have",
    schema: z
      .string()
      .default(REGISTRATION_GRANTS.join(" "))
      .transform((v) => v.split(/[\s,]+/).filter((g) => g !== ""))
      .refine(
        (gs) => gs.length > 0 && gs.every((g) => REGISTRATION_GRANTS.includes(g)),
        `must be grant types from: ${REGISTRATION_GRANTS.join(" ")}`,
      ),
    shownDefault: `\`${REGISTRATION_GRANTS.join(" ")}\``,
    allowed: REGISTRATION_GRANTS.map((g) => `\`${g}\``).join(", "),
  },
  HANDOFF_REGISTRATION_SCOPES: text({
    group: "Client registration",
    unset: "unset: every scope in `scopes_supported`",
    allowed: "scope tokens",
    doc: "scopes a registered or metadata-document client may have (requested ones outside are dropped)",
  }),
  HANDOFF_REGISTRATION_IDLE_TTL: int({
    group: "Client registration",
    min: 60,
    max: 31_536_000,
    default: 2_592_000,
    note: "30 days",
    doc: "seconds a registered client lives unused; each use extends it",
  }),
  HANDOFF_REGISTRATION_MAX_CLIENTS: int({
    group: "Client registration",
    min: 1,
    max: 10_000_000,
    default: 10_000,
    doc: "registered clients kept at most; past it registration answers 503",
  }),
  HANDOFF_REGISTRATION_BODY_LIMIT: int({
    group: "Client registration",
    min: 1024,
    max: 1_048_576,
    default: 8192,
    doc: "largest registration body, bytes (413 above)",
  }),
  HANDOFF_REGISTRATION_LIMIT_PER_ADDRESS: int({
    group: "Client registration",
    min: 1,
    max: 100_000,
    default: 10,
    doc: "registrations per source address per `HANDOFF_LIMIT_WINDOW` before growing delays (429)",
  }),
  HANDOFF_REGISTRATION_LIMIT_GLOBAL: int({
    group: "Client registration",
    min: 1,
    max: 10_000_000,
    default: 1000,
    doc: "registrations from everyone together per window before growing delays",
  }),
  // Caps on the fields of registered and metadata-document clients.
  HANDOFF_CLIENT_MAX_REDIRECT_URIS: int({
    group: "Client registration",
    min: 1,
    max: 100,
    default: 10,
    doc: "redirect URIs a registered or metadata-document client may list",
  }),
  HANDOFF_CLIENT_MAX_URI_LENGTH: int({
    group: "Client registration",
    min: 64,
    max: 8192,
    default: 1024,
    doc: "longest redirect URI, and longest metadata document URL, in characters",
  }),
  HANDOFF_CLIENT_MAX_NAME_LENGTH: int({
    group: "Client registration",
    min: 1,
    max: 1024,
    default: 128,
    doc: "longest `client_name`, `software_id`, `software_version`",
  }),
  // Client ID Metadata Documents (docs/client-registration.md).
  HANDOFF_CLIENT_METADATA_DOCUMENTS: {
    group: "Client registration",
    doc: "an `https` `client_id` names a Client ID Metadata Document, fetched SSRF-safe",
    schema: z.enum(["on", "off"], "must be on or off").optional(),
    shownDefault: "`off` (dev: `on`)",
    allowed: "`on`, `off`",
  },
  HANDOFF_CIMD_TIMEOUT_MS: int({
    group: "Client registration",
    min: 100,
    max: 30_000,
    default: 5000,
    doc: "the whole fetch of a document (DNS, connect, TLS, body) must end within this",
  }),
  HANDOFF_CIMD_MAX_BYTES: int({
    group: "Client registration",
    min: 256,
    max: 1_048_576,
    default: 5120,
    doc: "largest document, bytes",
  }),
  HANDOFF_CIMD_CACHE_MIN_TTL: int({
    group: "Client registration",
    min: 1,
    max: 86_400,
    default: 60,
    doc: "seconds a document stays cached at least (also with `no-store` or no `max-age`)",
  }),
  HANDOFF_CIMD_CACHE_MAX_TTL: int({
    group: "Client registration",
    min: 1,
    max: 604_800,
    default: 86_400,
    doc: "seconds a document stays cached at most, whatever its `max-age`",
  }),
  HANDOFF_CIMD_CACHE_MAX_ENTRIES: int({
    group: "Client registration",
    min: 1,
    max: 1_000_000,
    default: 1000,
    doc: "documents cached at most (in the store, shared by instances)",
  }),
  HANDOFF_CIMD_MAX_FETCHES: int({
    group: "Client registration",
    min: 1,
    max: 1000,
    default: 16,
    doc: "document fetches in flight per instance; past it 503",
  }),
  HANDOFF_CIMD_FETCH_LIMIT_PER_ADDRESS: int({
    group: "Client registration",
    min: 1,
    max: 100_000,
    default: 20,
    doc: "document fetches (cache misses) caused from one source address per `HANDOFF_LIMIT_WINDOW` before growing delays (429)",
  }),
  // Development only (`handoff start` refuses them): loopback document hosts and a CA to trust.
  HANDOFF_CIMD_ALLOW_LOOPBACK: oneOf({
    group: "Client registration",
    values: ["true", "false"],
    default: "false",
    doc: "development only (`handoff start` refuses it): documents on loopback hosts",
  }),
  HANDOFF_CIMD_CA_FILE: text({
    group: "Client registration",
    unset: "unset",
    allowed: "a path",
    doc: "development only: a PEM CA trusted for document fetches",
  }),
} satisfies Record<string, SettingDeclaration>;

type Declared = typeof SETTINGS;

/** The zod schema of the environment, built from SETTINGS. */
export const SettingsSchema = z.object(
  Object.fromEntries(Object.entries(SETTINGS).map(([name, d]) => [name, d.schema])) as {
    [K in keyof Declared]: Declared[K]["schema"];
  },
);

export type Settings = z.output<typeof SettingsSchema>;

/** Validates the environment; throws an Error whose message names each bad variable. */
export function readSettings(env: Record<string, string | undefined>): Settings {
  const result = SettingsSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  if (
    result.data.HANDOFF_REDIS_WAIT_REPLICAS > 0 &&
    result.data.HANDOFF_REDIS_WAIT_TIMEOUT_MS >= result.data.HANDOFF_REDIS_TIMEOUT_MS
  ) {
    throw new Error(
      "invalid configuration:\n  HANDOFF_REDIS_WAIT_TIMEOUT_MS: must be below HANDOFF_REDIS_TIMEOUT_MS (the deadline of the whole store call, WAIT included)",
    );
  }
  if (result.data.REDIS_URL && result.data.REDIS_CLUSTER_NODES) {
    throw new Error(
      "invalid configuration:\n  REDIS_URL, REDIS_CLUSTER_NODES: set one or the other, not both",
    );
  }
  return result.data;
}

/**
 * Every setting at its declared default, as a deployment that sets nothing
 * gets them. Code that needs a default (tests, DEFAULT_ATTEMPT_LIMITS) reads
 * it here instead of repeating the number.
 */
export const SETTING_DEFAULTS: Settings = readSettings({});
