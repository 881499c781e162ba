/**
 * Settings from the environment, validated with zod. A wrong value stops the
 * start with a message that names the variable. The names in ARCHITECTURE.md
 * (PORT, HANDOFF_ISSUER, REDIS_URL, REDIS_CLUSTER_NODES, HANDOFF_SERVICE_TOKEN)
 * are fixed: other tools rely on them.
 */
import { z } from "zod";
import {
  AUTHORIZATION_CODE_GRANT,
  DEVICE_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
} from "../domain/client.js";
import { SIGNING_ALGORITHMS } from "../tokens/signing-keys.js";

const int = (min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be a whole number from ${min} to ${max}`)
    .max(max, `must be a whole number from ${min} to ${max}`)
    .default(fallback);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const httpUrl = z
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
  .transform((v) => v.replace(/\/+$/, ""));

const hostPort = /^[^\s:,]+:\d{1,5}$/;

/** Grant types a client may register (RFC 7591 §2 `grant_types`). */
const REGISTRATION_GRANTS: readonly string[] = [
  AUTHORIZATION_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
  DEVICE_CODE_GRANT,
];

export const SettingsSchema = z.object({
  PORT: int(0, 65535, 8080),
  // Unset: 127.0.0.1 for start-dev (its dev token and demo/demo stay local), 0.0.0.0 for start.
  HANDOFF_HOST: optionalString,
  HANDOFF_ISSUER: httpUrl.optional(),
  HANDOFF_VERIFICATION_URI: httpUrl.optional(),
  REDIS_URL: optionalString.refine(
    (v) => v === undefined || /^rediss?:\/\//.test(v),
    "must start with redis:// or rediss://",
  ),
  REDIS_CLUSTER_NODES: optionalString.refine(
    (v) => v === undefined || v.split(",").every((n) => hostPort.test(n.trim())),
    "must be comma-separated host:port seeds",
  ),
  HANDOFF_REDIS_KEY_PREFIX: z.string().max(64).default(""),
  HANDOFF_SERVICE_TOKEN: optionalString.refine(
    (v) => v === undefined || v.length >= 32,
    "must be at least 32 characters (generate one with: openssl rand -base64 32)",
  ),
  // Bearer credential for GET /metrics (docs/operations.md); unset: no metrics endpoint.
  HANDOFF_METRICS_TOKEN: optionalString.refine(
    (v) => v === undefined || v.length >= 32,
    "must be at least 32 characters (generate one with: openssl rand -base64 32)",
  ),
  HANDOFF_CLIENTS_FILE: optionalString,
  HANDOFF_SIGNING_KEYS_FILE: optionalString,
  HANDOFF_SIGNING_ALG: z
    .enum(SIGNING_ALGORITHMS as [string, ...string[]], "must be ES256 or RS256")
    .default("ES256"),
  HANDOFF_DEVICE_CODE_TTL: int(1, 3600, 900),
  HANDOFF_POLL_INTERVAL: int(1, 60, 5),
  HANDOFF_POLL_JITTER_MS: int(0, 30_000, 1000),
  // WaitToken streams (docs/wait-token.md): at most this many open per instance (0: off),
  // a store re-check this often whatever pub/sub delivers, a heartbeat this often.
  HANDOFF_WAIT_MAX_STREAMS: int(0, 1_000_000, 1000),
  HANDOFF_WAIT_RECHECK_MS: int(100, 600_000, 5000),
  HANDOFF_WAIT_HEARTBEAT_MS: int(1000, 300_000, 15_000),
  HANDOFF_ACCESS_TOKEN_TTL: int(60, 86_400, 3600),
  // Authorization codes (RFC 6749 §4.1.2) are short-lived: 60 s at most.
  HANDOFF_AUTHORIZATION_CODE_TTL: int(1, 60, 60),
  // Refresh tokens: unused for the idle TTL or older than the absolute TTL, they stop working.
  HANDOFF_REFRESH_TOKEN_IDLE_TTL: int(60, 31_536_000, 1_209_600),
  HANDOFF_REFRESH_TOKEN_TTL: int(60, 31_536_000, 2_592_000),
  // Rotated-out refresh tokens remembered per family for reuse detection.
  HANDOFF_REFRESH_REUSE_WINDOW: int(1, 100_000, 1000),
  // How often to check HANDOFF_SIGNING_KEYS_FILE for changes; 0: reload on SIGHUP only.
  HANDOFF_SIGNING_KEYS_WATCH_MS: int(0, 3_600_000, 30_000),
  HANDOFF_DEFAULT_AUDIENCE: optionalString,
  HANDOFF_BODY_LIMIT: int(1024, 1_048_576, 16_384),
  HANDOFF_REDIS_TIMEOUT_MS: int(100, 60_000, 2000),
  // Without Redis: live device authorizations held at most, so a flood cannot exhaust memory.
  HANDOFF_MEMORY_MAX_PENDING: int(1, 10_000_000, 100_000),
  HANDOFF_HEADERS_TIMEOUT_MS: int(500, 120_000, 10_000),
  HANDOFF_REQUEST_TIMEOUT_MS: int(1000, 300_000, 30_000),
  HANDOFF_TRUST_PROXY: optionalString,
  // RFC 8707 resources (src/domain/resource.ts): count, length, and http on loopback.
  HANDOFF_RESOURCES_PER_REQUEST: int(1, 100, 20),
  HANDOFF_RESOURCES_PER_GRANT: int(1, 100, 10),
  HANDOFF_RESOURCE_MAX_LENGTH: int(16, 4096, 512),
  // Unset: yes in development (start-dev), no in production (start).
  HANDOFF_HTTP_LOOPBACK_RESOURCES: z
    .enum(["true", "false"], "must be true or false")
    .optional()
    .transform((v) => (v === undefined ? undefined : v === "true")),
  // Verification page sign-in (docs/verification-page.md).
  HANDOFF_AUTHENTICATOR: z
    .enum(["local", "trusted-header"], "must be local or trusted-header")
    .default("local"),
  HANDOFF_USERS_FILE: optionalString,
  HANDOFF_TRUSTED_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, "must be a header name")
    .default("x-forwarded-user"),
  HANDOFF_TRUSTED_HEADER_PROXIES: optionalString,
  HANDOFF_SESSION_TTL: int(60, 86_400, 3600),
  // Guess limits: failures allowed per window before growing delays start (RFC 8628 §5.1).
  HANDOFF_CODE_LIMIT_PER_ADDRESS: int(1, 100_000, 10),
  HANDOFF_CODE_LIMIT_PER_SESSION: int(1, 100_000, 5),
  HANDOFF_CODE_LIMIT_GLOBAL: int(1, 10_000_000, 1000),
  HANDOFF_SIGNIN_LIMIT_PER_ADDRESS: int(1, 100_000, 10),
  HANDOFF_SIGNIN_LIMIT_PER_ACCOUNT: int(1, 100_000, 5),
  HANDOFF_SIGNIN_LIMIT_GLOBAL: int(1, 10_000_000, 1000),
  // Failed authentications of a confidential client (STANDARDS T7).
  HANDOFF_CLIENT_AUTH_LIMIT_PER_ADDRESS: int(1, 100_000, 10),
  HANDOFF_LIMIT_WINDOW: int(60, 86_400, 900),
  // RFC 7591 dynamic client registration (docs/client-registration.md). Unset:
  // off for `handoff start`, open for `handoff start-dev`.
  HANDOFF_REGISTRATION: z.enum(["off", "open", "token"], "must be off, open or token").optional(),
  HANDOFF_REGISTRATION_TOKEN: optionalString.refine(
    (v) => v === undefined || v.length >= 32,
    "must be at least 32 characters (generate one with: openssl rand -base64 32)",
  ),
  HANDOFF_REGISTRATION_GRANTS: z
    .string()
    .default(REGISTRATION_GRANTS.join(" "))
    .transform((v) => v.split(/[\s,]+/).filter((g) => g !== ""))
    .refine(
      (gs) => gs.length > 0 && gs.every((g) => REGISTRATION_GRANTS.includes(g)),
      `must be grant types from: ${REGISTRATION_GRANTS.join(" ")}`,
    ),
  HANDOFF_REGISTRATION_SCOPES: optionalString,
  HANDOFF_REGISTRATION_IDLE_TTL: int(60, 31_536_000, 2_592_000),
  HANDOFF_REGISTRATION_MAX_CLIENTS: int(1, 10_000_000, 10_000),
  HANDOFF_REGISTRATION_BODY_LIMIT: int(1024, 1_048_576, 8192),
  HANDOFF_REGISTRATION_LIMIT_PER_ADDRESS: int(1, 100_000, 10),
  HANDOFF_REGISTRATION_LIMIT_GLOBAL: int(1, 10_000_000, 1000),
  // Client ID Metadata Documents (docs/client-registration.md). Unset: off for
  // `handoff start`, on for `handoff start-dev`.
  HANDOFF_CLIENT_METADATA_DOCUMENTS: z.enum(["on", "off"], "must be on or off").optional(),
  HANDOFF_CIMD_TIMEOUT_MS: int(100, 30_000, 5000),
  HANDOFF_CIMD_MAX_BYTES: int(256, 1_048_576, 5120),
  HANDOFF_CIMD_CACHE_MIN_TTL: int(1, 86_400, 60),
  HANDOFF_CIMD_CACHE_MAX_TTL: int(1, 604_800, 86_400),
  HANDOFF_CIMD_CACHE_MAX_ENTRIES: int(1, 1_000_000, 1000),
  HANDOFF_CIMD_MAX_FETCHES: int(1, 1000, 16),
  // Development only (`handoff start` refuses them): loopback document hosts and a CA to trust.
  HANDOFF_CIMD_ALLOW_LOOPBACK: z.enum(["true", "false"], "must be true or false").default("false"),
  HANDOFF_CIMD_CA_FILE: optionalString,
  // Caps on the fields of registered and metadata-document clients.
  HANDOFF_CLIENT_MAX_REDIRECT_URIS: int(1, 100, 10),
  HANDOFF_CLIENT_MAX_URI_LENGTH: int(64, 8192, 1024),
  HANDOFF_CLIENT_MAX_NAME_LENGTH: int(1, 1024, 128),
  HANDOFF_LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info"),
});

export type Settings = z.output<typeof SettingsSchema>;

/** Validates the environment; throws an Error whose message names each bad variable. */
export function readSettings(env: Record<string, string | undefined>): Settings {
  const result = SettingsSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  if (result.data.REDIS_URL && result.data.REDIS_CLUSTER_NODES) {
    throw new Error(
      "invalid configuration:\n  REDIS_URL, REDIS_CLUSTER_NODES: set one or the other, not both",
    );
  }
  return result.data;
}
