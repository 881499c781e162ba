/**
 * Finding the authorization server: from its issuer (RFC 8414), or from an
 * MCP server's URL (its 401 names its RFC 9728 metadata, which names the
 * authorization server).
 */
import { OAuthClientError } from "./client-error.js";

/** The RFC 8414 members this library reads. */
export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly token_endpoint: string;
  readonly device_authorization_endpoint?: string;
  readonly revocation_endpoint?: string;
  /** handoff's extension: the WaitToken stream (docs/wait-token.md). */
  readonly handoff_wait_token_endpoint?: string;
  readonly [member: string]: unknown;
}

/** What discovery found: the server's metadata and, from an MCP server, its resource URI. */
export interface Discovered {
  readonly metadata: AuthorizationServerMetadata;
  /** RFC 9728 `resource`: the audience to ask for (RFC 8707), when found through a resource server. */
  readonly resource?: string;
}

type Fetch = typeof fetch;

async function getJson(url: string, f: Fetch): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await f(url, { headers: { accept: "application/json" }, redirect: "error" });
  } catch (cause) {
    throw new OAuthClientError("network_error", `cannot reach ${url}`, undefined, { cause });
  }
  if (res.status !== 200)
    throw new OAuthClientError("discovery_failed", `${url} answered ${res.status}`, res.status);
  const body = (await res.json().catch(() => null)) as unknown;
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new OAuthClientError("discovery_failed", `${url} is not a JSON object`);
  return body as Record<string, unknown>;
}

/** RFC 8414 §3: the well-known path goes between the host and the issuer's path. */
function wellKnown(base: string, name: string): string {
  const u = new URL(base);
  const path = u.pathname === "/" ? "" : u.pathname.replace(/\/$/, "");
  return `${u.origin}/.well-known/${name}${path}`;
}

/** Reads an authorization server's metadata from its issuer identifier (RFC 8414 §3). */
export async function discoverIssuer(
  issuer: string,
  f: Fetch = fetch,
): Promise<AuthorizationServerMetadata> {
  const m = await getJson(wellKnown(issuer, "oauth-authorization-server"), f);
  // RFC 8414 §3.3: the document must name the issuer it was fetched for.
  if (m.issuer !== issuer.replace(/\/$/, "") && m.issuer !== issuer)
    throw new OAuthClientError(
      "discovery_failed",
      `metadata names issuer ${String(m.issuer)}, not ${issuer}`,
    );
  if (typeof m.token_endpoint !== "string")
    throw new OAuthClientError("discovery_failed", "metadata has no token_endpoint");
  return m as AuthorizationServerMetadata;
}

/** The `resource_metadata` parameter of a `WWW-Authenticate: Bearer …` challenge (RFC 9728 §5.1). */
function resourceMetadataUrl(challenge: string | null): string | undefined {
  return challenge ? /resource_metadata="([^"]+)"/i.exec(challenge)?.[1] : undefined;
}

/**
 * From an MCP server's URL: an unauthenticated request gets 401 with the
 * metadata URL (RFC 9728 §5.1; else the well-known URL of §3.1), whose
 * `authorization_servers` names the issuer.
 */
export async function discoverFromResource(url: string, f: Fetch = fetch): Promise<Discovered> {
  let challenge: string | null = null;
  try {
    const res = await f(url, {
      method: "GET",
      headers: { accept: "application/json, text/event-stream" },
    });
    challenge = res.status === 401 ? res.headers.get("www-authenticate") : null;
    await res.body?.cancel();
  } catch (cause) {
    throw new OAuthClientError("network_error", `cannot reach ${url}`, undefined, { cause });
  }
  const prmUrl = resourceMetadataUrl(challenge) ?? wellKnown(url, "oauth-protected-resource");
  const prm = await getJson(prmUrl, f);
  const servers = prm.authorization_servers;
  if (!Array.isArray(servers) || typeof servers[0] !== "string")
    throw new OAuthClientError("discovery_failed", `${prmUrl} names no authorization_servers`);
  // RFC 9728 §3.3: the metadata must be about the resource we asked (same origin at least).
  const resource = typeof prm.resource === "string" ? prm.resource : url;
  if (new URL(resource).origin !== new URL(url).origin)
    throw new OAuthClientError("discovery_failed", `${prmUrl} describes ${resource}, not ${url}`);
  return { metadata: await discoverIssuer(servers[0], f), resource };
}
