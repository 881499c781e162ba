/**
 * RFC 8707 resource indicators: the one rule for what a `resource` value may
 * be, how it is normalised, and how many one request and one grant may carry.
 * The RFC gateway, the RPCs and refresh all call `parseResources`; stores,
 * tokens and the consent page only ever see its normalised output.
 */
import { OAuthError } from "./oauth-error.js";

/** How many resources, how long, and which schemes (README "Hostile input"). */
export interface ResourceLimits {
  /** `resource` values one request may send, duplicates included (bounds the parsing work). */
  readonly perRequest: number;
  /** Distinct resources bound to one grant (bounds the stored record and the token's `aud`). */
  readonly perGrant: number;
  /** Characters of one value, as sent and once normalised. */
  readonly maxLength: number;
  /** Accept `http:` for loopback hosts (a local MCP server in development). */
  readonly httpOnLoopback: boolean;
}

/**
 * The defaults of HANDOFF_RESOURCES_PER_REQUEST, _PER_GRANT and
 * HANDOFF_RESOURCE_MAX_LENGTH: src/config/settings.ts declares those settings
 * with these values (the domain imports nothing of ours, so the numbers live
 * here once).
 */
export const DEFAULT_RESOURCE_LIMITS: ResourceLimits = {
  perRequest: 20,
  perGrant: 10,
  maxLength: 512,
  httpOnLoopback: false,
};

/**
 * Whitespace, controls, format characters (bidi overrides such as U+202E,
 * zero-width spaces) and `#`: none belongs in a resource (RFC 8707 §2: no
 * fragment). WHATWG URL parsing would silently drop a zero-width space from
 * a host, so the raw value is checked before parsing.
 */
const FORBIDDEN = /[\s\p{Cc}\p{Cf}#]/u;
/** Does the value as sent have a path after its authority (`https://h/` vs `https://h`)? */
const HAS_PATH = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*\//i;

function invalidTarget(description: string): OAuthError {
  return new OAuthError("invalid_target", description);
}

/** 127.0.0.0/8, ::1 and `localhost`: where plain http cannot be sniffed off a network. */
function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/**
 * One resource in its normalised form: scheme and host lower case, an
 * internationalised host in punycode (so a Cyrillic look-alike shows as
 * `xn--…`), the default port dropped, the path and query as WHATWG URL
 * serialises them, and no slash added to a bare origin (MCP servers name
 * themselves `https://host` and compare `aud` to that exactly).
 */
export function normalizeResource(raw: string, limits: ResourceLimits): string {
  if (raw.length > limits.maxLength) {
    throw invalidTarget(`a resource must be at most ${limits.maxLength} characters`);
  }
  if (FORBIDDEN.test(raw)) {
    throw invalidTarget(
      "a resource must not contain a fragment, whitespace or invisible characters",
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidTarget("a resource must be an absolute URI");
  }
  const http = url.protocol === "http:" && limits.httpOnLoopback && isLoopbackHost(url.hostname);
  if (url.protocol !== "https:" && !http) {
    throw invalidTarget(
      limits.httpOnLoopback
        ? "a resource must be an https URL (http only on a loopback host)"
        : "a resource must be an https URL",
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw invalidTarget("a resource must not carry a user name or password");
  }
  const path = url.pathname === "/" && !HAS_PATH.test(raw) ? "" : url.pathname;
  const normal = `${url.protocol}//${url.host}${path}${url.search}`;
  if (normal.length > limits.maxLength) {
    throw invalidTarget(`a resource must be at most ${limits.maxLength} characters`);
  }
  return normal;
}

/**
 * Validates and normalises a request's `resource` values (RFC 8707 §2) and
 * folds duplicates, so `HTTPS://R1.EX/` and `https://r1.ex/` are one
 * resource at authorization and at refresh alike. Counts are checked before
 * any value is parsed.
 */
export function parseResources(values: readonly string[], limits: ResourceLimits): string[] {
  if (values.length > limits.perRequest) {
    throw invalidTarget(`a request may name at most ${limits.perRequest} resources`);
  }
  const resources = [...new Set(values.map((v) => normalizeResource(v, limits)))];
  if (resources.length > limits.perGrant) {
    throw invalidTarget(`a grant may name at most ${limits.perGrant} resources`);
  }
  return resources;
}

/** The host (and port) of a normalised resource, for a consent screen to show prominently. */
export function resourceHost(resource: string): string {
  try {
    return new URL(resource).host;
  } catch {
    return resource;
  }
}
